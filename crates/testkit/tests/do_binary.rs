//! The `do-fake` binary: prints its address, serves, and stops on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn get(addr: &str, path: &str, token: Option<&str>) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn the_binary_prints_its_address_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_do-fake"))
        .args(["--listen", "127.0.0.1:0", "--token", "bin-token", "--transition-ms", "10", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line:?}")).to_owned();

    let answer = get(&addr, "/v2/droplets/1", Some("bin-token"));
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains(r#""id":"not_found""#), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("x-request-id:"), "{answer}");
    assert!(get(&addr, "/v2/sizes", Some("bin-token")).contains(r#""slug":"s-1vcpu-1gb""#));
    assert!(get(&addr, "/v2/droplets", None).starts_with("HTTP/1.1 401"));

    #[cfg(unix)]
    {
        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(exit) = child.try_wait().unwrap() {
                assert!(exit.success(), "{exit:?}");
                break;
            }
            assert!(Instant::now() < deadline, "do-fake did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    #[cfg(not(unix))]
    {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

#[test]
fn the_binary_needs_a_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_do-fake")).env_remove("DO_FAKE_TOKEN").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("token is required"));
}
