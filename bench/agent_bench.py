#!/usr/bin/env python3
"""Helpers for bench/agent.sh (Python standard library only).

  agent_bench.py image PATH SIZE_MIB           write a test image (see make_image)
  agent_bench.py login URL USER PASSWORD_FILE  print a bearer token (POST /api/v1/auth/login)
  agent_bench.py copy-repo URL DEST            what an operator copies to a USB stick: the
                                               served metadata and release files, streamed
  agent_bench.py phases EVENTS_JSONL           seconds between the agent's events
  agent_bench.py report RUNS VALUES MACHINE OUT   the result file (Markdown), printed too
"""
import json
import os
import shutil
import sys
import urllib.request

MIB = 1 << 20
# Per 16 MiB of image: 8 MiB of random bytes (compressed files, already-compressed data),
# 4 MiB of the machine's own files under /usr/lib, /usr/bin... (mostly code: zstd -3 gets about
# 2-3x), 4 MiB of zeros (free space). Random stays random, so nothing repeats across periods
# except the zero runs, which every real file system image has too.
PERIOD = 16 * MIB
RANDOM, CODE, ZERO = 8 * MIB, 4 * MIB, 4 * MIB
CODE_DIRS = ("/usr/lib", "/usr/bin", "/usr/sbin", "/usr/libexec")


def code_stream():
    """The bytes of the machine's regular files under CODE_DIRS, in name order, forever."""
    files = []
    for d in CODE_DIRS:
        for dirpath, dirnames, names in os.walk(d):
            dirnames.sort()
            for n in sorted(names):
                p = os.path.join(dirpath, n)
                if os.path.isfile(p) and not os.path.islink(p) and os.path.getsize(p) > 0:
                    files.append(p)
    while True:
        for p in files:
            try:
                with open(p, "rb") as f:
                    while True:
                        b = f.read(MIB)
                        if not b:
                            break
                        yield b
            except OSError:
                continue


