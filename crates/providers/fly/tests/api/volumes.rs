//! Volumes.

use compute_core::ErrorKind;
use compute_core::provider::{VolumeSpec, Volumes};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{app_path, provider, recorded, reply, tenant};

const VOL: &str = "vol_4y5l0k8n9m7r3q1p";

#[tokio::test]
async fn volume_calls_map_both_ways() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(app_path("/volumes")))
        .respond_with(reply(200, "volume.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path("/volumes")))
        .respond_with(reply(200, "volume_list.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(app_path(&format!("/volumes/{VOL}"))))
        .respond_with(reply(200, "volume.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("PUT"))
        .and(path(app_path(&format!("/volumes/{VOL}/extend"))))
        .respond_with(reply(200, "volume_extend.json"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path(app_path(&format!("/volumes/{VOL}"))))
        .respond_with(reply(200, "volume.json"))
        .expect(1)
        .mount(&s)
        .await;
    let p = provider(&s);
    let spec = VolumeSpec { name: "data".into(), region: "ams".into(), size_gb: 10, snapshot_id: None };
    let v = p.create_volume(&tenant(), &spec).await.unwrap();
    assert_eq!((v.id.as_str(), v.size_gb, v.state.as_str()), (VOL, 10, "created"));
    assert_eq!(v.attached_machine_id.as_deref(), Some("3d8d9016b11e89"));
    assert_eq!(v.raw["fstype"], "ext4");
    let list = p.list_volumes(&tenant()).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].attached_machine_id, None);
    assert_eq!(p.get_volume(&tenant(), VOL).await.unwrap().region, "ams");
    let (grown, needs_restart) = p.extend_volume(&tenant(), VOL, 20).await.unwrap();
    assert_eq!(grown.size_gb, 20);
    assert!(needs_restart);
    p.delete_volume(&tenant(), VOL).await.unwrap();
    insta::assert_json_snapshot!("volumes", recorded(&s).await);
}

#[tokio::test]
async fn volume_create_is_sent_once_and_sizes_are_checked() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).expect(1).mount(&s).await;
    Mock::given(method("DELETE")).respond_with(reply(404, "error_not_found.json")).expect(1).mount(&s).await;
    let p = provider(&s);
    let spec = VolumeSpec { name: "data".into(), region: "ams".into(), size_gb: 3, snapshot_id: Some("vs_1".into()) };
    assert_eq!(p.create_volume(&tenant(), &spec).await.unwrap_err().kind(), ErrorKind::Provider);
    let zero = VolumeSpec { size_gb: 0, ..spec };
    assert_eq!(p.create_volume(&tenant(), &zero).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(p.extend_volume(&tenant(), VOL, 0).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    p.delete_volume(&tenant(), VOL).await.unwrap();
    insta::assert_json_snapshot!("volume_create_failed", recorded(&s).await);
}
