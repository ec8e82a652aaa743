#!/usr/bin/env python3
"""localtwilio benchmark: builds nothing itself (bench/run.sh does), seeds a deterministic data
set, starts the release server on a temporary database, drives it with wrk from another process
on loopback, and prints one table (scenario, req/s, ratio to the ceiling, p50, p99, errors,
server CPU µs per request, server RSS). Each wrk scenario runs RUNS times; the median run (by
req/s) is reported. Bounded: every load runs DURATION seconds; nothing leaves 127.0.0.1.

PostgreSQL (issue 16): BENCH_POSTGRES=<admin URL> runs the same scenarios on a fresh database
of that server (created with psql, dropped afterwards); BENCH_INSTANCES=2 starts two servers on
it behind HAProxy (round robin) and drives the balancer. Server CPU and RSS are then summed over
the instances; PostgreSQL's own CPU is not counted in them. The table goes to BENCH_OUTPUT
(default bench/last-run.md)."""

import base64
import glob
import http.client
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.environ.get("LOCALTWILIO_BIN", os.path.join(ROOT, "target", "release", "localtwilio"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
DURATION = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = 64
SIZES = ["--accounts", os.environ.get("BENCH_ACCOUNTS", "10"), "--users", os.environ.get("BENCH_USERS", "100000"),
         "--flows", os.environ.get("BENCH_FLOWS", "10000"), "--end-users", os.environ.get("BENCH_END_USERS", "100000"),
         "--keys", "64", "--seed", "1"]
TICKS = os.sysconf("SC_CLK_TCK")
# BENCH_ONLY="message,fetch user by SID": only the scenarios whose names contain one of these
# (the ceiling always runs; the cold start and the flood are skipped).
ONLY = [part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()]
POSTGRES = os.environ.get("BENCH_POSTGRES", "")
INSTANCES = int(os.environ.get("BENCH_INSTANCES", "1"))
OUTPUT = os.environ.get("BENCH_OUTPUT", os.path.join(ROOT, "bench", "last-run.md"))
# The flood's client address: any loopback address other than wrk's 127.0.0.1.
FLOOD_SOURCE = os.environ.get("BENCH_FLOOD_SOURCE", "127.0.0.2")


def psql(admin_url, statement):
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    subprocess.run([bins[-1] if bins else "psql", "-q", "-v", "ON_ERROR_STOP=1", admin_url, "-c", statement], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic(user, secret):
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def cpu_ticks(pid):
    """utime + stime of one process, or summed over a list of them (the instances)."""
    if isinstance(pid, list):
        return sum(cpu_ticks(p) for p in pid)
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def memory_kib(pid, field):
    if isinstance(pid, list):
        return sum(memory_kib(p, field) for p in pid)
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def lua_list(name, values):
    return f"local {name} = {{" + ",".join(json.dumps(v) for v in values) + "}\n"


def write_script(tmp, name, body):
    path = os.path.join(tmp, name + ".lua")
    with open(path, "w") as f:
        f.write(body)
    return path


def parse_wrk(out):
    def duration_ms(text):
        m = re.match(r"([\d.]+)(us|ms|s|m)", text)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = duration_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = duration_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return {"rps": rps, "total": total, "p50": p50, "p99": p99, "errors": errors}


def wrk(base, auth, path, script=None, pid=None):
    runs = []
    for _ in range(RUNS):
        cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", "-H", f"Authorization: {auth}"]
        if script:
            cmd += ["-s", script]
        before = cpu_ticks(pid)
        out = subprocess.run(cmd + [base + path], capture_output=True, text=True, timeout=DURATION + 30).stdout
        used = cpu_ticks(pid) - before
        result = parse_wrk(out)
        result["cpu_us"] = used / TICKS * 1e6 / max(result["total"], 1)
        result["rss_mib"] = memory_kib(pid, "VmRSS") / 1024
        runs.append(result)
    runs.sort(key=lambda r: r["rps"])
    return runs[len(runs) // 2]


def timed_get(port, path, auth, source=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0) if source else None)
    start = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": auth})
    status = conn.getresponse().status
    elapsed = (time.perf_counter() - start) * 1000
    conn.close()
    return status, elapsed


def call(port, method, path, auth, form=None):
    """One request; returns (status, JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": auth}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data else None


def studio_state(name, kind, properties, transitions):
    return {"name": name, "type": kind, "properties": properties, "transitions": transitions}


# The issue's 6-widget flow: trigger -> set-variables -> split -> send-message -> end.
SIX_WIDGET_FLOW = {"initial_state": "Trigger", "states": [
    studio_state("Trigger", "trigger", {}, [{"event": "incomingRequest", "next": "vars"}]),
    studio_state("vars", "set-variables", {"variables": [{"key": "greeting", "value": "Hello {{flow.data.name}}"}]},
                 [{"event": "next", "next": "route"}]),
    studio_state("route", "split-based-on", {"input": "{{flow.data.lang}}"},
                 [{"event": "noMatch", "next": "english"},
                  {"event": "match", "next": "spanish", "conditions": [
                      {"friendly_name": "es", "arguments": ["{{flow.data.lang}}"], "type": "equal_to", "value": "es"}]}]),
    studio_state("english", "send-message", {"body": "{{flow.variables.greeting}}"}, [{"event": "sent"}, {"event": "failed"}]),
    studio_state("spanish", "send-message", {"body": "Hola {{flow.data.name}}"}, [{"event": "sent"}, {"event": "failed"}]),
]}

# Two widgets in a loop: the execution ends at Studio's 1,000-step limit.
THOUSAND_STEP_FLOW = {"initial_state": "Trigger", "states": [
    studio_state("Trigger", "trigger", {}, [{"event": "incomingRequest", "next": "a"}]),
    studio_state("a", "set-variables", {"variables": [{"key": "i", "value": "{{flow.variables.i | plus: 1}}"}]},
                 [{"event": "next", "next": "b"}]),
    studio_state("b", "split-based-on", {"input": "x"}, [{"event": "noMatch", "next": "a"}]),
]}


def studio_setup(port, auth):
    """A published 6-widget flow (its executions path), and the first and last pages (PageSize=50)
    of the steps of a 1,000-step execution."""
    def flow(definition):
        status, body = call(port, "POST", "/v2/Flows", auth,
                            {"FriendlyName": "bench", "Status": "published", "Definition": json.dumps(definition)})
        assert status == 201, body
        return body["sid"]
    six = flow(SIX_WIDGET_FLOW)
    thousand = flow(THOUSAND_STEP_FLOW)
    status, execution = call(port, "POST", f"/v2/Flows/{thousand}/Executions", auth, {"To": "+15550009999", "From": "+15550000000"})
    assert status == 201, execution
    page = f"/v2/Flows/{thousand}/Executions/{execution['sid']}/Steps?PageSize=50"
    first, last, pages = page, page, 1
    while True:
        status, body = call(port, "GET", last, auth)
        assert status == 200, body
        following = body["meta"]["next_page_url"]
        if not following:
            break
        last = "/" + following.split("/", 3)[3]
        pages += 1
    assert pages == 20, pages
    return f"/v2/Flows/{six}/Executions", first, last


def fsync_reference(tmp):
    """One durable insert per transaction (WAL, synchronous=FULL) on this machine's disk."""
    db = sqlite3.connect(os.path.join(tmp, "fsync.db"), isolation_level=None)
    db.execute("pragma journal_mode=wal")
    db.execute("pragma synchronous=full")
    db.execute("create table t (id integer primary key, v text)")
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 3:
        db.execute("begin")
        db.execute("insert into t (v) values ('x')")
        db.execute("commit")
        n += 1
    return n / (time.perf_counter() - start)


class Skipped(Exception):
    """The rest of the run is left out (BENCH_ONLY)."""


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (bench/run.sh installs it)")
    tmp = tempfile.mkdtemp(prefix="localtwilio-bench-")
    db = os.path.join(tmp, "bench.db")
    env = dict(os.environ, LOCALTWILIO_DATABASE=db, LOCALTWILIO_LOG="warn")
    pg_name = None
    if POSTGRES:
        pg_name = f"lt_bench_{os.getpid()}"
        psql(POSTGRES, f"create database {pg_name}")
        env.update(LOCALTWILIO_DATABASE=POSTGRES.rsplit("/", 1)[0] + "/" + pg_name,
                   LOCALTWILIO_SECRET_KEY="cd" * 32)
    print(f"seeding {' '.join(SIZES)} ...", flush=True)
    seed = subprocess.run([BIN, "seed", "--generate", *SIZES, "--manifest", os.path.join(tmp, "manifest.json")],
                          env=env, capture_output=True, text=True)
    if seed.returncode != 0:
        sys.exit(seed.stderr)
    print(seed.stderr.strip(), flush=True)
    # The load-test team starts from a database that already exists: let the kernel write back
    # what the generation left dirty (gigabytes at 10 million users) before measuring, or the
    # first scenarios' fsyncs queue behind that writeback (seen: the fsync reference at half its
    # rate, durable creates at a third).
    os.sync()
    manifest = json.load(open(os.path.join(tmp, "manifest.json")))
    account = manifest["accounts"][0]
    auth = basic(account["sid"], account["auth_token"])

    ports = [free_port() for _ in range(INSTANCES)]
    started = time.perf_counter()
    servers = [subprocess.Popen([BIN], env=dict(env, LOCALTWILIO_LISTEN=f"127.0.0.1:{p}"), stdout=subprocess.DEVNULL)
               for p in ports]
    balancer = None
    port = ports[0]
    if INSTANCES > 1:
        port = free_port()
        config = os.path.join(tmp, "haproxy.cfg")
        with open(config, "w") as f:
            f.write("global\n    maxconn 4096\ndefaults\n    mode http\n    timeout connect 5s\n"
                    "    timeout client 60s\n    timeout server 60s\n    option http-keep-alive\n"
                    f"frontend api\n    bind 127.0.0.1:{port}\n    default_backend lt\n"
                    "backend lt\n    balance roundrobin\n"
                    + "".join(f"    server i{i} 127.0.0.1:{p}\n" for i, p in enumerate(ports)))
        balancer = subprocess.Popen(["haproxy", "-f", config], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for p in ports + ([port] if balancer else []):
            while True:
                try:
                    if timed_get(p, "/healthz", "")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
        pid = [s.pid for s in servers] if INSTANCES > 1 else servers[0].pid
        for p in ports:
            timed_get(p, "/v1/Users?PageSize=1", auth)  # each instance's one argon2 check
        # Issue 21: the server opens the (possibly 10-million-row) database and answers its first
        # authenticated request; includes one argon2 check and the process start.
        first_answer_ms = (time.perf_counter() - started) * 1000

        sids = lua_list("sids", account["sample_user_sids"])
        identities = lua_list("ids", account["sample_identities"])
        flows = lua_list("flows", account["sample_flow_sids"])
        # Each wrk thread gets its own id from setup(); with the clock it makes identities unique
        # across threads and runs.
        counter = ('local threads = 0\nfunction setup(thread) threads = threads + 1; thread:set("tid", threads) end\n'
                   'local n = 0\nlocal tag = nil\n')
        # wrk.format replaces the default headers when given a table, so copy -H's Authorization.
        form = ('local form = nil\nlocal function headers() if form == nil then form = {} '
                'for k, v in pairs(wrk.headers) do form[k] = v end '
                'form["Content-Type"] = "application/x-www-form-urlencoded" end return form end\n')
        executions, first_steps, last_steps = studio_setup(port, auth)
        scripts = {
            "by_sid": write_script(tmp, "by_sid", sids + 'request = function() return wrk.format("GET", "/v1/Users/" .. sids[math.random(#sids)]) end\n'),
            "by_identity": write_script(tmp, "by_identity", identities + 'request = function() return wrk.format("GET", "/v1/Users/" .. ids[math.random(#ids)]) end\n'),
            "create_user": write_script(tmp, "create_user", form + counter + 'request = function() n = n + 1\n if tag == nil then tag = os.time() .. "-" .. tostring(tid) end\n return wrk.format("POST", "/v1/Users", headers(), "Identity=bench-" .. tag .. "-" .. n) end\n'),
            "test_users": write_script(tmp, "test_users", form + flows + 'request = function() return wrk.format("POST", "/v2/Flows/" .. flows[math.random(#flows)] .. "/TestUsers", headers(), "TestUsers=%2B15550000001&TestUsers=%2B15550000002&TestUsers=client%3Aalice") end\n'),
            "flow": write_script(tmp, "flow", form + f'local body = "FriendlyName=bench&Status=draft&Definition=" .. {json.dumps(urllib.parse.quote(json.dumps(SIX_WIDGET_FLOW), safe=""))}\n' + 'request = function() return wrk.format("POST", "/v2/Flows", headers(), body) end\n'),
            "end_user": write_script(tmp, "end_user", form + 'request = function() return wrk.format("POST", "/v1/EndUsers", headers(), "FriendlyName=bench&Type=individual&Attributes=%7B%22first_name%22%3A%22B%22%7D") end\n'),
            "message": write_script(tmp, "message", form + f'local path = "/2010-04-01/Accounts/{account["sid"]}/Messages.json"\n' + 'request = function() return wrk.format("POST", path, headers(), "To=%2B15558675310&From=%2B15017122661&Body=Your+code+is+" .. math.random(1e6)) end\n'),
            "execution": write_script(tmp, "execution", form + f'local path = "{executions}"\n' + 'request = function() return wrk.format("POST", path, headers(), "To=%2B1555" .. math.random(1000000, 9999999) .. "&From=%2B15550000000&Parameters=%7B%22name%22%3A%22Ann%22%2C%22lang%22%3A%22es%22%7D") end\n'),
            "mixed": write_script(tmp, "mixed", form + sids + 'request = function() local sid = sids[math.random(#sids)]\n if math.random(10) == 1 then return wrk.format("POST", "/v1/Users/" .. sid, headers(), "FriendlyName=m" .. math.random(1e6)) end\n return wrk.format("GET", "/v1/Users/" .. sid) end\n'),
        }
        scenarios = [
            ("ceiling: GET /healthz", "/healthz", None),
            ("fetch user by SID", "/", scripts["by_sid"]),
            ("fetch user by identity", "/", scripts["by_identity"]),
            ("list users, first page (PageSize=10)", "/v1/Users?PageSize=10", None),
            ("list users, page 1,000 (PageSize=10)", account["deep_users_page"], None),
            ("list users, first page (PageSize=50)", "/v1/Users?PageSize=50", None),
            ("create user (durable)", "/", scripts["create_user"]),
            ("TestUsers update (durable)", "/", scripts["test_users"]),
            ("end-user create (durable)", "/", scripts["end_user"]),
            ("message create (durable)", "/", scripts["message"]),
            ("flow create, 6-widget definition (durable)", "/", scripts["flow"]),
            ("Studio execution create, 6-widget flow (durable)", "/", scripts["execution"]),
            ("Studio steps of a 1,000-step execution, first page (PageSize=50)", first_steps, None),
            ("Studio steps of a 1,000-step execution, last page (PageSize=50)", last_steps, None),
            ("mixed 90% fetch / 10% update", "/", scripts["mixed"]),
        ]
        if ONLY:
            scenarios = [s for i, s in enumerate(scenarios) if i == 0 or any(part in s[0] for part in ONLY)]
        for name, path, script in scenarios:
            print(f"running: {name}", flush=True)
            rows.append((name, wrk(base, auth, path, script, pid)))

        if ONLY:
            raise Skipped
        # Cold start: the first request of 64 distinct credentials at once (each pays argon2).
        print("running: cold start", flush=True)
        latencies = []
        def cold(key):
            latencies.append(timed_get(port, "/v1/Users?PageSize=1", basic(key["sid"], key["secret"])))
        threads = [threading.Thread(target=cold, args=(k,)) for k in manifest["keys"]]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cold_total = (time.perf_counter() - start) * 1000
        cold_ok = sum(1 for s, _ in latencies if s == 200)
        cold_ms = sorted(ms for _, ms in latencies)

        # A flood of wrong passwords (argon2 each) while valid cached traffic continues.
        print("running: wrong-password flood", flush=True)
        stop = threading.Event()
        flood_count = [0]
        wrong = basic(manifest["keys"][0]["sid"], "0" * 32)
        # From another client address than wrk's (the limiter counts per address: issue 21's
        # "from another address"), on kept-alive connections, so what is measured is the
        # server's cost of a limited attempt rather than TCP connection churn.
        def flood():
            conn = None
            while not stop.is_set():
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(FLOOD_SOURCE, 0))
                    conn.request("GET", "/v1/Users?PageSize=1", headers={"Authorization": wrong})
                    conn.getresponse().read()
                    flood_count[0] += 1
                except (OSError, http.client.HTTPException):
                    conn = None
        flooders = [threading.Thread(target=flood) for _ in range(16)]
        for t in flooders:
            t.start()
        peak_rss = [0]
        def watch():
            while not stop.is_set():
                peak_rss[0] = max(peak_rss[0], memory_kib(pid, "VmRSS"))
                time.sleep(0.05)
        watcher = threading.Thread(target=watch)
        watcher.start()
        flood_cpu = os.times()
        flood_row = wrk(base, auth, "/", scripts["by_sid"], pid)
        flood_client_s = (os.times().user - flood_cpu.user) + (os.times().system - flood_cpu.system)
        stop.set()
        for t in flooders + [watcher]:
            t.join()
        flood_row["rss_mib"] = peak_rss[0] / 1024
        rows.append((f"fetch by SID during a wrong-password flood ({flood_count[0]} bad attempts)", flood_row))
        plain = next((r for n, r in rows if n == "fetch user by SID"), None)
        flood_note = (f"- wrong-password flood from {FLOOD_SOURCE} (16 kept-alive connections): {flood_count[0]:,} attempts; "
                      f"fetch during it {flood_row['rps'] / plain['rps']:.2f}× the same fetch without it; "
                      f"the flooding client itself used {flood_client_s:.1f} s of CPU of the shared cores") if plain else None
        hwm = memory_kib(pid, "VmHWM") / 1024
    except Skipped:
        hwm = memory_kib(pid, "VmHWM") / 1024
        cold_ok, cold_ms, cold_total = None, None, None
        flood_note = None
    finally:
        if balancer:
            balancer.terminate()
            balancer.wait(timeout=30)
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        if pg_name:
            psql(POSTGRES, f"drop database if exists {pg_name} with (force)")

    fsync_rate = fsync_reference(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    ceiling = rows[0][1]["rps"]
    lines = [
        "| scenario | req/s | × ceiling | p50 ms | p99 ms | errors | server CPU µs/req | server RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in rows:
        lines.append(f"| {name} | {r['rps']:,.0f} | {r['rps'] / ceiling:.2f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | {r['cpu_us']:.0f} | {r['rss_mib']:.0f} |")
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    summary = [""]
    if cold_ok is not None:
        summary.append(
        f"- cold start, 64 credentials at once: {cold_ok}/64 answered 200; first answer {cold_ms[0]:.0f} ms, median {cold_ms[len(cold_ms)//2]:.0f} ms, last {cold_ms[-1]:.0f} ms (all done in {cold_total:.0f} ms)")
    if flood_note:
        summary.append(flood_note)
    summary += [
        f"- server start to its first authenticated answer (opening the database, one argon2 check): {first_answer_ms:,.0f} ms",
        f"- one-fsync-per-request reference on this disk (SQLite WAL, synchronous=FULL, one insert per transaction): {fsync_rate:,.0f} commits/s",
        f"- server peak RSS (VmHWM) over the whole run, full data set loaded: {hwm:.0f} MiB",
        f"- machine: {os.cpu_count()} cores, {cpu_model}, Linux {platform.release()}; wrk -t2 -c{CONNECTIONS}, {DURATION} s per run, median of {RUNS} runs; data set: {' '.join(SIZES)}",
        f"- backend: {'PostgreSQL' if POSTGRES else 'SQLite'}, {INSTANCES} instance(s){' behind HAProxy (round robin)' if INSTANCES > 1 else ''}; server CPU/RSS {'summed over the instances, ' if INSTANCES > 1 else ''}{'PostgreSQL itself not included' if POSTGRES else ''}",
    ]
    print("\n".join(lines + summary))
    if ONLY and "BENCH_OUTPUT" not in os.environ:
        return  # a partial run does not replace the last full table
    with open(OUTPUT, "w") as f:
        f.write("\n".join(lines + summary) + "\n")


if __name__ == "__main__":
    main()
