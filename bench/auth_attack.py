#!/usr/bin/env python3
"""Authentication under attack (issue 15: F1, F2, F10), measured on the release binary.

  python3 bench/auth_attack.py [path/to/localtwilio]   (default target/release/localtwilio)

Starts the server on a temporary database and measures, from this process over loopback:
- F1: resident memory (VmRSS / VmHWM from /proc/PID/status) before, at the peak of and after a
  burst of 200 concurrent key creates by the main account and 250 by one subaccount, and again
  a few seconds later;
- F2: 500 simultaneous wrong-token requests from one address: how many got 401 and 429, and the
  latency of a first (uncached) valid request from another address and of cached requests from
  the same address meanwhile;
- F10: median latency of an unknown SID against a wrong token for a real SID, interleaved, each
  sample from a fresh loopback address (127.0.1.x) so the failure budget never interferes.
Standard library only. Nothing here asserts: tests/api/auth*.rs hold the rules.
"""
import base64, http.client, json, os, socket, statistics, subprocess, sys, tempfile, threading, time, urllib.parse

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/localtwilio"
SID = "AC" + "b" * 32
TOKEN = "c" * 32


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def mib(kib):
    return f"{kib / 1024:.0f} MiB"


def request(port, method, path, user, secret, form=None, source="127.0.0.1"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(source, 0))
    headers = {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, data, elapsed


def concurrently(n, work):
    results = [None] * n
    gate = threading.Barrier(n)

    def run(i):
        gate.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main():
    tmp = tempfile.mkdtemp()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, LOCALTWILIO_LISTEN=f"127.0.0.1:{port}", LOCALTWILIO_DATABASE=f"{tmp}/db.sqlite",
               LOCALTWILIO_LOG="error", LOCALTWILIO_ACCOUNT_SID=SID, LOCALTWILIO_AUTH_TOKEN=TOKEN)
    server = subprocess.Popen([BIN], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.05)
        pid = server.pid
        account = f"/2010-04-01/Accounts/{SID}.json"
        assert request(port, "GET", account, SID, TOKEN)[0] == 200
        print(f"F1: RSS at rest (main credential verified once): {mib(status_kib(pid, 'VmRSS'))}")

        keys = f"/2010-04-01/Accounts/{SID}/Keys.json"
        started = time.perf_counter()
        statuses = concurrently(200, lambda i: request(port, "POST", keys, SID, TOKEN, {"FriendlyName": f"k{i}"})[0])
        took = time.perf_counter() - started
        print(f"F1: 200 concurrent key creates: {statuses.count(201)} × 201 in {took:.1f} s; "
              f"peak RSS (VmHWM) {mib(status_kib(pid, 'VmHWM'))}, RSS after {mib(status_kib(pid, 'VmRSS'))}")
        status, body, _ = request(port, "POST", "/2010-04-01/Accounts.json", SID, TOKEN, {"FriendlyName": "sub"})
        sub = json.loads(body)
        sub_sid, sub_token = sub["sid"], sub["auth_token"]
        assert request(port, "GET", f"/2010-04-01/Accounts/{sub_sid}.json", sub_sid, sub_token)[0] == 200
        sub_keys = f"/2010-04-01/Accounts/{sub_sid}/Keys.json"
        statuses = concurrently(250, lambda i: request(port, "POST", sub_keys, sub_sid, sub_token, {})[0])
        print(f"F1: 250 concurrent key creates by a subaccount: {statuses.count(201)} × 201; "
              f"peak RSS {mib(status_kib(pid, 'VmHWM'))}, RSS after {mib(status_kib(pid, 'VmRSS'))}")
        time.sleep(5)
        print(f"F1: RSS 5 s later: {mib(status_kib(pid, 'VmRSS'))}")

        other = json.loads(request(port, "POST", "/2010-04-01/Accounts.json", SID, TOKEN, {"FriendlyName": "o"})[1])
        flood_results = {}

        def flood():
            flood_results["r"] = concurrently(500, lambda i: request(port, "GET", account, SID, "f" * 32)[0])

        flooder = threading.Thread(target=flood)
        started = time.perf_counter()
        flooder.start()
        time.sleep(0.05)
        cold = request(port, "GET", f"/2010-04-01/Accounts/{other['sid']}.json", other["sid"], other["auth_token"],
                       source="127.0.0.2")
        cached = [request(port, "GET", account, SID, TOKEN)[2] for _ in range(20)]
        flooder.join()
        took = time.perf_counter() - started
        r = flood_results["r"]
        print(f"F2: 500 simultaneous wrong tokens from one address: {r.count(401)} × 401, {r.count(429)} × 429 "
              f"(other: {len(r) - r.count(401) - r.count(429)}) in {took:.2f} s")
        print(f"F2: meanwhile a first valid request from another address: {cold[0]} in {cold[2] * 1000:.1f} ms; "
              f"cached requests from the flooding address: median {statistics.median(cached) * 1000:.2f} ms, "
              f"max {max(cached) * 1000:.2f} ms")

        unknown, wrong = [], []
        for n in range(200):
            source = f"127.0.1.{n + 1}" if n < 254 else None
            if n % 2 == 0:
                first, second = ("AC" + f"{n:032x}", TOKEN), (SID, "e" * 32)
            else:
                first, second = (SID, "e" * 32), ("AC" + f"{n:032x}", TOKEN)
            for user, secret in (first, second):
                status, _, elapsed = request(port, "GET", account, user, secret, source=source)
                assert status == 401, status
                (unknown if user != SID else wrong).append(elapsed)
        print(f"F10: median of {len(unknown)}: unknown SID {statistics.median(unknown) * 1000:.2f} ms, "
              f"wrong token {statistics.median(wrong) * 1000:.2f} ms "
              f"(p10–p90 {sorted(unknown)[len(unknown) // 10] * 1000:.2f}–{sorted(unknown)[len(unknown) * 9 // 10] * 1000:.2f} "
              f"vs {sorted(wrong)[len(wrong) // 10] * 1000:.2f}–{sorted(wrong)[len(wrong) * 9 // 10] * 1000:.2f} ms)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
