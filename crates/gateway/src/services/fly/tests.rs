use super::*;

fn g(kind: CpuKind, cpus: u32, memory_mb: u32) -> Guest {
    Guest { cpu_kind: kind, cpus, memory_mb }
}

#[test]
fn published_sizes_cost_what_the_table_says() {
    use CpuKind::{Performance as P, Shared as S};
    for (guest, setup, rate) in [
        (g(S, 1, 256), "0.10", "0.004"),
        (g(S, 1, 512), "0.11", "0.005"),
        (g(S, 2, 2048), "0.17", "0.014"),
        (g(S, 2, 4096), "0.21", "0.022"),
        (g(S, 4, 8192), "0.37", "0.044"),
        (g(P, 2, 4096), "0.21", "0.028"),
    ] {
        assert_eq!(setup_fee(&guest), setup.parse().unwrap(), "{guest:?}");
        assert_eq!(rate_per_minute(&guest), rate.parse().unwrap(), "{guest:?}");
    }
    assert_eq!(setup_fee(&g(S, 2, 1024)), "0.15".parse().unwrap());
    let q = quote(&g(S, 1, 512), 60, true);
    assert_eq!(q.total, "0.41".parse().unwrap());
    assert_eq!(quote(&g(S, 1, 512), 60, false).total, "0.3".parse().unwrap());
}

fn request(json: &str) -> MachineRequest {
    serde_json::from_str(json).unwrap()
}

#[test]
fn the_seed_example_validates() {
    let req = request(
        r#"{"name":"my-server","region":"sjc","config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]},"guest":{"cpu_kind":"shared","cpus":1,"memory_mb":512}}}"#,
    );
    let (spec, guest, minutes) = validate(&req, |_| false, BTreeMap::new()).unwrap();
    assert_eq!(spec.command, Some(vec!["sleep".to_owned(), "infinity".to_owned()]));
    assert_eq!((guest.cpus, guest.memory_mb, minutes), (1, 512, DEFAULT_TTL_MINUTES));
}

#[test]
fn passthrough_fields_and_bad_values_are_rejected() {
    for bad in [
        r#"{"config":{"image":"x","files":[{"guest_path":"/a","raw_value":"eA=="}]}}"#,
        r#"{"config":{"image":"x","metadata":{"a":"b"}}}"#,
        r#"{"config":{"image":"x","guest":{"cpu_kind":"shared","cpus":1,"memory_mb":256,"gpu_kind":"a100-pcie-40gb"}}}"#,
        r#"{"config":{"image":"x","processes":[]}}"#,
    ] {
        assert!(serde_json::from_str::<MachineRequest>(bad).is_err(), "{bad}");
    }
    for (bad, needle) in [
        (r#"{"config":{"image":"x"},"region":"mars"}"#, "region"),
        (r#"{"config":{"image":"x"},"ttl_minutes":1441}"#, "ttl_minutes"),
        (r#"{"config":{"image":"x"},"ttl_minutes":0}"#, "ttl_minutes"),
        (r#"{"config":{"image":"x","guest":{"cpu_kind":"shared","cpus":16,"memory_mb":4096}}}"#, "vCPUs"),
        (r#"{"config":{"image":"x","guest":{"cpu_kind":"shared","cpus":1,"memory_mb":300}}}"#, "multiple"),
        (r#"{"config":{"image":""}}"#, "image"),
        (r#"{"config":{"image":"x","mounts":[{"volume":"vol_other","path":"/data"}]}}"#, "vol_other"),
    ] {
        let e = validate(&request(bad), |_| false, BTreeMap::new()).unwrap_err();
        assert!(e.to_string().contains(needle), "{bad}: {e}");
    }
    let ok = request(r#"{"config":{"image":"x","mounts":[{"volume":"vol_mine","path":"/data"}]}}"#);
    assert!(validate(&ok, |v| v == "vol_mine", BTreeMap::new()).is_ok());
}
