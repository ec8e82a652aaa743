//! Issue 15, F1: memory stays bounded under a burst of credential creates. Every argon2
//! computation (~19 MiB of working memory) runs on the fixed pool whose threads reuse their
//! buffers, so the resident size of the real binary, read from `/proc/PID/status` while it runs
//! as a subprocess, stays small however many creates arrive at once, and comes back down after.
//! Before the fix, hashing on the blocking pool took 100 concurrent creates to 1.87 GB.

use crate::{
    binary,
    helpers::{MAIN_SID, MAIN_TOKEN},
};

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
    let dir = tempfile::tempdir().unwrap();
    let server = binary::spawn(&dir.path().join("m.db"), |c| {
        c.env("LOCALTWILIO_LOG", "warn");
    })
    .ready()
    .await;
    let pid = server.child.id();
    let base = server.base.clone();
    let client = reqwest::Client::new();
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
    server.kill();
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
