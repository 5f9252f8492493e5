//! The contract test: what the client sends follows the official spec's request schemas
//! (`../shared/specs/digitalocean/bundled.json`). Every wire test already checks each request it
//! records (see `common::recorded`); these cases prove the check bites, on the client's own
//! request types: an unknown field, a wrong type, a missing required field, a bad query or
//! path parameter are all violations.

use compute_digitalocean::types::{
    ActionRequest, CreateDropletRequest, CreateKeyRequest, CreateTagRequest, ImageRef, KeyRef,
};
use serde_json::{Value, json};

use crate::common::spec_doc;

fn violations(method: &str, path: &str, query: &[(&str, &str)], body: Option<&Value>) -> Vec<String> {
    let q: Vec<(String, String)> = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    spec_doc().check_request(method, path, &q, body)
}

fn create_body() -> Value {
    serde_json::to_value(CreateDropletRequest {
        name: "web-1".into(),
        region: "nyc3".into(),
        size: "s-1vcpu-1gb".into(),
        image: ImageRef::Id(6_372_321),
        ssh_keys: vec![
            KeyRef::Id(512_189),
            KeyRef::Fingerprint("3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45".into()),
        ],
        user_data: Some("#cloud-config\n".into()),
        tags: vec!["cg-tenant-a".into()],
    })
    .unwrap()
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

#[test]
fn the_clients_droplet_create_body_conforms_and_every_deviation_is_caught() {
    assert_eq!(violations("POST", "/v2/droplets", &[], Some(&create_body())), Vec::<String>::new());
    let mut missing = create_body();
    missing.as_object_mut().unwrap().remove("size");
    let bad = [
        ("an unknown field", with(create_body(), "labels", json!({"cg_owner": "0xabc"}))),
        ("an unknown field", with(create_body(), "env", json!({}))),
        ("a float key id", with(create_body(), "ssh_keys", json!([1.5]))),
        ("tags as a string", with(create_body(), "tags", json!("cg-tenant-a"))),
        ("a boolean image", with(create_body(), "image", json!(true))),
        ("a numeric size", with(create_body(), "size", json!(1))),
        ("a name outside the pattern", with(create_body(), "name", json!("bad_name"))),
        ("user_data as an object", with(create_body(), "user_data", json!({"a": 1}))),
        ("a missing size", missing),
    ];
    for (what, body) in bad {
        assert!(!violations("POST", "/v2/droplets", &[], Some(&body)).is_empty(), "{what} must be refused: {body}");
    }
    assert!(!violations("POST", "/v2/account/keys", &[], None).is_empty(), "a body the spec requires");
}

#[test]
fn the_clients_action_key_and_tag_bodies_conform_and_deviations_are_caught() {
    let resize = serde_json::to_value(ActionRequest {
        kind: "resize",
        name: None,
        size: Some("s-2vcpu-4gb".into()),
        disk: Some(false),
    })
    .unwrap();
    let snapshot = serde_json::to_value(ActionRequest {
        kind: "snapshot",
        name: Some("cg-tenant-a:nightly".into()),
        size: None,
        disk: None,
    })
    .unwrap();
    for kind in ["power_on", "power_off", "shutdown", "reboot"] {
        let b = serde_json::to_value(ActionRequest::plain(kind)).unwrap();
        assert_eq!(violations("POST", "/v2/droplets/3164444/actions", &[], Some(&b)), Vec::<String>::new(), "{kind}");
    }
    for b in [&resize, &snapshot] {
        assert_eq!(violations("POST", "/v2/droplets/3164444/actions", &[], Some(b)), Vec::<String>::new(), "{b}");
    }
    for bad in [
        json!({"type": "teleport"}),
        json!({"type": "reboot", "force": true}),
        json!({"type": "resize", "size": "s", "disk": "no"}),
        json!({}),
    ] {
        assert!(!violations("POST", "/v2/droplets/3164444/actions", &[], Some(&bad)).is_empty(), "{bad}");
    }
    let key = serde_json::to_value(CreateKeyRequest {
        name: "cg-tenant-a:laptop".into(),
        public_key: "ssh-ed25519 AAAA".into(),
    })
    .unwrap();
    assert_eq!(violations("POST", "/v2/account/keys", &[], Some(&key)), Vec::<String>::new());
    assert!(
        !violations("POST", "/v2/account/keys", &[], Some(&with(key.clone(), "id", json!(5)))).is_empty(),
        "id is read-only"
    );
    assert!(!violations("POST", "/v2/account/keys", &[], Some(&with(key, "public_key", json!(5)))).is_empty());
    let tag = serde_json::to_value(CreateTagRequest { name: "cg-tenant-a".into() }).unwrap();
    assert_eq!(violations("POST", "/v2/tags", &[], Some(&tag)), Vec::<String>::new());
    assert!(!violations("POST", "/v2/tags", &[], Some(&json!({"name": "a b"}))).is_empty(), "the tag pattern");
}

#[test]
fn query_and_path_parameters_are_checked() {
    let ok = [
        ("GET", "/v2/droplets", vec![("tag_name", "cg-tenant-a"), ("per_page", "200"), ("page", "2")]),
        ("DELETE", "/v2/droplets", vec![("tag_name", "cg-tenant-a")]),
        ("GET", "/v2/snapshots", vec![("resource_type", "droplet"), ("per_page", "200")]),
        ("GET", "/v2/images", vec![("type", "distribution"), ("per_page", "200")]),
        ("GET", "/v2/sizes", vec![("per_page", "200")]),
        ("GET", "/v2/droplets/3164444", vec![]),
        ("GET", "/v2/actions/36804636", vec![]),
        ("GET", "/v2/account/keys/3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45", vec![]),
        ("DELETE", "/v2/tags/cg-tenant-a", vec![]),
    ];
    for (m, p, q) in ok {
        assert_eq!(violations(m, p, &q, None), Vec::<String>::new(), "{m} {p} {q:?}");
    }
    let bad = [
        ("GET", "/v2/droplets", vec![("per_page", "500")]),
        ("GET", "/v2/droplets", vec![("per_page", "many")]),
        ("GET", "/v2/droplets", vec![("tag", "cg-tenant-a")]),
        ("GET", "/v2/snapshots", vec![("resource_type", "machine")]),
        ("GET", "/v2/images", vec![("type", "snapshot")]),
        ("GET", "/v2/droplets/abc", vec![]),
        ("GET", "/v2/droplets/0", vec![]),
        ("DELETE", "/v2/tags/a%20b", vec![]),
        ("PATCH", "/v2/droplets/1", vec![]),
    ];
    for (m, p, q) in bad {
        assert!(!violations(m, p, &q, None).is_empty(), "{m} {p} {q:?} must be refused");
    }
}
