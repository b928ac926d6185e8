#!/usr/bin/env python3
"""workflow_client.py - the load side of bench/workflow.sh, Python standard library only.

Subcommands (each prints one JSON object on stdout):
  login        sign in, print the session token
  seed         create N software-modification REQ records (T01) with C keep-alive clients
  transitions  fire T02 (CS_TRIAGE -> RESOLVED_BY_CS, a required comment) once on each of a
               range of fresh records with C clients, until the range or the time runs out
  get          one GET, the body saved to a file (the body nginx serves as the peer)
  peer-sql     the SQL script the sqlite3 peer runs: the same rows a create or a T02 writes,
               one transaction per change, no HTTP, no JSON, no guards, no hash chain

The HTTP client is a deliberately small HTTP/1.1 keep-alive client on a raw socket (one
connection per thread): http.client costs several times more CPU per request, and the client
shares the machine's cores with the server it measures. Only 127.0.0.1 is ever contacted.
Every loop is bounded by a count and a deadline.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
CUSTOMERS = ["acme", "globex", "initech", "umbrella"]
PRODUCTS = ["PLC-300", "HMI-21", "DRV-7"]
T02_COMMENT = "solved on the phone: recipe timeout raised to 120 s"


class Conn:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port."""

    def __init__(self, port, token=None, timeout=60):
        self.port, self.token, self.timeout = port, token, timeout
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection((HOST, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self, method, path, body=None):
        """(status, body bytes). Reconnects once if the server closed an idle connection."""
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
        if self.token:
            head += f"Authorization: Bearer {self.token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        raw = head.encode() + b"\r\n" + data
        for attempt in (0, 1):
            if self.sock is None:
                self._connect()
            try:
                self.sock.sendall(raw)
                return self._response()
            except (ConnectionError, EOFError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" not in headers:
            raise AssertionError(f"response without Content-Length: {lines[0]}")
        n = int(headers["content-length"])
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (None without /proc or a pid)."""
    if not pid:
        return None
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def run_clients(n_clients, work, deadline, server_pid):
    """Run work(client_index, results) on n_clients threads; gather timings and CPU use."""
    results = [{"ok": 0, "errors": 0, "latencies": [], "first_error": None, "ids": []}
               for _ in range(n_clients)]
    ticks0, t0, own0 = cpu_ticks(server_pid), time.monotonic(), os.times()
    threads = [threading.Thread(target=work, args=(i, results[i]), daemon=True)
               for i in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 30)
    elapsed = time.monotonic() - t0
    ticks1, own1 = cpu_ticks(server_pid), os.times()
    ok = sum(r["ok"] for r in results)
    lat = sorted(x for r in results for x in r["latencies"])
    out = {"ok": ok, "errors": sum(r["errors"] for r in results), "seconds": round(elapsed, 3),
           "rate": round(ok / elapsed, 1) if elapsed > 0 else None, "clients": n_clients,
           "p50_ms": round(percentile(lat, 50) * 1000, 2) if lat else None,
           "p99_ms": round(percentile(lat, 99) * 1000, 2) if lat else None,
           "first_error": next((r["first_error"] for r in results if r["first_error"]), None),
           "client_cpu_s": round((own1.user - own0.user) + (own1.system - own0.system), 2)}
    if ticks0 is not None:
        cpu = (ticks1 - ticks0) / os.sysconf("SC_CLK_TCK")
        out["server_cpu_s"] = round(cpu, 2)
        out["server_cpu_pct"] = round(100 * cpu / elapsed, 1) if elapsed > 0 else None
        out["server_cpu_ms_per_op"] = round(1000 * cpu / ok, 3) if ok else None
    ids = sorted(x for r in results for x in r["ids"])
    if ids:
        out["first_id"], out["last_id"] = ids[0], ids[-1]
        out["contiguous"] = ids[-1] - ids[0] + 1 == len(ids)
    if any(t.is_alive() for t in threads):
        out["stuck_clients"] = sum(t.is_alive() for t in threads)
    return out


def note_error(res, status, body):
    res["errors"] += 1
    if res["first_error"] is None:
        res["first_error"] = f"{status}: {body[:300].decode('utf-8', 'replace')}"


def cmd_login(a):
    c = Conn(a.port)
    status, body = c.request("POST", "/api/v1/auth/login",
                             {"username": a.username, "password": sys.stdin.readline().rstrip("\n")})
    if status != 200:
        sys.exit(f"login {a.username}: {status} {body[:200]!r}")
    print(json.dumps({"token": json.loads(body)["token"]}))


def req_fields(i):
    return {"customer": CUSTOMERS[i % len(CUSTOMERS)], "product": PRODUCTS[i % len(PRODUCTS)],
            "contact": "Wang, +86 21 5555 0100",
            "description": f"Recipe upload times out on line {i % 7 + 1} (bench record {i})",
            "customer_raised_at": "2026-03-09T16:20:00+08:00",
            "module": "recipe-sync", "version_found": "2.3.1", "urgency": "high"}


def cmd_seed(a):
    deadline = time.monotonic() + a.max_seconds
    counter = iter(range(a.count))
    lock = threading.Lock()

    def work(k, res):
        c = Conn(a.port, a.token)
        while time.monotonic() < deadline and res["errors"] < 100:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            t = time.monotonic()
            status, body = c.request("POST", "/api/v1/records",
                                     {"template": "software-modification", "type": "REQ",
                                      "fields": req_fields(i)})
            res["latencies"].append(time.monotonic() - t)
            if status == 201:
                res["ok"] += 1
                res["ids"].append(json.loads(body)["id"])
            else:
                note_error(res, status, body)
        c.close()

    out = run_clients(a.clients, work, deadline, a.server_pid)
    out["requested"] = a.count
    out["timed_out"] = out["ok"] + out["errors"] < a.count
    print(json.dumps(out))


def cmd_transitions(a):
    deadline = time.monotonic() + a.seconds
    ids = range(a.first_id, a.last_id + 1)
    payload = {"transition": "T02", "revision": 1, "comment": T02_COMMENT}

    def work(k, res):
        c = Conn(a.port, a.token)
        for rid in ids[k::a.clients]:  # a client's own records: no two clients share one
            if time.monotonic() >= deadline or res["errors"] >= 100:
                break
            t = time.monotonic()
            status, body = c.request("POST", f"/api/v1/records/{rid}/transitions", payload)
            res["latencies"].append(time.monotonic() - t)
            if status == 200:
                res["ok"] += 1
                res["ids"].append(rid)
            else:
                note_error(res, status, body)
        c.close()

    out = run_clients(a.clients, work, deadline + 5, a.server_pid)
    out["ran_out_of_records"] = time.monotonic() < deadline
    print(json.dumps(out))


def cmd_get(a):
    c = Conn(a.port, a.token)
    status, body = c.request("GET", a.path)
    c.close()
    if status != 200:
        sys.exit(f"GET {a.path}: {status} {body[:300]!r}")
    with open(a.out, "wb") as f:
        f.write(body)
    doc = json.loads(body)
    print(json.dumps({"bytes": len(body), "items": len(doc.get("items", [])),
                      "next_cursor": doc.get("next_cursor")}))


def sql_text(s):
    return "'" + s.replace("'", "''") + "'"


def cmd_peer_sql(a):
    """The sqlite3 peer's script: per change, what upflowd writes for it, as literal SQL."""
    w = sys.stdout.write
    w("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\nPRAGMA foreign_keys=ON;\n")
    now_ms = int(time.time() * 1000)
    fake_hash = "0" * 64
    if a.kind == "transition":
        detail = json.dumps({"changes": {}, "comment": T02_COMMENT, "from": "CS_TRIAGE",
                             "revision": 2, "to": "RESOLVED_BY_CS", "transition": "T02"},
                            separators=(",", ":"), sort_keys=True)
        for rid in range(a.first_id, a.first_id + a.count):
            w("BEGIN IMMEDIATE;\n"
              f"UPDATE records SET state = 'RESOLVED_BY_CS', revision = revision + 1,"
              f" updated_at = {now_ms // 1000} WHERE id = {rid} AND revision = 1;\n"
              f"INSERT INTO comments (record_id, author, body, customer_visible, created_at)"
              f" VALUES ({rid}, 'bench_cs', {sql_text(T02_COMMENT)}, 1, {now_ms // 1000});\n"
              f"INSERT INTO audit (seq, ts_ms, actor, action, object_kind, object_id,"
              f" template_version, detail, prev_hash, hash) SELECT MAX(seq) + 1, {now_ms},"
              f" 'bench_cs', 'record.transition', 'record', '{rid}', 1, {sql_text(detail)},"
              f" '{fake_hash}', '{fake_hash}' FROM audit;\n"
              f"INSERT INTO record_history (record_id, audit_seq, transition, from_state,"
              f" to_state, actor, at_ms, fields) SELECT id, (SELECT MAX(seq) FROM audit), 'T02',"
              f" 'CS_TRIAGE', state, 'bench_cs', {now_ms}, fields FROM records WHERE id = {rid};\n"
              "COMMIT;\n")
    else:  # create
        for n in range(a.count):
            i = a.first_id + n
            fields = dict(req_fields(i), channel="request")
            text = sql_text(json.dumps(fields, separators=(",", ":"), sort_keys=True))
            detail = sql_text(json.dumps({"changes": fields, "from": None, "revision": 1,
                                          "to": "CS_TRIAGE", "transition": "T01"},
                                         separators=(",", ":"), sort_keys=True))
            w("BEGIN IMMEDIATE;\n"
              "INSERT INTO records (template_id, template_version, record_type, state, revision,"
              " fields, customer, product, created_by, created_at, updated_at) VALUES"
              f" ('software-modification', {a.template_version}, 'REQ', 'CS_TRIAGE', 1, {text},"
              f" '{fields['customer']}', '{fields['product']}', 'bench_cs', {now_ms // 1000},"
              f" {now_ms // 1000});\n"
              "INSERT INTO audit (seq, ts_ms, actor, action, object_kind, object_id,"
              f" template_version, detail, prev_hash, hash) SELECT MAX(seq) + 1, {now_ms},"
              f" 'bench_cs', 'record.create', 'record', last_insert_rowid(), 1, {detail},"
              f" '{fake_hash}', '{fake_hash}' FROM audit;\n"
              "INSERT INTO record_history (record_id, audit_seq, transition, to_state, actor,"
              " at_ms, fields) SELECT MAX(r.id), (SELECT MAX(seq) FROM audit), 'T01', 'CS_TRIAGE',"
              f" 'bench_cs', {now_ms}, {text} FROM records r;\n"
              "COMMIT;\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("login", "seed", "transitions", "get"):
        s = sub.add_parser(name)
        s.add_argument("--port", type=int, required=True)
        if name != "login":
            s.add_argument("--token", required=True)
        if name in ("seed", "transitions"):
            s.add_argument("--clients", type=int, default=8)
            s.add_argument("--server-pid", type=int)
    sub.choices["login"].add_argument("--username", required=True)
    sub.choices["seed"].add_argument("--count", type=int, required=True)
    sub.choices["seed"].add_argument("--max-seconds", type=float, default=900)
    tr = sub.choices["transitions"]
    tr.add_argument("--first-id", type=int, required=True)
    tr.add_argument("--last-id", type=int, required=True)
    tr.add_argument("--seconds", type=float, default=10)
    g = sub.choices["get"]
    g.add_argument("--path", required=True)
    g.add_argument("--out", required=True)
    ps = sub.add_parser("peer-sql")
    ps.add_argument("--kind", choices=("create", "transition"), required=True)
    ps.add_argument("--first-id", type=int, required=True)
    ps.add_argument("--count", type=int, required=True)
    ps.add_argument("--template-version", type=int, default=1)
    a = p.parse_args()
    {"login": cmd_login, "seed": cmd_seed, "transitions": cmd_transitions, "get": cmd_get,
     "peer-sql": cmd_peer_sql}[a.cmd](a)


if __name__ == "__main__":
    main()
