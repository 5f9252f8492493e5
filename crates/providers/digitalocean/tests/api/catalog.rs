//! The live catalog: every page of sizes, regions and distribution images; exact prices.

use compute_core::ErrorKind;
use compute_core::provider::{CpuKind, GpuInfo, Provider, RatePeriod};
use compute_digitalocean::DoProvider;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer};

use crate::common::{config, fixture_json, json_reply, provider, recorded, reply};

async fn catalog_server() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/sizes"))
        .and(query_param("per_page", "200"))
        .and(query_param_is_missing("page"))
        .respond_with(reply(200, "sizes_page1.json"))
        .expect(1..)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/sizes"))
        .and(query_param("page", "2"))
        .respond_with(reply(200, "sizes_page2.json"))
        .expect(1..)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/regions"))
        .respond_with(reply(200, "regions.json"))
        .expect(1..)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/images"))
        .and(query_param("type", "distribution"))
        .respond_with(reply(200, "images_distribution.json"))
        .expect(1..)
        .mount(&s)
        .await;
    s
}

#[tokio::test]
async fn the_catalog_follows_every_page_and_keeps_prices_exact() {
    let s = catalog_server().await;
    let c = provider(&s).catalog().await.unwrap();
    let ids: Vec<&str> = c.sizes.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["s-1vcpu-1gb", "s-2vcpu-4gb", "gpu-h100x1-80gb"], "the unavailable s-8vcpu-16gb is left out");
    let small = c.size("s-1vcpu-1gb").unwrap();
    assert_eq!(small.cost.rate.amount.to_string(), "0.00743999984115362", "the JSON number's own digits");
    assert_eq!(small.cost.rate.per, RatePeriod::Hour);
    assert!(small.cost.setup.is_zero());
    assert_eq!(
        (small.vcpus, small.memory_mb, small.disk_gb, small.cpu_kind),
        (1, 1024, Some(25), Some(CpuKind::Shared))
    );
    assert_eq!(c.size("s-2vcpu-4gb").unwrap().cost.rate.amount.to_string(), "0.03571");
    let gpu = c.size("gpu-h100x1-80gb").unwrap();
    assert_eq!(gpu.gpu, Some(GpuInfo { count: 1, model: "nvidia_h100".into(), vram_gb: 80 }));
    assert_eq!((gpu.cpu_kind, gpu.regions.as_slice()), (Some(CpuKind::Performance), ["tor1".to_owned()].as_slice()));
    assert_eq!(gpu.cost.rate.amount.to_string(), "6.74");
    assert_eq!(c.regions.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["nyc1", "nyc3", "tor1"]);
    assert_eq!(c.region("nyc1").unwrap().name, "New York 1");
    let images: Vec<(&str, &str)> = c.images.iter().map(|i| (i.id.as_str(), i.name.as_str())).collect();
    assert_eq!(
        images,
        [("ubuntu-24-04-x64", "Ubuntu 24.04 (LTS) x64"), ("ubuntu-20-04-x64", "Ubuntu 20.04 (LTS) x64")]
    );
    assert_eq!(c.images[0].family.as_deref(), Some("ubuntu"));
    assert_eq!(c.default_region.as_deref(), Some("nyc1"));
    insta::assert_json_snapshot!("catalog", recorded(&s).await);
}

#[tokio::test]
async fn the_catalog_offers_only_sizes_within_the_limits() {
    let s = catalog_server().await;
    let p = DoProvider::new(&config(&s).with_limits(Some(4), Some(4096))).unwrap();
    let c = p.catalog().await.unwrap();
    assert_eq!(c.sizes.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), ["s-1vcpu-1gb", "s-2vcpu-4gb"]);
    assert_eq!((c.limits.max_vcpus, c.limits.max_memory_mb, c.limits.max_volume_gb), (Some(4), Some(4096), None));
}

#[tokio::test]
async fn a_next_link_that_does_not_advance_is_an_error_not_a_loop() {
    let s = MockServer::start().await;
    let mut page = fixture_json("sizes_page1.json");
    page["links"]["pages"]["next"] = "https://api.digitalocean.com/v2/sizes?page=1&per_page=200".into();
    Mock::given(method("GET")).and(path("/v2/sizes")).respond_with(json_reply(200, &page)).expect(1).mount(&s).await;
    let e = provider(&s).catalog().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Provider);
    assert!(e.message().contains("next page link"), "{e}");
}
