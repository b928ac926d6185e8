#!/usr/bin/env python3
"""rollout_bench.py - helper of bench/rollout.sh (devices and rollouts, issue #6). Standard
library only.

  rollout_bench.py seed-sql N PREFIX TOKENS_OUT         print SQL inserting N devices PREFIX-000001...
                                                       (tokens udt_ + base64url of 32 random bytes,
                                                       stored as the SHA-256 hex of the token text,
                                                       as device_enrol does); write the tokens, one
                                                       a line, to TOKENS_OUT
  rollout_bench.py sample IN N OUT                     every (len/N)-th line of IN into OUT
  rollout_bench.py login URL USER                      print a bearer token (the tests' password)
  rollout_bench.py walk URL                            walk a new REQ (product "bench") to
                                                       RELEASE_PENDING as the integration tests do
                                                       (tests/integration/change_walk.py); print its id
  rollout_bench.py gateway URL                         print a new gateway token for tenant default
  rollout_bench.py cpu PID                             utime+stime of PID in seconds
  rollout_bench.py wait-devices DB PREFIX N SECONDS    wait until N devices named PREFIX-... are in
                                                       the database; print the seconds it took
  rollout_bench.py rollout URL PID BODY_JSON SECONDS TIMELINE
                                                       create the rollout (start auto) and wait for
                                                       "finished"; print JSON with wall seconds,
                                                       server CPU seconds, VmHWM, counts; write the
                                                       counts every 5 s to TIMELINE
  rollout_bench.py report VALUES RUNS MACHINE OUT      write the result file
"""
import base64
import hashlib
import json
import os
import sqlite3
import statistics
import sys
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
PASSWORD = "correct horse battery"   # upflow_test.PASSWORD: the users are made with it
TICKS = os.sysconf("SC_CLK_TCK")


