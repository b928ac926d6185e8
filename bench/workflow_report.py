#!/usr/bin/env python3
"""workflow_report.py RAW_DIR - the Markdown report of one bench/workflow.sh run.

Reads the JSON files the run left in RAW_DIR (seed, transitions, peer-*, list-*, machine,
perf-*.txt) and prints the results: upflow/peer ratios first, the absolute numbers beside
them, then every wrk round (so the noise is visible) and the machine.
"""
import glob
import json
import os
import statistics
import sys

VARIANTS = [
    ("first", "first page"),
    ("deep", "deep cursor page"),
    ("state_dense", "state filter matching most records: every one T02 did not reach"),
    ("state_sparse", "state filter matching only the records T02 moved, the oldest"),
]


def load(path):
    with open(path) as f:
        return json.load(f)


def num(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def ratio(a, b):
    return f"**{a / b:.3f}**" if a and b else "–"


def main(raw):
    m = load(os.path.join(raw, "machine.json"))
    for k in ("records", "clients", "duration", "rounds", "peer_n", "deep_cursor", "db_bytes"):
        m[k] = int(m[k])
    m["rss_kb"] = int(m.get("rss_kb") or 0)
    seed = load(os.path.join(raw, "seed.json"))
    tr = load(os.path.join(raw, "transitions.json"))
    pc = load(os.path.join(raw, "peer-create.json"))
    pt = load(os.path.join(raw, "peer-transition.json"))
    rounds = int(m["rounds"])

    def runs(v, server):
        return [load(p) for p in sorted(glob.glob(os.path.join(raw, f"list-{v}-{server}-*.json")))]

    def med(rs, key):
        return statistics.median(r[key] for r in rs) if rs else None

    out = []
    w = out.append
    w(f"# Workflow server benchmark, {m['date']}")
    w("")
    w(f"`bench/workflow.sh --records {m['records']}` — {m['records']:,} software-modification REQ "
      f"records seeded through the API; {m['clients']} API clients; wrk `{m['wrk_opts']} "
      f"-d{m['duration']}s`, {rounds} alternating rounds per list (medians below). "
      f"Machine: {m['nproc']} × {m['model']}, {m['memory']}, {m['os']}, Linux {m['kernel']}.")
    w("")
    w("| Measurement | upflow / peer | upflowd | peer, same run |")
    w("|---|---|---|---|")
    w(f"| Create a REQ (T01): `POST /api/v1/records` | {ratio(seed['rate'], pc['rate'])} "
      f"| {num(seed['rate'])} records/s (p50 {seed['p50_ms']} ms, p99 {seed['p99_ms']} ms) "
      f"| sqlite3 CLI, the same rows raw, 1 transaction each: {num(pc['rate'])}/s |")
    w(f"| Fire T02 on distinct records: `POST /api/v1/records/{{id}}/transitions` "
      f"| {ratio(tr['rate'], pt['rate'])} "
      f"| {num(tr['rate'])} transitions/s (p50 {tr['p50_ms']} ms, p99 {tr['p99_ms']} ms) "
      f"| sqlite3 CLI, UPDATE + 3 INSERTs, 1 transaction each: {num(pt['rate'])}/s |")
    for v, label in VARIANTS:
        u, n = runs(v, "upflowd"), runs(v, "nginx")
        if not u or not n:
            continue
        w(f"| `GET {m['paths'][v]}` — {label} | {ratio(med(u, 'rps'), med(n, 'rps'))} (req/s) "
          f"| {num(med(u, 'rps'))} req/s, p50 {med(u, 'p50_ms'):.2f} ms, p99 {med(u, 'p99_ms'):.2f} ms "
          f"| nginx, the same body as a static file: {num(med(n, 'rps'))} req/s, "
          f"p50 {med(n, 'p50_ms'):.2f} ms, p99 {med(n, 'p99_ms'):.2f} ms |")
    w("")
    w("Server CPU (from /proc, upflowd's own user + system time):")
    w("")
    w("| Phase | upflowd CPU | per operation | client CPU |")
    w("|---|---|---|---|")
    for name, r in (("seeding (T01)", seed), ("transitions (T02)", tr)):
        w(f"| {name}: {r['ok']:,} in {r['seconds']} s | {r.get('server_cpu_pct')} % of one core "
          f"| {r.get('server_cpu_ms_per_op')} ms | {r['client_cpu_s']} s |")
    w("")
    w("List rounds (req/s; p99 ms), upflowd | nginx:")
    w("")
    w("| Variant | body | " + " | ".join(f"round {i}" for i in range(1, rounds + 1)) + " |")
    w("|---|---|" + "---|" * rounds)
    for v, label in VARIANTS:
        u, n = runs(v, "upflowd"), runs(v, "nginx")
        body = load(os.path.join(raw, f"body-{v}.json"))
        cells = [f"{num(a['rps'])}; {a['p99_ms']:.1f} \\| {num(b['rps'])}; {b['p99_ms']:.1f}"
                 for a, b in zip(u, n)]
        errs = sum(r["errors_status"] + r["errors_socket"] for r in u + n)
        w(f"| {v} | {body['bytes']:,} B, {body['items']} items{'; ERRORS ' + str(errs) if errs else ''} "
          f"| " + " | ".join(cells) + " |")
    w("")
    w(f"Seeding: {seed['ok']:,} records in {seed['seconds']} s. Transitions: {tr['ok']:,} in "
      f"{tr['seconds']} s{' (ran out of fresh records)' if tr.get('ran_out_of_records') else ''}. "
      f"sqlite3 peer: {pt['ok']:,} changes in {pt['seconds']} s, {pc['ok']:,} creates in "
      f"{pc['seconds']} s, on a `.backup` copy of the seeded database. "
      f"Database after the run: {m['db_bytes'] / 1048576:.0f} MiB; upflowd peak RSS "
      f"{m['rss_kb'] / 1024:.0f} MiB.")
    w("")
    w("Versions: " + "; ".join(f"{k.replace('mhd', 'libmicrohttpd')} {m[k]}" for k in
                              ("upflowd", "sqlite", "mhd", "nginx", "wrk", "python")) + ".")
    for name in ("transitions", "list"):
        p = os.path.join(raw, f"perf-{name}.txt")
        if os.path.exists(p) and os.path.getsize(p):
            w("")
            w(f"perf, upflowd during {name} (self time by library; then by symbol):")
            w("")
            w("```")
            if os.path.exists(p + ".dso"):
                w(open(p + ".dso").read().rstrip())
                w("")
            w(open(p).read().rstrip())
            w("```")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