def make_image(path, size_mib):
    size = size_mib * MIB
    if size % PERIOD:
        sys.exit(f"image size must be a multiple of {PERIOD // MIB} MiB")
    code, pending = code_stream(), b""
    zeros = bytes(ZERO)
    with open(path, "wb") as out:
        for _ in range(size // PERIOD):
            for off in range(0, RANDOM, 4 * MIB):
                out.write(os.urandom(4 * MIB))
            while len(pending) < CODE:
                pending += next(code)
            out.write(pending[:CODE])
            pending = pending[CODE:]
            out.write(zeros)


def login(url, user, password_file):
    with open(password_file) as f:
        password = f.read().strip()
    req = urllib.request.Request(url + "/api/v1/auth/login",
                                 data=json.dumps({"username": user, "password": password}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        print(json.loads(r.read())["token"])


def copy_repo(url, dest):
    """Like copy_repository() in tests/integration/test_agent.py, but streams the targets."""
    def get(path):
        with urllib.request.urlopen(url + path, timeout=60) as r:
            return r.read()
    os.makedirs(os.path.join(dest, "metadata"))
    files = {"timestamp.json": get("/tuf/default/metadata/timestamp.json")}
    ts = json.loads(files["timestamp.json"])
    snap_v = ts["signed"]["meta"]["snapshot.json"]["version"]
    root = json.loads(get("/tuf/default/metadata/root.json"))
    for v in range(1, root["signed"]["version"] + 1):
        files[f"{v}.root.json"] = get(f"/tuf/default/metadata/{v}.root.json")
    files[f"{snap_v}.snapshot.json"] = get(f"/tuf/default/metadata/{snap_v}.snapshot.json")
    snap = json.loads(files[f"{snap_v}.snapshot.json"])
    for name, meta in snap["signed"]["meta"].items():
        role = name[:-5]
        body = get(f"/tuf/default/metadata/{meta['version']}.{role}.json")
        files[f"{meta['version']}.{role}.json"] = body
        for path, t in json.loads(body)["signed"]["targets"].items():
            d, base = path.rsplit("/", 1)
            rel = f"{d}/{t['hashes']['sha256']}.{base}"
            out = os.path.join(dest, "targets", rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with urllib.request.urlopen(url + "/tuf/default/targets/" + rel, timeout=60) as r, \
                    open(out, "wb") as f:
                shutil.copyfileobj(r, f, 4 * MIB)
    for name, body in files.items():
        with open(os.path.join(dest, "metadata", name), "wb") as f:
            f.write(body)


def phases(path):
    """'STEP +SECONDS' for the first event of each step, seconds after the first event (the
    agent writes whole seconds: `at`)."""
    seen, t0 = {}, None
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            t0 = e["at"] if t0 is None else t0
            seen.setdefault(e["step"], e["at"] - t0)
    print(", ".join(f"{k} +{v} s" for k, v in seen.items()))


def report(runs_f, vals_f, mach_f, out):
    """runs: 'LABEL ROUND WALL_S PEAK_KIB USER_S SYS_S RC' lines; values: 'KEY VALUE' lines."""
    import datetime
    import statistics
    runs = {}
    for line in open(runs_f):
        p = line.split()
        runs.setdefault(p[0], []).append((int(p[1]), float(p[2]), int(p[3]), float(p[4]),
                                          float(p[5]), int(p[6])))
    vals = {}
    for line in open(vals_f):
        k, _, v = line.rstrip("\n").partition(" ")
        vals[k] = v
    mach = [l.rstrip("\n").split(": ", 1) for l in open(mach_f)]

    def med(label, i):
        xs = [r[i] for r in runs.get(label, []) if r[5] in (0, 3)]
        return statistics.median(xs) if xs else None

    def mib(kib):
        return f"{kib / 1024:.1f} MiB"

    def kib_int(n):
        return f"{int(n) / 1024:,.0f} KiB"

    L = [f"# Device agent: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC\n",
         f"Command: `bench/agent.sh{vals.get('args', '')}`. "
         "Each round installs the release on a fresh simulated device (file slots, `sim` "
         "bootloader, factory image in A, no index for it: the whole image is downloaded) with "
         "`upflow-agent install` under `/usr/bin/time`, then writes the same bytes with `dd` to a "
         "fresh slot file of the same size in the same directory, once with one `fdatasync` at the "
         "end and once synced every 4 MiB as the agent syncs. Times, RSS and CPU are medians of "
         "the rounds; every round is listed below. agent / dd is dd's time over the agent's "
         "(the agent's throughput as a fraction of dd's).\n"]

    L.append("## Binary size\n")
    L.append("| Program | file | stripped | shared libraries (NEEDED / all, `ldd`) |")
    L.append("|---|---:|---:|---:|")
    for p, name in (("agent", "`upflow-agent` (Release)"), ("swupdate", "`swupdate`")):
        if f"{p}.size" in vals:
            L.append(f"| {name} {vals.get(p + '.version', '')} | {kib_int(vals[p + '.size'])} | "
                     f"{kib_int(vals[p + '.stripped'])} | {vals[p + '.needed']} / {vals[p + '.ldd']} |")
        else:
            L.append(f"| {name} | {vals.get(p + '.missing', 'not measured')} | | |")

    sizes = vals.get("sizes", "").split()
    L.append("\n## Install against dd\n")
    L.append("| Image | chunks; payload; index | create (`--level 3`) | agent install, HTTP | "
             "peak RSS | CPU s (user + sys) | agent, `--repo DIR` | `dd bs=1M conv=fdatasync` | "
             "`dd bs=4M oflag=dsync` | **agent / dd** | agent / dd dsync |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in sizes:
        n = int(s)
        a, d, y, f = f"{s}.agent_http", f"{s}.dd", f"{s}.dd_sync", f"{s}.agent_dir"
        aw, dw, yw, fw = med(a, 1), med(d, 1), med(y, 1), med(f, 1)
        create = runs.get(f"{s}.create", [(0, 0, 0, 0, 0, 1)])[0]

        def rate(w, rss=None, cpu=None):
            if not w:
                return "–"
            t = f"{w:.1f} s, {n / w:.0f} MiB/s"
            return t + (f", {mib(rss)}" if rss else "")
        L.append(
            f"| {n} MiB | {int(vals[s + '.chunks']):,}; {int(vals[s + '.payload']) / 1e6:,.1f} MB; "
            f"{int(vals[s + '.index']) / 1e6:,.2f} MB | {create[1]:.1f} s, {mib(create[2])} | "
            f"{rate(aw)} | **{mib(med(a, 2))}** | {med(a, 3):.1f} + {med(a, 4):.1f} | "
            f"{rate(fw, med(f, 2))} | {rate(dw, med(d, 2))} | {rate(yw, med(y, 2))} | "
            f"**{dw / aw:.2f}** | {yw / aw:.2f} |")
    if len(sizes) == 2:
        r0, r1 = med(f"{sizes[0]}.agent_http", 2), med(f"{sizes[1]}.agent_http", 2)
        L.append(f"\nPeak RSS, {sizes[1]} MiB image / {sizes[0]} MiB image: "
                 f"{r1 / r0:.2f} ({mib(r1)} vs {mib(r0)}).")
    elif "skipped" in vals:
        L.append(f"\n{vals['skipped']}")

    L.append("\n## Every round\n")
    L.append("| Measurement | round | wall s | peak RSS KiB | user s | sys s | exit |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for label, rs in runs.items():
        for r in rs:
            L.append(f"| {label} | {r[0]} | {r[1]:.2f} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]} |")
    ph = [(k, v) for k, v in vals.items() if k.endswith(".phases")]
    if ph:
        L.append("\nWhen each step began, seconds after the first event (`events.jsonl`, round 1; the agent records whole seconds):\n")
        for k, v in ph:
            L.append(f"- {k[:-7]}: {v}")
    L.append("\n## Machine and versions\n")
    for k, v in mach:
        L.append(f"- {k}: {v}")
    text = "\n".join(L) + "\n"
    with open(out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "image":
        make_image(args[0], int(args[1]))
    elif cmd == "login":
        login(*args)
    elif cmd == "copy-repo":
        copy_repo(*args)
    elif cmd == "phases":
        phases(args[0])
    elif cmd == "report":
        report(*args)
    else:
        sys.exit(__doc__)
