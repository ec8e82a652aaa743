#!/usr/bin/env python3
"""Conversations core benchmark (issue 17), beside bench/run.py and with its wrk driver: a
release server on a temporary SQLite database holding one conversation of 100,000 messages and a
user in 500 conversations (made by two `seed --generate` runs, so setting up takes seconds), then, as ratios to the same run's /healthz ceiling: message create
(durable, group commit), the first and the 1,000th page of the big conversation's messages, a
user fetch, that user's conversation list and one of its user conversations.

    cargo build --release --bin localtwilio && python3 bench/conversations.py

BENCH_RUNS / BENCH_SECONDS as in run.py. Leaves the table in bench/last-run-conversations.md."""

import os
import json
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402  (the wrk driver, helpers and settings of the main benchmark)

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "100000"))
MEMBERSHIPS = int(os.environ.get("BENCH_MEMBERSHIPS", "500"))
PAGE = 50


def start(env, port):
    server = subprocess.Popen([run.BIN], env=dict(env, LOCALTWILIO_LISTEN=f"127.0.0.1:{port}"),
                              stdout=subprocess.DEVNULL)
    while True:
        try:
            if run.timed_get(port, "/healthz", "")[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)


def generate(env, db_path, seed, *sizes):
    """One `seed --generate` run into the benchmark's database; returns its one account."""
    manifest = os.path.join(os.path.dirname(db_path), f"manifest-{seed}.json")
    subprocess.run([run.BIN, "seed", "--generate", "--manifest", manifest, "--seed", str(seed),
                    "--accounts", "1", "--flows", "0", "--end-users", "0", "--keys", "0", *sizes],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    with open(manifest) as f:
        return json.load(f)["accounts"][0]


def fill(env, db_path):
    """The data set, from two `seed --generate` runs (their own accounts): one conversation of
    MESSAGES messages; and 10 users in MEMBERSHIPS × 10 conversations of 3 messages, so that
    each user is in MEMBERSHIPS of them (conversation i holds user i mod 10). Returns the big
    conversation's account and SID, and the members' account."""
    big = generate(env, db_path, 1, "--users", "1", "--conversations", "1", "--participants", "1",
                   "--messages", str(MESSAGES))
    members = generate(env, db_path, 2, "--users", "10", "--conversations", str(MEMBERSHIPS * 10),
                       "--participants", "1", "--messages", "3")
    return big, members


def main():
    tmp = tempfile.mkdtemp(prefix="localtwilio-bench-conv-")
    db = os.path.join(tmp, "bench.db")
    env = dict(os.environ, LOCALTWILIO_DATABASE=db, LOCALTWILIO_LOG="warn")
    port = run.free_port()
    started = time.perf_counter()
    big, members = fill(env, db)
    print(f"data: {MESSAGES} messages in one conversation, a user in {MEMBERSHIPS} conversations "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    server = start(env, port)
    auth = run.basic(big["sid"], big["auth_token"])
    member_auth = run.basic(members["sid"], members["auth_token"])
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        run.timed_get(port, "/v1/Users?PageSize=1", auth)  # the one argon2 check of each account
        run.timed_get(port, "/v1/Users?PageSize=1", member_auth)
        form = ('local form = nil\nlocal function headers() if form == nil then form = {} '
                'for k, v in pairs(wrk.headers) do form[k] = v end '
                'form["Content-Type"] = "application/x-www-form-urlencoded" end return form end\n')
        # Messages are posted to a members' conversation, by its participant (user 0).
        post = members["sample_conversation_sids"][0]
        member = "user-0-0000000"
        post_message = run.write_script(
            tmp, "post_message",
            form + f'request = function() return wrk.format("POST", "/v1/Conversations/{post}/Messages", '
                   f'headers(), "Body=hello&Author={member}") end\n')
        big_sid = big["sample_conversation_sids"][0]
        # Page 1,000 starts after index PAGE × 999 − 1 (the keyset token the 999th page links to).
        deep_index = PAGE * 999 - 1 if MESSAGES >= PAGE * 1000 else MESSAGES // 2
        # User 0 is in conversations 0, 10, 20 …; one from the middle of its list.
        middle = f"conversation-0-{MEMBERSHIPS * 5:07}"
        scenarios = [
            ("ceiling: GET /healthz", "/healthz", None, auth),
            ("message create (durable)", "/", post_message, member_auth),
            (f"list messages, first page (PageSize={PAGE})", f"/v1/Conversations/{big_sid}/Messages?PageSize={PAGE}", None, auth),
            (f"list messages, page 1,000 (PageSize={PAGE})",
             f"/v1/Conversations/{big_sid}/Messages?PageSize={PAGE}&Page=999&PageToken=PA{deep_index:x}", None, auth),
            ("fetch user", f"/v1/Users/{member}", None, member_auth),
            (f"user conversations, list (user in {MEMBERSHIPS}; PageSize=50)", f"/v1/Users/{member}/Conversations", None, member_auth),
            ("user conversation, fetch", f"/v1/Users/{member}/Conversations/{middle}", None, member_auth),
        ]
        for name, path, script, credentials in scenarios:
            print(f"running: {name}", flush=True)
            rows.append((name, run.wrk(base, credentials, path, script, server.pid)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    ceiling = rows[0][1]["rps"]
    lines = [
        f"Conversations core benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs (shared with other builds: absolute numbers vary, ratios less so), "
        f"{run.RUNS} runs × {run.DURATION} s, {run.CONNECTIONS} connections, median run, "
        f"binary {os.path.relpath(run.BIN, run.ROOT)}:",
        "",
        "| scenario | req/s | × ceiling | p50 ms | p99 ms | errors | server CPU µs/req | server RSS MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in rows:
        lines.append(f"| {name} | {r['rps']:.0f} | {r['rps'] / ceiling:.2f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                     f"{r['errors']} | {r['cpu_us']:.0f} | {r['rss_mib']:.0f} |")
    out = "\n".join(lines)
    print(out)
    with open(os.path.join(run.ROOT, "bench", "last-run-conversations.md"), "w") as f:
        f.write(out + "\n")


if __name__ == "__main__":
    main()