def request(url, method, path, body=None, token=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            payload, status, hdrs = r.read(), r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        payload, status, hdrs = e.read(), e.code, dict(e.headers)
    if hdrs.get("Content-Type", "").startswith("application/json"):
        return status, json.loads(payload)
    return status, payload


def login(url, user):
    status, body = request(url, "POST", "/api/v1/auth/login", {"username": user, "password": PASSWORD})
    if status != 200:
        sys.exit(f"login {user}: {status} {body}")
    return body["token"]


def seed_sql(n, prefix, tokens_out):
    now = int(time.time())
    out = sys.stdout
    out.write("BEGIN;\n")
    with open(tokens_out, "w") as tf:
        for i in range(1, n + 1):
            token = "udt_" + base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
            sha = hashlib.sha256(token.encode()).hexdigest()
            tf.write(token + "\n")
            out.write("INSERT INTO devices (tenant, name, token_sha256, hardware, version, created_at)"
                      f" VALUES ('default', '{prefix}-{i:06d}', '{sha}', 'rev2', '1.0.0', {now});\n")
    out.write("COMMIT;\n")


def sample(path, n, out):
    with open(path) as f:
        lines = f.read().split()
    step = max(1, len(lines) // n)
    with open(out, "w") as f:
        f.write("\n".join(lines[::step][:n]) + "\n")


def _remote(url):
    """An upflow_test.Server pointing at a server that is already running."""
    from upflow_test import Server

    class Remote(Server):
        def __init__(self, url):   # no data directory of its own
            self.base = url

        @property
        def url(self):
            return self.base

    return Remote(url)


def walk(url):
    from change_walk import USERS, ChangeWalk

    class Walk(ChangeWalk, unittest.TestCase):
        def runTest(self):
            pass

        def api(self, method, path, body=None, token=None, expect=None, **kw):
            status, payload = self.srv.request(method, path, body, token, **kw)
            if expect is not None and status != expect:
                self.fail(f"{method} {path}: expected {expect}, got {status}: {payload}")
            return status, payload

    w = Walk()
    w.srv = _remote(url)
    w.t = {u: login(url, u) for u in USERS}
    print(w.to_release_pending(product="bench"))


def gateway(url):
    status, body = request(url, "POST", "/api/v1/tenants/default/gateway-token", {}, login(url, "root"))
    if status != 201:
        sys.exit(f"gateway token: {status} {body}")
    print(body["token"])


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS   # utime, stime (fields 14, 15)


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wait_devices(db, prefix, n, seconds):
    start = time.time()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    while True:
        have = con.execute("SELECT COUNT(*) FROM devices WHERE name LIKE ?", (prefix + "-%",)).fetchone()[0]
        if have >= n:
            print(f"{time.time() - start:.1f}")
            return
        if time.time() - start > seconds:
            sys.exit(f"only {have} of {n} devices registered after {seconds} s")
        time.sleep(0.5)


def rollout(url, pid, body_file, seconds, timeline):
    with open(body_file) as f:
        body = json.load(f)
    token = login(url, "rm")
    cpu0, t0 = cpu(pid), time.monotonic()
    status, r = request(url, "POST", "/api/v1/rollouts", body, token)
    if status != 201:
        sys.exit(f"POST /api/v1/rollouts: {status} {r}")
    rid = r["id"]
    created = time.monotonic() - t0
    phases_at, last_phase, last_log = {}, -1, 0.0
    with open(timeline, "w") as tl:
        while True:
            status, r = request(url, "GET", f"/api/v1/rollouts/{rid}", token=token)
            now = time.monotonic() - t0
            if status != 200:
                sys.exit(f"GET rollout: {status} {r}")
            if r["current_phase"] != last_phase:
                last_phase = r["current_phase"]
                phases_at[str(last_phase)] = round(now, 1)
            if now - last_log >= 5 or r["state"] != "running":
                last_log = now
                tl.write(json.dumps({"t": round(now, 1), "state": r["state"], "phase": r["current_phase"],
                                     "cpu": round(cpu(pid) - cpu0, 2), "rss_kib": status_kib(pid, "VmRSS"),
                                     "counts": r["counts"]["total"]}) + "\n")
                tl.flush()
            if r["state"] != "running":
                break
            if now > seconds:
                break
            time.sleep(0.5)
    wall = time.monotonic() - t0
    print(json.dumps({"rollout": rid, "state": r["state"], "state_reason": r["state_reason"],
                      "wall_s": round(wall, 1), "create_s": round(created, 2),
                      "server_cpu_s": round(cpu(pid) - cpu0, 2),
                      "server_hwm_kib": status_kib(pid, "VmHWM"), "phases_at": phases_at,
                      "counts": r["counts"]["total"], "by_phase": r["counts"]["by_phase"]}))


# ---- the report --------------------------------------------------------------------------

def fmt(x, digits=0):
    return f"{x:,.{digits}f}"


def report(values_path, runs_path, machine_path, out_path):
    v = {}
    with open(values_path) as f:
        for line in f:
            if line.strip():
                k, _, val = line.rstrip("\n").partition(" ")
                v[k] = val
    runs = {}   # label -> [wrk json + cpu]
    with open(runs_path) as f:
        for line in f:
            if line.strip():
                label, rnd, rest = line.split(" ", 2)
                d = json.loads(rest)
                d["round"] = int(rnd)
                runs.setdefault(label, []).append(d)
    with open(machine_path) as f:
        machine = f.read().strip()

    def med(label, key):
        xs = [r[key] for r in runs.get(label, []) if r.get(key) is not None]
        return statistics.median(xs) if xs else None

    L = []
    w = L.append
    w(f"# Devices and rollouts benchmark, {v.get('date', '?')}")
    w("")
    w(f"`bench/rollout.sh{v.get('args', '')}` (issue #6; see `docs/benchmarks.md`, \"Devices and rollouts\").")
    w("")
    w("## Machine and versions")
    w("")
    for line in machine.splitlines():
        w(f"- {line}")
    w(f"- upflowd: `server.threads={v.get('threads')}`, WAL, `devices.poll_interval` "
      f"{v.get('poll_interval_server')} s for the polls, {v.get('fleet_poll_server')} s for the fleet")
    w("")
    if "devices" not in v:
        w("## Polls")
        w("")
        w("Not measured in this run (`--no-polls`).")
        w("")
    else:
        polls(v, runs, med, w)
    fleet(v, w)
    rounds(runs, w)
    with open(out_path, "w") as f:
        f.write("\n".join(L) + "\n")


def polls(v, runs, med, w):
    w(f"## Polls with {fmt(int(v['devices']))} registered devices")
    w("")
    w(f"{fmt(int(v['devices']))} device rows inserted with the `sqlite3` shell into the stopped "
      f"server's database in {v.get('seed_s')} s (not through `POST /api/v1/devices`: no audit "
      f"rows). wrk `{v.get('wrk')} -d{v.get('duration')}s --latency`, `bench/poll_report.lua` "
      f"rotating `Authorization: Bearer` over {v.get('sample')} device tokens (variant *all*: over "
      f"all {fmt(int(v['devices']))}), rounds alternating upflowd and nginx. Body "
      f"`{v.get('body')}` ({v.get('body_bytes')} bytes), upflowd's ETag `{v.get('etag')}`. "
      "CPU is the server's (upflowd; nginx's two workers) over the round, per request.")
    w("")
    rows = [("poll200", "upflowd: poll, no `If-None-Match` (200)", "nginx200"),
            ("poll304", "upflowd: poll, matching `If-None-Match` (304)", "nginx200"),
            ("pollall", f"upflowd: poll (200), tokens rotating over all devices", "nginx200"),
            ("nginx200", "nginx: the same body, static file (200)", None),
            ("nginx304", "nginx: static file, its own ETag in `If-None-Match` (304)", None)]
    w("| Request | upflowd / nginx 200 (median) | req/s (median) | p50 ms | p99 ms | server CPU µs/req | rounds req/s |")
    w("|---|---:|---:|---:|---:|---:|---|")
    for label, name, peer in rows:
        if label not in runs:
            continue
        rps = med(label, "rps")
        ratio = f"**{rps / med(peer, 'rps'):.2f}**" if peer and med(peer, "rps") else ""
        allr = ", ".join(fmt(r["rps"]) for r in sorted(runs[label], key=lambda r: r["round"]))
        cpu_us = med(label, "cpu_us")
        errs = sum(r["errors_status"] + r["errors_socket"] for r in runs[label])
        w(f"| {name}{' (errors: %d)' % errs if errs else ''} | {ratio} | {fmt(rps)} | {med(label, 'p50_ms'):.2f} | "
          f"{med(label, 'p99_ms'):.2f} | {fmt(cpu_us, 1) if cpu_us is not None else '?'} | {allr} |")
    w("")
    if "poll.hwm_kib" in v:
        w(f"upflowd after the polls: {fmt(int(v['poll.hwm_kib']) / 1024, 1)} MiB peak RSS (VmHWM); "
          f"`last_seen` writes during the rounds: {v.get('poll.seen_writes', '?')} devices have a `last_seen`.")
        w("")


def fleet(v, w):
    w("## A fleet through a rollout")
    w("")
    if "fleet.skipped" in v:
        w(v["fleet.skipped"])
        w("")
    for key in sorted(k for k in v if k.startswith("fleet.note")):
        w(v[key])
        w("")
    if "fleet.result" in v:
        fr = json.loads(v["fleet.result"])
        reg = json.loads(v.get("fleet.register", "{}"))
        sim = json.loads(v.get("fleet.sim", "{}"))
        w(f"`upflow sim fleet --devices {v['fleet.devices']} --threads {v['fleet.threads']} "
          f"--poll-interval {v['fleet.poll']} --slot-size {v['fleet.slot']}`, one process, "
          f"image {v['fleet.image_bytes']} bytes ({v['fleet.chunks']} chunks, payload "
          f"{v['fleet.payload']} bytes), rollout phases {v['fleet.phases']}, success threshold "
          f"{v['fleet.success']} %, start auto, every device healthy.")
        w("")
        w("| Measurement | Value |")
        w("|---|---:|")
        w(f"| Registration: {v['fleet.devices']} devices with the gateway token (fleet start to the last row) | "
          f"{reg.get('wall_s', '?')} s, server CPU {reg.get('server_cpu_s', '?')} s |")
        w(f"| **Rollout: wall time, created (start auto) to `{fr['state']}`** | **{fr['wall_s']} s** |")
        w(f"| **Server CPU during the rollout (user + sys)** | **{fr['server_cpu_s']} s** |")
        w(f"| **Peak server RSS (VmHWM, whole life: registration, rollout)** | **{fmt(fr['server_hwm_kib'] / 1024, 1)} MiB** |")
        w(f"| Phases opened at (s after creation) | {', '.join(f'{p}: {t}' for p, t in fr['phases_at'].items())} |")
        w(f"| Actions at the end | {json.dumps(fr['counts'])} |")
        if sim:
            w(f"| Simulator (whole run) | wall {sim.get('wall_s')} s, CPU {sim.get('user_s')} + {sim.get('sys_s')} s, "
              f"peak RSS {fmt(sim.get('rss_kib', 0) / 1024, 1)} MiB, exit {sim.get('rc')} |")
        if "fleet.summary" in v:
            w(f"| Simulator's summary | {v['fleet.summary']} |")
        w("")
        if "fleet.timeline" in v:
            w("Timeline (every 5 s: seconds since creation, phase, server CPU s since creation, server RSS MiB, actions by state):")
            w("")
            w("```")
            for line in v["fleet.timeline"].split("|"):
                if line:
                    d = json.loads(line)
                    w(f"{d['t']:7.1f}  phase {d['phase']}  cpu {d['cpu']:7.2f}  rss {d['rss_kib'] / 1024:6.1f}  "
                      + " ".join(f"{k}={n}" for k, n in sorted(d["counts"].items())))
            w("```")
            w("")


def rounds(runs, w):
    if not runs:
        return
    w("## Every wrk round")
    w("")
    w("| Label | Round | req/s | p50 ms | p90 ms | p99 ms | max ms | server CPU µs/req | non-2xx/3xx | socket errors |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, rs in runs.items():
        for r in sorted(rs, key=lambda r: r["round"]):
            w(f"| {label} | {r['round']} | {fmt(r['rps'])} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | "
              f"{r['p99_ms']:.2f} | {r['max_ms']:.1f} | {fmt(r.get('cpu_us') or 0, 1)} | "
              f"{r['errors_status']} | {r['errors_socket']} |")
    w("")


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    cmd, a = argv[1], argv[2:]
    if cmd == "seed-sql":
        seed_sql(int(a[0]), a[1], a[2])
    elif cmd == "sample":
        sample(a[0], int(a[1]), a[2])
    elif cmd == "login":
        print(login(a[0], a[1]))
    elif cmd == "walk":
        walk(a[0])
    elif cmd == "gateway":
        gateway(a[0])
    elif cmd == "cpu":
        print(f"{cpu(int(a[0])):.2f}")
    elif cmd == "wait-devices":
        wait_devices(a[0], a[1], int(a[2]), float(a[3]))
    elif cmd == "rollout":
        rollout(a[0], int(a[1]), a[2], float(a[3]), a[4])
    elif cmd == "report":
        report(*a[:4])
    else:
        sys.exit(f"rollout_bench.py: unknown command {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
