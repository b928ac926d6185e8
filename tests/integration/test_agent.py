"""upflow-agent installing signed releases on a simulated A/B device (file slots, the `sim`
bootloader): the trial boot and commit, automatic rollback on a failing or hanging health
check, refusals before anything is written (hardware, from-version), a chunk corrupted on the
wire, a download cut in the middle, a full disk, chunk reuse from the active slot, a
repository on local media, and a power cut at every write, fsync and rename of a whole
update.

The repository is built once with the CLI against a real upflowd (test_tuf_repo.py covers it
in depth); devices fetch through a proxy that can corrupt or cut what it forwards.
"""
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

from upflow_test import BUILD, UPFLOW, LoopbackHTTP, Server

AGENT = os.environ.get("UPFLOW_AGENT", os.path.join(BUILD, "src/upflow-agent"))
SLOT_SIZE = 4 << 20
REBOOT = 3  # upflow-agent's exit status: reboot needed


def image_bytes(seed, size=1 << 20, changed=()):
    """Deterministic pseudo-random bytes; `changed` lists (offset, length) regions to vary."""
    out = bytearray()
    block = hashlib.sha256(b"base").digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    out = out[:size]
    for off, n in changed:
        out[off:off + n] = hashlib.sha256(seed + bytes(str(off), "ascii")).digest() * (n // 32) + b"\0" * (n % 32)
    return bytes(out)


class Proxy(LoopbackHTTP):
    """Forwards GETs (with Range) to upstream; can corrupt or cut payload responses."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.corrupt_next = 0   # corrupt this many payload responses
        self.cut_next = 0       # cut this many payload responses halfway
        self.payload_bytes = 0  # payload bytes forwarded
        self.ranges = []        # Range headers of payload requests
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                req = urllib.request.Request(proxy.upstream + self.path)
                rng = self.headers.get("Range")
                if rng:
                    req.add_header("Range", rng)
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        status, body, hdrs = r.status, r.read(), dict(r.headers)
                except urllib.error.HTTPError as e:
                    status, body, hdrs = e.code, e.read(), dict(e.headers)
                payload = self.path.endswith(".upfpay")
                cut = False
                if payload:
                    proxy.ranges.append(rng)
                    if proxy.corrupt_next and len(body) > 100:
                        proxy.corrupt_next -= 1
                        body = body[:50] + bytes([body[50] ^ 0xFF]) + body[51:]
                    elif proxy.cut_next and len(body) > 100:
                        proxy.cut_next -= 1
                        cut = True
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if "Content-Range" in hdrs:
                    self.send_header("Content-Range", hdrs["Content-Range"])
                self.end_headers()
                sent = body[:len(body) // 2] if cut else body
                if payload:
                    proxy.payload_bytes += len(sent)
                try:
                    self.wfile.write(sent)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if cut:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.start_http(Handler)


class Device:
    """A simulated device: two file slots, the sim bootloader, the agent's data directory."""

    def __init__(self, root, repo_url, root_json, factory, hardware="rev2",
                 health=("true",), monitoring=5, slot_b=None, extra=()):
        self.root = root
        os.makedirs(root)
        self.slot = {"A": os.path.join(root, "slot-a.img"),
                     "B": slot_b or os.path.join(root, "slot-b.img")}
        with open(self.slot["A"], "wb") as f:
            f.write(factory)
            f.truncate(SLOT_SIZE)
        if not os.path.exists(self.slot["B"]):
            with open(self.slot["B"], "wb") as f:
                f.truncate(SLOT_SIZE)
        shutil.copy(root_json, os.path.join(root, "root.json"))
        self.config = os.path.join(root, "agent.conf")
        lines = ["[device]", "id = dev-1", f"hardware = {hardware}", "version = 1.0.0",
                 f"data_dir = {root}/data", "[repository]", f"url = {repo_url}",
                 f"root = {root}/root.json", "[slots]", f"A = {self.slot['A']}",
                 f"B = {self.slot['B']}", f"size = {SLOT_SIZE}", "[bootloader]", "backend = sim",
                 f"path = {root}/boot.env", "[health]", f"monitoring_time = {monitoring}",
                 *[f"command = {c}" for c in health],
                 "[retry]", "attempts = 4", "backoff = 0", "backoff_max = 0", *extra]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.agent("provision", "A", expect=0)
        self.power_on()

    def agent(self, *args, expect=None, env=None):
        full_env = dict(os.environ, **(env or {}))
        r = subprocess.run([AGENT, "-c", self.config, *args], capture_output=True, text=True,
                           env=full_env, timeout=120)
        if expect is not None and r.returncode != expect:
            raise AssertionError(f"upflow-agent {' '.join(args)}: exit {r.returncode}, "
                                 f"expected {expect}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def power_on(self):
        r = self.agent("simulate-power-on", expect=0)
        return r.stdout.split()[-1]

    def status(self):
        return json.loads(self.agent("status", "--json", expect=0).stdout)

    def slot_state(self):
        return {s["slot"]: s for s in self.status()["slots"]}

    def running(self):
        return next(s for s, v in self.slot_state().items() if v["running"])

    def slot_bytes(self, slot, n):
        with open(self.slot[slot], "rb") as f:
            return f.read(n)

    def events(self):
        path = os.path.join(self.root, "data", "events.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f]

    def step(self):
        return self.status()["update"]["step"]


class AgentTestCase(unittest.TestCase):
    """One server and repository for the class: releases 2.0.0 (hardware rev1/rev2), 3.0.0
    (a small change over 2.0.0), 4.0.0 (only over 2.*), 5.0.0 (rev9 hardware only)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.srv.add_user("rm", "release_manager")
        cls.srv.start()
        cls.tmp = tempfile.mkdtemp(prefix="upflow-agent-it-")
        token = cls.srv.login("rm")
        cls.env = {k: v for k, v in os.environ.items() if not k.startswith("UPFLOW_")}
        cls.env.update(UPFLOW_SERVER=cls.srv.url, UPFLOW_TOKEN=token, HOME=cls.tmp)
        cls.ws = os.path.join(cls.tmp, "ws")
        cls.cli("repo", "init", "--dir", cls.ws, "--root-keys", "1", "--root-threshold", "1")
        cls.factory = image_bytes(b"v1")
        cls.images = {
            "2.0.0": image_bytes(b"v2", changed=[(0, 4096), (300_000, 70_000), (900_000, 5000)]),
        }
        cls.images["3.0.0"] = bytearray(cls.images["2.0.0"])
        cls.images["3.0.0"][500_000:500_100] = b"x" * 100
        cls.images["3.0.0"] = bytes(cls.images["3.0.0"])
        cls.images["4.0.0"] = image_bytes(b"v4", changed=[(0, 8192)])
        cls.images["5.0.0"] = image_bytes(b"v5", changed=[(0, 8192)])
        cls.images["2.1.0"] = image_bytes(b"v21", size=160 * 1024, changed=[(0, 8192)])
        extra = {"4.0.0": ["--from-version", "2.*"], "5.0.0": ["--hardware", "rev9"]}
        for version, data in cls.images.items():
            path = os.path.join(cls.tmp, f"image-{version}.img")
            with open(path, "wb") as f:
                f.write(data)
            cls.cli("image", "create", "--min", "4K", "--avg", "16K", "--max", "64K",
                    "--level", "3", "--threads", "1", path)
            cls.cli("release", "add", "--dir", cls.ws, path + ".upfidx", "--product", "gw",
                    "--version", version, "--name", "rootfs",
                    *extra.get(version, ["--hardware", "rev1,rev2"]))
        cls.cli("repo", "push", "--dir", cls.ws)
        cls.root_json = os.path.join(cls.ws, "metadata", "1.root.json")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def cli(cls, *args):
        r = subprocess.run([UPFLOW, *args], capture_output=True, text=True, env=cls.env, timeout=120)
        if r.returncode != 0:
            raise AssertionError(f"upflow {' '.join(args)}: {r.returncode}\n{r.stderr}")
        return r

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="upflow-dev-", dir=self.tmp)
        self.proxy = Proxy(self.srv.url)
        self.addCleanup(self.proxy.close)
        self.n = 0

    def device(self, **kw):
        self.n += 1
        repo = kw.pop("repo_url", self.proxy.url + "/tuf/default")
        return Device(os.path.join(self.dir, f"dev{self.n}"), repo, self.root_json, self.factory,
                      **kw)

    @staticmethod
    def release(version):
        return f"gw/{version}/rootfs.upfidx"

    def assertRunsImage(self, dev, slot, version):
        self.assertEqual(dev.running(), slot)
        data = self.images[version] if version != "1.0.0" else self.factory
        self.assertEqual(dev.slot_bytes(slot, len(data)), data)

    def install_and_boot(self, dev, version):
        dev.agent("install", self.release(version), expect=REBOOT)
        self.assertEqual(dev.step(), "rebooting")
        return dev.power_on()


class Updates(AgentTestCase):
    def test_trial_boot_health_check_and_commit(self):
        dev = self.device()
        self.assertRunsImage(dev, "A", "1.0.0")
        self.assertEqual(self.install_and_boot(dev, "2.0.0"), "B")
        state = dev.slot_state()
        self.assertTrue(state["B"]["trial"])
        self.assertTrue(state["A"]["primary"])
        dev.agent("run", expect=0)
        state = dev.slot_state()
        self.assertTrue(state["B"]["primary"] and state["B"]["committed"])
        self.assertEqual(state["B"]["version"], "2.0.0")
        self.assertEqual(dev.step(), "success")
        self.assertRunsImage(dev, "B", "2.0.0")
        # committed: another power cycle stays on B
        self.assertEqual(dev.power_on(), "B")
        steps = [e["step"] for e in dev.events()]
        for s in ("downloading", "downloaded", "installing", "installed", "rebooting", "trial", "success"):
            self.assertIn(s, steps)
        human = dev.agent("status", expect=0).stdout
        self.assertIn("slot B  2.0.0", human)
        self.assertIn("update: success", human)

    def test_failing_health_check_rolls_back_by_itself(self):
        dev = self.device(health=("true", "echo pump pressure low; exit 4"))
        self.install_and_boot(dev, "2.0.0")
        dev.agent("run", expect=REBOOT)
        self.assertEqual(dev.step(), "failure")
        self.assertEqual(dev.power_on(), "A")
        dev.agent("run", expect=0)
        self.assertEqual(dev.step(), "rolled_back")
        self.assertIn("health check 2 of 2", dev.status()["update"]["reason"])
        self.assertRunsImage(dev, "A", "1.0.0")
        self.assertTrue(dev.slot_state()["A"]["primary"])
        failure = [e for e in dev.events() if e["step"] == "failure"][0]
        self.assertIn("pump pressure low", failure["log_tail"])

    def test_hanging_health_check_ends_at_the_monitoring_time(self):
        dev = self.device(health=("sleep 100",), monitoring=1)
        self.install_and_boot(dev, "2.0.0")
        r = dev.agent("run", expect=REBOOT)
        self.assertIn("monitoring time", dev.status()["update"]["reason"])
        self.assertEqual(dev.power_on(), "A")
        dev.agent("run", expect=0)
        self.assertEqual(dev.step(), "rolled_back")
        self.assertRunsImage(dev, "A", "1.0.0")

    def test_trial_that_never_comes_up_falls_back(self):
        dev = self.device()
        self.install_and_boot(dev, "2.0.0")
        # the new system dies before the agent runs: the next power-on falls back
        self.assertEqual(dev.power_on(), "A")
        dev.agent("run", expect=0)
        self.assertEqual(dev.step(), "rolled_back")
        self.assertIn("did not come up", dev.status()["update"]["reason"])
        self.assertFalse(dev.slot_state()["B"]["trial"])

    def test_operator_marks_a_trial_bad_or_good(self):
        dev = self.device()
        self.install_and_boot(dev, "2.0.0")
        dev.agent("mark-bad", expect=REBOOT)
        self.assertEqual(dev.power_on(), "A")
        dev.agent("run", expect=0)
        self.assertEqual(dev.step(), "rolled_back")
        r = dev.agent("mark-good", expect=1)
        self.assertIn("no trial boot is running", r.stderr)

    def test_wrong_hardware_and_forbidden_from_version_are_refused_before_writing(self):
        dev = self.device()
        before = dev.slot_bytes("B", SLOT_SIZE)
        r = dev.agent("install", self.release("5.0.0"), expect=1)
        self.assertIn("is for hardware rev9", r.stderr)
        r = dev.agent("install", self.release("4.0.0"), expect=1)
        self.assertIn("may be installed over 2.*, not over the running 1.0.0", r.stderr)
        self.assertEqual(dev.slot_bytes("B", SLOT_SIZE), before)
        self.assertEqual(dev.step(), "idle")
        self.assertEqual(self.proxy.payload_bytes, 0)
        # after 2.0.0, 4.0.0 is allowed
        self.install_and_boot(dev, "2.0.0")
        dev.agent("run", expect=0)
        self.install_and_boot(dev, "4.0.0")
        dev.agent("run", expect=0)
        self.assertRunsImage(dev, "A", "4.0.0")

    def test_unknown_release_and_tampered_root_are_refused(self):
        dev = self.device()
        r = dev.agent("install", self.release("9.9.9"), expect=1)
        self.assertIn("gw/9.9.9/rootfs.upfidx", r.stderr)
        self.assertEqual(dev.step(), "idle")

    def test_chunk_corrupted_on_the_wire_is_fetched_again(self):
        dev = self.device()
        self.proxy.corrupt_next = 1
        self.install_and_boot(dev, "2.0.0")
        dev.agent("run", expect=0)
        self.assertRunsImage(dev, "B", "2.0.0")
        self.assertEqual(self.proxy.corrupt_next, 0)

    def test_download_cut_in_the_middle_resumes(self):
        dev = self.device()
        self.proxy.cut_next = 1
        self.install_and_boot(dev, "2.0.0")
        dev.agent("run", expect=0)
        self.assertRunsImage(dev, "B", "2.0.0")
        # the retry asked for the rest, not for everything again
        self.assertEqual(self.proxy.cut_next, 0)
        starts = [int(r.split("=")[1].split("-")[0]) for r in self.proxy.ranges]
        self.assertEqual(starts[0], 0)
        self.assertGreater(starts[1], 0)
        payload = os.path.getsize(os.path.join(self.tmp, "image-2.0.0.img.upfpay"))
        self.assertLess(self.proxy.payload_bytes, payload * 1.5)

    def test_chunks_already_in_the_active_slot_are_not_downloaded(self):
        dev = self.device()
        self.install_and_boot(dev, "2.0.0")
        dev.agent("run", expect=0)
        full = self.proxy.payload_bytes
        self.proxy.payload_bytes = 0
        self.install_and_boot(dev, "3.0.0")
        dev.agent("run", expect=0)
        self.assertRunsImage(dev, "A", "3.0.0")
        self.assertLess(self.proxy.payload_bytes, full / 5)

    def test_repository_on_local_media(self):
        media = os.path.join(self.dir, "usb")
        copy_repository(self.srv.url, media)
        dev = self.device(repo_url="file:///nonexistent")
        dev.agent("install", "--repo", media, self.release("2.0.0"), expect=REBOOT)
        self.assertEqual(dev.power_on(), "B")
        dev.agent("run", expect=0)
        self.assertRunsImage(dev, "B", "2.0.0")

    def test_full_disk_fails_cleanly(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        small = os.path.join(self.dir, "small")
        os.makedirs(small)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", small]).returncode != 0:
            self.skipTest("mount is not permitted here")
        self.addCleanup(lambda: subprocess.run(["umount", "-l", small]))
        dev = self.device(slot_b=os.path.join(small, "slot-b.img"))
        r = dev.agent("install", self.release("2.0.0"), expect=1)
        self.assertIn("space", r.stderr.lower())
        self.assertEqual(dev.step(), "failure")
        state = dev.slot_state()
        self.assertTrue(state["A"]["primary"])
        self.assertFalse(state["B"]["trial"])
        self.assertRunsImage(dev, "A", "1.0.0")
        self.assertEqual(dev.power_on(), "A")


def copy_repository(url, dest):
    """What an operator copies to a USB stick: the served metadata and release files."""
    def get(path):
        with urllib.request.urlopen(url + path) as r:
            return r.read()
    os.makedirs(os.path.join(dest, "metadata"))
    ts = json.loads(get("/tuf/default/metadata/timestamp.json"))
    files = {"timestamp.json": json.dumps(ts).encode()}
    snap_v = ts["signed"]["meta"]["snapshot.json"]["version"]
    root = json.loads(get("/tuf/default/metadata/root.json"))
    for v in range(1, root["signed"]["version"] + 1):
        files[f"{v}.root.json"] = get(f"/tuf/default/metadata/{v}.root.json")
    files[f"{snap_v}.snapshot.json"] = get(f"/tuf/default/metadata/{snap_v}.snapshot.json")
    snap = json.loads(files[f"{snap_v}.snapshot.json"])
    files["timestamp.json"] = get("/tuf/default/metadata/timestamp.json")
    for name, meta in snap["signed"]["meta"].items():
        role = name[:-5]
        body = get(f"/tuf/default/metadata/{meta['version']}.{role}.json")
        files[f"{meta['version']}.{role}.json"] = body
        for path, t in json.loads(body)["signed"]["targets"].items():
            d, base = path.rsplit("/", 1)
            rel = f"{d}/{t['hashes']['sha256']}.{base}"
            out = os.path.join(dest, "targets", rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as f:
                f.write(get("/tuf/default/targets/" + rel))
    for name, body in files.items():
        with open(os.path.join(dest, "metadata", name), "wb") as f:
            f.write(body)


class TreeInstalls(AgentTestCase):
    """Tree releases (install type "tree"): a tar of an application tree extracted into
    install.tree_dir, `current -> releases/VERSION` switched atomically, the health checks run
    at once (the app's own check.sh), switched back when they fail."""

    APPS = {
        "1.0.0": {"app.txt": "version one\n", "lib/data.txt": "one", "check.sh": "exit 0\n"},
        "2.0.0": {"app.txt": "version two\n", "lib/data.txt": "two",
                  "check.sh": "echo app 2 cannot open its port; exit 5\n"},
        "3.0.0": {"app.txt": "version three\n", "lib/data.txt": "three", "check.sh": "exit 0\n"},
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for version, files in cls.APPS.items():
            src = os.path.join(cls.tmp, f"app-{version}")
            for name, text in files.items():
                os.makedirs(os.path.dirname(os.path.join(src, name)), exist_ok=True)
                with open(os.path.join(src, name), "w") as f:
                    f.write(text)
            tar = os.path.join(cls.tmp, f"app-{version}.tar")
            subprocess.run(["tar", "-cf", tar, "-C", src, "."], check=True)
            cls.add_tree_release(tar, version)
        # an archive that tries to write outside its directory
        import tarfile, io
        evil = os.path.join(cls.tmp, "app-6.6.6.tar")
        with tarfile.open(evil, "w", format=tarfile.USTAR_FORMAT) as t:
            for name in ("app.txt", "../escaped.txt"):
                info = tarfile.TarInfo(name)
                info.size = 3
                t.addfile(info, io.BytesIO(b"bad"))
        cls.add_tree_release(evil, "6.6.6")
        cls.cli("repo", "push", "--dir", cls.ws)

    @classmethod
    def add_tree_release(cls, tar, version):
        cls.cli("image", "create", "--min", "4K", "--avg", "16K", "--max", "64K", "--level", "3",
                "--threads", "1", tar)
        cls.cli("release", "add", "--dir", cls.ws, tar + ".upfidx", "--product", "app",
                "--version", version, "--name", "tree", "--install-type", "tree",
                "--hardware", "rev1,rev2")

    @staticmethod
    def app(version):
        return f"app/{version}/tree.upfidx"

    def tree_device(self, keep=3):
        root = os.path.join(self.dir, f"dev{self.n + 1}")
        tree = os.path.join(root, "opt-app")
        dev = self.device(health=(f"sh {tree}/current/check.sh",),
                          extra=["[install]", f"tree_dir = {tree}", f"tree_keep = {keep}"])
        dev.tree = tree
        return dev

    def assertCurrent(self, dev, version):
        """current -> releases/VERSION, holding exactly that release's files."""
        self.assertEqual(os.readlink(os.path.join(dev.tree, "current")), f"releases/{version}")
        top = os.path.join(dev.tree, "current")
        found = {}
        for d, _, files in os.walk(top):
            for name in files:
                with open(os.path.join(d, name)) as f:
                    found[os.path.relpath(os.path.join(d, name), top)] = f.read()
        self.assertEqual(found, self.APPS[version])

    def test_first_install_switches_current_without_a_reboot(self):
        dev = self.tree_device()
        slot_b = dev.slot_bytes("B", SLOT_SIZE)
        dev.agent("install", self.app("1.0.0"), expect=0)
        self.assertCurrent(dev, "1.0.0")
        self.assertEqual(dev.step(), "success")
        steps = [e["step"] for e in dev.events()]
        for s in ("downloading", "downloaded", "installing", "installed", "trial", "success"):
            self.assertIn(s, steps)
        self.assertNotIn("rebooting", steps)
        # no slot, no bootloader: A runs, B is untouched, no trial armed
        self.assertEqual(dev.slot_bytes("B", SLOT_SIZE), slot_b)
        self.assertFalse(dev.slot_state()["B"]["trial"])
        self.assertEqual(dev.power_on(), "A")
        with open(os.path.join(dev.root, "data", "tree.json")) as f:
            self.assertEqual(json.load(f), {"current": "1.0.0", "previous": ""})
        self.assertFalse(os.path.exists(os.path.join(dev.root, "data", "tree-image")))
        self.assertEqual(os.listdir(os.path.join(dev.tree, "releases")), ["1.0.0"])
        r = dev.agent("install", self.app("1.0.0"), expect=1)
        self.assertIn("already the current release", r.stderr)

    def test_failing_health_check_switches_back(self):
        dev = self.tree_device(keep=2)
        dev.agent("install", self.app("1.0.0"), expect=0)
        r = dev.agent("install", self.app("2.0.0"), expect=1)
        self.assertIn("rolled back", r.stderr)
        self.assertCurrent(dev, "1.0.0")
        self.assertEqual(dev.step(), "rolled_back")
        self.assertIn("health check 1 of 1", dev.status()["update"]["reason"])
        back = [e for e in dev.events() if e["step"] == "rolled_back"][-1]
        self.assertEqual(back["version"], "2.0.0")
        self.assertIn("cannot open its port", back["log_tail"])
        with open(os.path.join(dev.root, "data", "tree.json")) as f:
            self.assertEqual(json.load(f)["current"], "1.0.0")
        dev.agent("run", expect=0)
        self.assertEqual(dev.step(), "rolled_back")
        # the next good release goes in; tree_keep = 2 prunes the oldest
        dev.agent("install", self.app("3.0.0"), expect=0)
        self.assertCurrent(dev, "3.0.0")
        self.assertEqual(sorted(os.listdir(os.path.join(dev.tree, "releases"))),
                         ["2.0.0", "3.0.0"])

    def test_tree_release_without_tree_dir_is_refused_before_writing(self):
        dev = self.device()
        before = dev.slot_bytes("B", SLOT_SIZE)
        r = dev.agent("install", self.app("1.0.0"), expect=1)
        self.assertIn("install.tree_dir", r.stderr)
        self.assertEqual(dev.step(), "idle")
        self.assertEqual(self.proxy.payload_bytes, 0)
        self.assertEqual(dev.slot_bytes("B", SLOT_SIZE), before)
        self.assertFalse(os.path.exists(os.path.join(dev.root, "data", "tree-image")))

    def test_archive_with_dotdot_member_is_refused(self):
        dev = self.tree_device()
        dev.agent("install", self.app("1.0.0"), expect=0)
        r = dev.agent("install", self.app("6.6.6"), expect=1)
        self.assertIn("absolute or ..", r.stderr)
        self.assertEqual(dev.step(), "failure")
        self.assertCurrent(dev, "1.0.0")
        self.assertFalse(os.path.exists(os.path.join(dev.tree, "escaped.txt")))
        self.assertFalse(os.path.exists(os.path.join(dev.tree, "releases", "escaped.txt")))
        self.assertEqual(os.listdir(os.path.join(dev.tree, "releases")), ["1.0.0"])

    def test_power_cut_at_every_point_of_a_tree_update(self):
        base = self.tree_device()
        base.agent("install", self.app("1.0.0"), expect=0)
        snapshot = base.root + ".snap"
        shutil.copytree(base.root, snapshot, symlinks=True)
        listing = os.path.join(self.dir, "points")
        base.agent("install", self.app("3.0.0"), expect=0, env={"UPFLOW_FAULT_LIST": listing})
        with open(listing) as f:
            names = f.read().split()
        for p in ("tree.rename.before", "tree.rename.after", "current.rename.before",
                  "current.rename.after", "treejson.rename.before"):
            self.assertIn(p, names)
        seen, outcomes = {}, {}
        for name in names:
            seen[name] = seen.get(name, 0) + 1
            shutil.rmtree(base.root)
            shutil.copytree(snapshot, base.root, symlinks=True)
            r = base.agent("install", self.app("3.0.0"),
                           env={"UPFLOW_FAULT_POINT": f"{name}:{seen[name]}"})
            self.assertEqual(r.returncode, 99, f"{name}:{seen[name]}: {r.stderr}")
            self.assertEqual(base.power_on(), "A")  # the power cut
            # whatever `current` names is a complete release
            self.assertIn(os.readlink(os.path.join(base.tree, "current")),
                          ("releases/1.0.0", "releases/3.0.0"))
            self.assertCurrent(base, os.readlink(os.path.join(base.tree, "current"))[9:])
            base.agent("run", expect=0)
            update = base.status()["update"]
            if update["step"] == "success" and update["version"] == "3.0.0":
                self.assertCurrent(base, "3.0.0")
            else:  # undone, failed, or cut before the journal named 3.0.0 (still 1.0.0)
                self.assertTrue(update["step"] in ("rolled_back", "failure") or
                                (update["step"], update["version"]) == ("success", "1.0.0"),
                                f"{name}: {update}")
                self.assertCurrent(base, "1.0.0")
            base.agent("run", expect=0)  # settled: another run changes nothing
            self.assertEqual(base.status()["update"], update)
            key = f"{update['step']} {update['version']}"
            outcomes[key] = outcomes.get(key, 0) + 1
        print(f"\ntree update: power cut at {len(names)} points; final states: {outcomes}",
              file=sys.stderr)
        self.assertGreater(outcomes.get("success 3.0.0", 0), 0)
        self.assertGreater(outcomes.get("rolled_back 3.0.0", 0), 0)


class PowerCuts(AgentTestCase):
    """A power cut at every write, fsync and rename point of a whole update, in turn."""

    def points(self, dev, *args, env=None):
        listing = os.path.join(dev.root, "points")
        r = dev.agent(*args, env={"UPFLOW_FAULT_LIST": listing, **(env or {})})
        names = []
        if os.path.exists(listing):
            with open(listing) as f:
                names = f.read().split()
            os.unlink(listing)
        return r, names

    def assertBootsVerified(self, dev, booted):
        """The slot the bootloader picked holds a whole image: the factory one or the release."""
        good = {"1.0.0": self.factory, "2.1.0": self.images["2.1.0"]}
        held = {v for v, data in good.items() if dev.slot_bytes(booted, len(data)) == data}
        self.assertTrue(held, f"slot {booted} booted without a verified image")
        return held

    def settle(self, dev):
        """Run the agent, power-cycling when it asks, until it is done (at most 6 rounds)."""
        for _ in range(6):
            r = dev.agent("run")
            if r.returncode == 0:
                return
            self.assertEqual(r.returncode, REBOOT, r.stderr)
            self.assertBootsVerified(dev, dev.power_on())
        self.fail("the agent did not settle")

    def assertTrueFinalState(self, dev):
        status = dev.status()  # one agent run: this test starts thousands of processes
        step = status["update"]["step"]
        state = {s["slot"]: s for s in status["slots"]}
        running = next(s for s, v in state.items() if v["running"])
        if step == "success":
            self.assertEqual((running, state["B"]["version"]), ("B", "2.1.0"))
            self.assertTrue(state["B"]["primary"])
            self.assertEqual(dev.slot_bytes("B", len(self.images["2.1.0"])), self.images["2.1.0"])
        else:
            self.assertIn(step, ("idle", "rolled_back", "failure"))
            self.assertEqual(running, "A")
            self.assertTrue(state["A"]["primary"])
            self.assertEqual(dev.slot_bytes("A", len(self.factory)), self.factory)
        self.assertFalse(state["A"]["trial"] or state["B"]["trial"] and step != "rebooting")
        return step

    def test_power_cut_at_every_point_of_an_update(self):
        release = self.release("2.1.0")
        # the points a whole update passes, install then the run after the reboot
        ref = self.device()
        r, install_points = self.points(ref, "install", release)
        self.assertEqual(r.returncode, REBOOT, r.stderr)
        self.assertEqual(ref.power_on(), "B")
        r, run_points = self.points(ref, "run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ref.step(), "success")
        kinds = {p.split(".")[-2] for p in install_points + run_points}
        self.assertTrue({"write", "fsync", "rename", "dirsync"} <= kinds, kinds)
        outcomes = {}
        covered = 0
        for phase, names in (("install", install_points), ("run", run_points)):
            seen = {}
            for name in names:
                seen[name] = seen.get(name, 0) + 1
                dev = self.device()
                if phase == "run":
                    dev.agent("install", release, expect=REBOOT)
                    dev.power_on()
                args = ("install", release) if phase == "install" else ("run",)
                r = dev.agent(*args, env={"UPFLOW_FAULT_POINT": f"{name}:{seen[name]}"})
                self.assertEqual(r.returncode, 99, f"{phase} {name}:{seen[name]}: {r.stderr}")
                self.assertBootsVerified(dev, dev.power_on())   # the power cut
                self.settle(dev)
                step = self.assertTrueFinalState(dev)
                outcomes[step] = outcomes.get(step, 0) + 1
                covered += 1
                shutil.rmtree(dev.root)
        print(f"\npower cut at {covered} points ({len(install_points)} in install, "
              f"{len(run_points)} after the reboot); final states: {outcomes}", file=sys.stderr)
        self.assertEqual(covered, len(install_points) + len(run_points))
        self.assertGreater(outcomes.get("success", 0), 0)


if __name__ == "__main__":
    unittest.main()
