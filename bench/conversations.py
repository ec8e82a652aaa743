#!/usr/bin/env python3
"""Conversations core benchmark (issue 17), beside bench/run.py and with its wrk driver: a
release server on a temporary SQLite database holding one conversation of 100,000 messages and a
user in 500 conversations (rows written straight into the file while the server is stopped, so
setting up takes seconds), then, as ratios to the same run's /healthz ceiling: message create
(durable, group commit), the first and the 1,000th page of the big conversation's messages, a
user fetch, that user's conversation list and one of its user conversations.

    cargo build --release --bin localtwilio && python3 bench/conversations.py

BENCH_RUNS / BENCH_SECONDS as in run.py. Leaves the table in bench/last-run-conversations.md."""

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402  (the wrk driver, helpers and settings of the main benchmark)

SID = "AC" + "b" * 32
TOKEN = "0123456789abcdef0123456789abcdef"
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "100000"))
MEMBERSHIPS = int(os.environ.get("BENCH_MEMBERSHIPS", "500"))
PAGE = 50


def sid(prefix):
    return prefix + uuid.uuid4().hex


def start(env, port):
    server = subprocess.Popen([run.BIN], env=dict(env, LOCALTWILIO_LISTEN=f"127.0.0.1:{port}"),
                              stdout=subprocess.DEVNULL)
    while True:
        try:
            if run.timed_get(port, "/healthz", "")[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)


def fill(db_path):
    """The data set, in one transaction: returns (big conversation, post conversation)."""
    db = sqlite3.connect(db_path)
    service = db.execute("select default_chat_service_sid from conversation_configurations "
                         "where account_sid = ?", (SID,)).fetchone()[0]
    role = db.execute("select default_chat_service_role_sid, default_conversation_role_sid "
                      "from conversation_services where sid = ?", (service,)).fetchone()
    now = int(time.time())

    def conversation(name, next_index=0):
        ch = sid("CH")
        db.execute("insert into conversations (sid, service_sid, account_sid, friendly_name, unique_name, "
                   "attributes, state, next_message_index, date_created, date_updated) "
                   "values (?, ?, ?, ?, ?, '{}', 'active', ?, ?, ?)",
                   (ch, service, SID, name, name, next_index, now, now))
        return ch

    big = conversation("big", MESSAGES)
    db.executemany("insert into conversation_messages (sid, conversation_sid, service_sid, account_sid, "
                   "message_index, author, body, attributes, date_created, date_updated) "
                   "values (?, ?, ?, ?, ?, 'system', ?, '{}', ?, ?)",
                   ((sid("IM"), big, service, SID, i, f"message {i}", now, now) for i in range(MESSAGES)))
    post = conversation("post")
    user = sid("US")
    db.execute("insert into conversation_users (sid, service_sid, account_sid, identity, attributes, role_sid, "
               "date_created, date_updated) values (?, ?, ?, 'member', '{}', ?, ?, ?)",
               (user, service, SID, role[0], now, now))
    for n in range(MEMBERSHIPS):
        ch = conversation(f"member-{n}", 3)
        db.execute("insert into conversation_participants (sid, conversation_sid, service_sid, account_sid, "
                   "identity, user_sid, attributes, role_sid, last_read_message_index, date_created, date_updated) "
                   "values (?, ?, ?, ?, 'member', ?, '{}', ?, 0, ?, ?)",
                   (sid("MB"), ch, service, SID, user, role[1], now, now))
        db.executemany("insert into conversation_messages (sid, conversation_sid, service_sid, account_sid, "
                       "message_index, author, body, attributes, date_created, date_updated) "
                       "values (?, ?, ?, ?, ?, 'system', 'x', '{}', ?, ?)",
                       ((sid("IM"), ch, service, SID, i, now, now) for i in range(3)))
    db.commit()
    db.close()
    return big, post


def main():
    tmp = tempfile.mkdtemp(prefix="localtwilio-bench-conv-")
    db = os.path.join(tmp, "bench.db")
    env = dict(os.environ, LOCALTWILIO_DATABASE=db, LOCALTWILIO_LOG="warn",
               LOCALTWILIO_ACCOUNT_SID=SID, LOCALTWILIO_AUTH_TOKEN=TOKEN)
    port = run.free_port()
    start(env, port).terminate()
    time.sleep(1)
    started = time.perf_counter()
    big, post = fill(db)
    print(f"data: {MESSAGES} messages in one conversation, a user in {MEMBERSHIPS} conversations "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    server = start(env, port)
    auth = run.basic(SID, TOKEN)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        run.timed_get(port, "/v1/Users?PageSize=1", auth)  # the one argon2 check
        form = ('local form = nil\nlocal function headers() if form == nil then form = {} '
                'for k, v in pairs(wrk.headers) do form[k] = v end '
                'form["Content-Type"] = "application/x-www-form-urlencoded" end return form end\n')
        post_message = run.write_script(
            tmp, "post_message",
            form + f'request = function() return wrk.format("POST", "/v1/Conversations/{post}/Messages", '
                   'headers(), "Body=hello&Author=member") end\n')
        # Page 1,000 starts after index PAGE × 999 − 1 (the keyset token the 999th page links to).
        deep_index = PAGE * 999 - 1 if MESSAGES >= PAGE * 1000 else MESSAGES // 2
        scenarios = [
            ("ceiling: GET /healthz", "/healthz", None),
            ("message create (durable)", "/", post_message),
            (f"list messages, first page (PageSize={PAGE})", f"/v1/Conversations/{big}/Messages?PageSize={PAGE}", None),
            (f"list messages, page 1,000 (PageSize={PAGE})",
             f"/v1/Conversations/{big}/Messages?PageSize={PAGE}&Page=999&PageToken=PA{deep_index:x}", None),
            ("fetch user", "/v1/Users/member", None),
            (f"user conversations, list (user in {MEMBERSHIPS}; PageSize=50)", "/v1/Users/member/Conversations", None),
            ("user conversation, fetch", "/v1/Users/member/Conversations/member-250", None),
        ]
        for name, path, script in scenarios:
            print(f"running: {name}", flush=True)
            rows.append((name, run.wrk(base, auth, path, script, server.pid)))
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
