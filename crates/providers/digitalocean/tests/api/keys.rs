//! Account SSH keys, scoped to the tenant by the `<tag>:` name prefix.

use compute_core::ErrorKind;
use compute_core::provider::SshKeys;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{fixture_json, other_tenant, provider, recorded, reply, tenant};

fn public_key() -> String {
    fixture_json("ssh_key.json")["ssh_key"]["public_key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn create_names_the_key_after_the_tenant_and_shows_it_without_the_prefix() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/account/keys"))
        .and(body_json(serde_json::json!({"name": "cg-tenant-a:laptop", "public_key": public_key()})))
        .respond_with(reply(201, "ssh_key_created.json"))
        .expect(1)
        .mount(&s)
        .await;
    let k = provider(&s).create_key(&tenant(), "laptop", &format!("  {}\n", public_key())).await.unwrap();
    assert_eq!((k.id.as_str(), k.name.as_str()), ("512189", "laptop"));
    assert_eq!(k.fingerprint, "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa");
    insta::assert_json_snapshot!("create_key", recorded(&s).await);
}

#[tokio::test]
async fn a_key_already_on_the_account_is_already_exists_and_bad_keys_are_refused_first() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(reply(422, "error_key_in_use.json")).expect(1).mount(&s).await;
    let p = provider(&s);
    let e = p.create_key(&tenant(), "laptop", &public_key()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    for (name, key) in [
        ("", "ssh-ed25519 AAAA"),
        ("ok", "ssh-ed25519"),
        ("ok", "ssh-ed25519 AAAA\nssh-rsa BBBB"),
        ("a\u{7}", "ssh-ed25519 AAAA"),
    ] {
        assert_eq!(
            p.create_key(&tenant(), name, key).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{name:?} {key:?}"
        );
    }
}

#[tokio::test]
async fn a_create_answered_500_is_reconciled_from_the_key_list() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(reply(500, "error_server.json")).expect(1).mount(&s).await;
    Mock::given(method("GET"))
        .and(path("/v2/account/keys"))
        .respond_with(reply(200, "ssh_keys.json"))
        .expect(1)
        .mount(&s)
        .await;
    let k = provider(&s).create_key(&tenant(), "laptop", &public_key()).await.unwrap();
    assert_eq!(k.id, "512189");
}

#[tokio::test]
async fn list_shows_only_the_tenants_keys() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/account/keys"))
        .respond_with(reply(200, "ssh_keys.json"))
        .expect(2)
        .mount(&s)
        .await;
    let p = provider(&s);
    let mine = p.list_keys(&tenant()).await.unwrap();
    assert_eq!(mine.iter().map(|k| (k.id.as_str(), k.name.as_str())).collect::<Vec<_>>(), [("512189", "laptop")]);
    let theirs = p.list_keys(&other_tenant()).await.unwrap();
    assert_eq!(theirs.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["desktop"]);
    insta::assert_json_snapshot!("list_keys", recorded(&s).await);
}

#[tokio::test]
async fn delete_removes_only_the_tenants_keys_and_an_absent_key_is_fine() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/account/keys/512189"))
        .respond_with(reply(200, "ssh_key.json"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/account/keys/289794"))
        .respond_with(reply(200, "ssh_key_foreign.json"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/account/keys/1"))
        .respond_with(reply(404, "error_not_found.json"))
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/account/keys/512189"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/account/keys/289794"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&s)
        .await;
    let p = provider(&s);
    p.delete_key(&tenant(), "512189").await.unwrap();
    let e = p.delete_key(&tenant(), "289794").await.unwrap_err();
    assert_eq!((e.kind(), e.message()), (ErrorKind::NotFound, "ssh key 289794 not found"));
    p.delete_key(&tenant(), "1").await.unwrap();
    p.delete_key(&tenant(), "../../droplets").await.unwrap();
    insta::assert_json_snapshot!("delete_keys", recorded(&s).await);
}
