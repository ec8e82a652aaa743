//! Issue 15, F1: memory stays bounded under a burst of credential creates. Every argon2
//! computation (~19 MiB of working memory) runs on the fixed pool whose threads reuse their
//! buffers, so the resident size of the real binary, read from `/proc/PID/status` while it runs
//! as a subprocess, stays small however many creates arrive at once, and comes back down after.
//! Before the fix, hashing on the blocking pool took 100 concurrent creates to 1.87 GB.

use std::{process::Stdio, time::Duration};

use crate::helpers::{MAIN_SID, MAIN_TOKEN};

const MIB: u64 = 1024 * 1024;

/// A field of `/proc/PID/status` (kB) in bytes.
fn proc_status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    kib * 1024
}

#[tokio::test]
async fn two_hundred_concurrent_key_creates_keep_peak_memory_under_256_mib() {
    localtwilio::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_localtwilio"))
        .env("LOCALTWILIO_DATABASE", dir.path().join("m.db"))
        .env("LOCALTWILIO_LISTEN", format!("127.0.0.1:{port}"))
        .env("LOCALTWILIO_ACCOUNT_SID", MAIN_SID)
        .env("LOCALTWILIO_AUTH_TOKEN", MAIN_TOKEN)
        .env("LOCALTWILIO_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..500 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(up, "the server did not start");
    // The credential is verified (and cached) once, before the burst.
    let account = format!("{base}/2010-04-01/Accounts/{MAIN_SID}.json");
    let warm = client
        .get(&account)
        .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    let before = proc_status_bytes(pid, "VmRSS:");

    let keys = format!("{base}/2010-04-01/Accounts/{MAIN_SID}/Keys.json");
    let creates: Vec<_> = (0..200)
        .map(|n| {
            let request = client
                .post(&keys)
                .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
                .form(&[("FriendlyName", format!("burst {n}"))]);
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    for create in creates {
        assert_eq!(create.await.unwrap(), 201);
    }
    let peak = proc_status_bytes(pid, "VmHWM:");
    let after = proc_status_bytes(pid, "VmRSS:");
    let _ = child.kill().await;
    eprintln!(
        "RSS before {} MiB, peak {} MiB, after {} MiB",
        before / MIB,
        peak / MIB,
        after / MIB
    );
    assert!(peak < 256 * MIB, "peak RSS {} MiB", peak / MIB);
    // What stays is the pool's buffers (one per thread, two by default) and small change.
    assert!(
        after < before + 64 * MIB,
        "RSS {} MiB after the burst, {} MiB before",
        after / MIB,
        before / MIB
    );
}
