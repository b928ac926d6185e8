"""TUF repositories built with the CLI (`upflow repo`, `upflow release`), served by upflowd and
read by `upflow-tuf-client`: a release round trip, pushes the server refuses, root rotation,
online-key rotation, re-signing before expiry, and the attacks of tuf.md §10, each refused by
the client while its trusted metadata stays as it was.

Attacks are played by a mirror between the client and upflowd (a compromised mirror or
network): it forwards every request to upflowd unless the test put other bytes under that
path. Malicious metadata is made with the keys the attacker is assumed to hold, signed with
`upflow repo sign`.
"""
import glob
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from upflow_test import BUILD, UPFLOW, LoopbackHTTP, Server, ServerTestCase

TUF_CLIENT = os.environ.get("UPFLOW_TUF_CLIENT", os.path.join(BUILD, "src/upflow-tuf-client"))
TENANT = "default"


class Mirror(LoopbackHTTP):
    """An HTTP server that forwards GETs to upstream, except paths the test overrides."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.overrides = {}
        self.requests = []
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                mirror.requests.append(self.path)
                if self.path in mirror.overrides:
                    status, body = 200, mirror.overrides[self.path]
                else:
                    try:
                        with urllib.request.urlopen(mirror.upstream + self.path, timeout=30) as r:
                            status, body = r.status, r.read()
                    except urllib.error.HTTPError as e:
                        status, body = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading (endless data): what we want

            def log_message(self, *args):
                pass

        self.start_http(Handler)


class RepoTestCase(ServerTestCase):
    server_extra = ()

    def setUp(self):
        self.srv = Server(extra=self.server_extra)
        self.addCleanup(self.srv.cleanup)
        self.srv.add_user("rm", "release_manager")
        self.srv.start()
        self.tmp = tempfile.mkdtemp(prefix="upflow-tuf-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.token = self.srv.login("rm")
        self.ws = os.path.join(self.tmp, "ws")
        self.mirror = Mirror(self.srv.url)
        self.addCleanup(self.mirror.close)

    # ---- helpers ----------------------------------------------------------------------

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("UPFLOW_")}
        env.update(UPFLOW_SERVER=self.srv.url, UPFLOW_TOKEN=self.token, HOME=self.tmp, TZ="UTC")
        return env

    def run_cmd(self, cmd, expect=0):
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env(),
                           timeout=120)
        if expect is not None and r.returncode != expect:
            self.fail(f"{' '.join(cmd)}: exit {r.returncode}, expected {expect}\n"
                      f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def cli(self, *args, expect=0):
        return self.run_cmd([UPFLOW, *args], expect)

    def init_repo(self, *extra):
        self.cli("repo", "init", "--dir", self.ws, "--tenant", TENANT, "--root-keys", "3",
                 "--root-threshold", "2", *extra)

    def make_image(self, name, size=300_000, seed=b"v1"):
        path = os.path.join(self.tmp, name)
        block = hashlib.sha256(seed).digest()
        data = bytearray()
        while len(data) < size:
            block = hashlib.sha256(block).digest()
            data += block * 8
        with open(path, "wb") as f:
            f.write(bytes(data[:size]))
        self.cli("image", "create", "--threads", "1", "--level", "3", path)
        return path

    def add_release(self, version, *extra, product="gateway"):
        img = self.make_image(f"{product}-{version}.img", seed=version.encode())
        self.cli("release", "add", "--dir", self.ws, img + ".upfidx", "--product", product,
                 "--version", version, "--hardware", "rev1,rev2", "--name", "rootfs", *extra)
        return img

    def push(self):
        return self.cli("repo", "push", "--dir", self.ws)

    def status(self):
        req = urllib.request.Request(f"{self.srv.url}/api/v1/tuf/{TENANT}",
                                     headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    def client_dir(self, name="md"):
        md = os.path.join(self.tmp, name)
        self.run_cmd([TUF_CLIENT, "--metadata-dir", md, "init",
                      os.path.join(self.ws, "metadata", "1.root.json")])
        return md

    def refresh(self, md, expect=0, via_mirror=True):
        base = (self.mirror.url if via_mirror else self.srv.url) + f"/tuf/{TENANT}/metadata"
        return self.run_cmd([TUF_CLIENT, "--metadata-dir", md, "--metadata-url", base, "refresh"],
                            expect)

    def download(self, md, target, expect=0):
        td = os.path.join(self.tmp, "targets-" + os.path.basename(md))
        r = self.run_cmd([TUF_CLIENT, "--metadata-dir", md, "--metadata-url",
                          self.mirror.url + f"/tuf/{TENANT}/metadata", "--target-name", target,
                          "--target-dir", td, "--target-base-url",
                          self.mirror.url + f"/tuf/{TENANT}/targets", "download"], expect)
        return r, os.path.join(td, target.replace("/", "%2F"))

    def trusted(self, md, role):
        with open(os.path.join(md, role + ".json")) as f:
            return json.load(f)["signed"]["version"]

    def served(self, path):
        with urllib.request.urlopen(self.srv.url + path) as r:
            return r.read()

    def sign(self, path, *keys, replace=True):
        for i, key in enumerate(keys):
            self.cli("repo", "sign", "--dir", self.ws, path, "--key", key,
                     *(["--replace"] if replace and i == 0 else []))

    def edited(self, body, edit, name):
        """Write body with edit(signed) applied to a file in tmp (signatures dropped)."""
        doc = json.loads(body)
        edit(doc["signed"])
        doc["signatures"] = []
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def root_keys(self):
        return sorted(glob.glob(os.path.join(self.ws, "keys", "root-*.key")))

    def md_path(self, name):
        return f"/tuf/{TENANT}/metadata/{name}"


class RoundTrip(RepoTestCase):
    def test_release_is_pushed_served_and_verified_end_to_end(self):
        self.init_repo()
        root = json.loads(self.read(os.path.join(self.ws, "metadata", "1.root.json")))["signed"]
        self.assertEqual(root["roles"]["root"]["threshold"], 2)
        self.assertEqual(len(root["roles"]["root"]["keyids"]), 3)
        st = self.status()
        # the root lists the server's own online keys
        for role in ("snapshot", "timestamp"):
            self.assertEqual(root["roles"][role]["keyids"],
                             [k["keyid"] for k in st["online_keys"][role]])
        img = self.add_release("1.0.0", "--from-version", "0.9.0", "--install-type", "raw",
                               "--notes", "first release")
        self.push()
        st = self.status()
        self.assertEqual({r: v["version"] for r, v in st["roles"].items()},
                         {"root": 1, "targets": 2, "snapshot": 1, "timestamp": 1})
        md = self.client_dir()
        self.refresh(md)
        self.assertEqual(self.trusted(md, "targets"), 2)
        r, index = self.download(md, "gateway/1.0.0/rootfs.upfidx")
        self.assertEqual(self.read(index), self.read(img + ".upfidx"))
        r, payload = self.download(md, "gateway/1.0.0/rootfs.upfpay")
        self.assertEqual(self.read(payload), self.read(img + ".upfpay"))
        # what was signed about it
        targets = json.loads(self.served(self.md_path("2.targets.json")))["signed"]["targets"]
        custom = targets["gateway/1.0.0/rootfs.upfidx"]["custom"]["upflow"]
        self.assertEqual(custom["product"], "gateway")
        self.assertEqual(custom["version"], "1.0.0")
        self.assertEqual(custom["hardware"], ["rev1", "rev2"])
        self.assertEqual(custom["from_versions"], ["0.9.0"])
        self.assertEqual(custom["kind"], "index")
        # the downloaded pair rebuilds the image
        out = os.path.join(self.tmp, "rebuilt.img")
        self.cli("image", "extract", index, payload, out)
        self.assertEqual(self.read(out), self.read(img))
        # a second release: new targets, snapshot and timestamp versions
        self.add_release("1.1.0")
        self.push()
        self.refresh(md)
        self.assertEqual([self.trusted(md, r) for r in ("targets", "snapshot", "timestamp")],
                         [3, 2, 2])
        audit = self.srv.sqlite("SELECT action FROM audit WHERE action LIKE 'tuf.%'").split()
        self.assertEqual(audit.count("tuf.push"), 2)

    def test_server_refuses_bad_pushes_and_keeps_the_repository(self):
        self.init_repo()
        self.add_release("1.0.0")
        self.push()
        before = self.srv.sqlite("SELECT role, version FROM tuf_metadata ORDER BY role, version")

        def post(files):
            return self.srv.request("POST", f"/api/v1/tuf/{TENANT}/metadata", {"files": files},
                                    token=self.token)
        # a root signed by one of three root keys (threshold 2)
        staged = os.path.join(self.tmp, "ws-copy")
        shutil.copytree(self.ws, staged)
        self.cli("repo", "rotate-root", "--dir", staged, "--add-keys", "1")
        two = json.loads(self.read(os.path.join(staged, "metadata", "2.root.json")))
        two["signatures"] = two["signatures"][:1]
        status, body = post({"2.root.json": json.dumps(two)})
        self.assertError(status, body, 422, "threshold_not_met")
        self.assertIn("2.root.json", body["error"]["message"])
        # an old targets.json again (rollback)
        old = self.served(self.md_path("2.targets.json")).decode()
        status, body = post({"targets.json": old})
        self.assertError(status, body, 422, "rollback")
        # a release whose files were never uploaded
        self.add_release("1.1.0")
        with open(os.path.join(self.ws, "metadata", "targets.json")) as f:
            status, body = post({"targets.json": f.read()})
        self.assertError(status, body, 409, "conflict")
        self.assertIn("upload it first", body["error"]["message"])
        # a root skipping a version
        status, body = post({"3.root.json": json.dumps(two)})
        self.assertEqual(status, 422 if body["error"]["code"] == "bad_field" else 409, body)
        self.assertEqual(self.srv.sqlite("SELECT role, version FROM tuf_metadata ORDER BY role, version"),
                         before)
        # the pipeline's own push still works afterwards
        self.push()
        self.assertEqual(self.status()["roles"]["targets"]["version"], 3)


class Rotation(RepoTestCase):
    def test_root_rotation_with_a_revoked_key_is_accepted(self):
        self.init_repo()
        self.add_release("1.0.0")
        self.push()
        md = self.client_dir()
        self.refresh(md)
        root1 = json.loads(self.read(os.path.join(self.ws, "metadata", "1.root.json")))["signed"]
        revoked = root1["roles"]["root"]["keyids"][0]
        self.cli("repo", "rotate-root", "--dir", self.ws, "--revoke", revoked, "--add-keys", "1")
        self.push()
        # a client that trusted only root v1 walks to v2
        self.refresh(md)
        self.assertEqual(self.trusted(md, "root"), 2)
        root2 = json.loads(self.read(os.path.join(md, "root.json")))["signed"]
        self.assertNotIn(revoked, root2["roles"]["root"]["keyids"])
        self.assertEqual(len(root2["roles"]["root"]["keyids"]), 3)
        fresh = self.client_dir("md-fresh")
        self.refresh(fresh)
        self.assertEqual(self.trusted(fresh, "root"), 2)

    def test_rotated_out_snapshot_key_is_survived(self):
        self.init_repo()
        self.add_release("1.0.0")
        self.push()
        md = self.client_dir()
        self.refresh(md)
        old_keys = self.status()["online_keys"]["snapshot"]
        self.cli("repo", "rotate-key", "--dir", self.ws, "--role", "snapshot")
        self.push()
        st = self.status()
        new_keys = [k["keyid"] for k in st["online_keys"]["snapshot"]]
        self.assertNotIn(old_keys[0]["keyid"], new_keys)  # retired
        self.refresh(md)
        self.assertEqual(self.trusted(md, "root"), 2)
        snap = json.loads(self.read(os.path.join(md, "snapshot.json")))
        self.assertEqual([s["keyid"] for s in snap["signatures"]], new_keys)
        # an old snapshot signed by the revoked key is refused now
        self.mirror.overrides[self.md_path(f"{st['roles']['snapshot']['version']}.snapshot.json")] = \
            self.served(self.md_path("1.snapshot.json"))
        r = self.refresh(self.client_dir("md2"), expect=1)
        self.assertIn("snapshot", r.stderr)

    def test_targets_key_rotation_revokes_the_old_key(self):
        self.init_repo()
        self.add_release("1.0.0")
        self.push()
        old_key = os.path.join(self.ws, "keys", "targets.key")
        saved = os.path.join(self.tmp, "old-targets.key")
        shutil.copy(old_key, saved)
        self.cli("repo", "rotate-key", "--dir", self.ws, "--role", "targets")
        self.push()
        md = self.client_dir()
        self.refresh(md)
        v = self.status()["roles"]["targets"]["version"]
        # targets signed with the revoked key: refused
        forged = self.edited(self.served(self.md_path(f"{v}.targets.json")), lambda s: None, "forged.json")
        self.sign(forged, saved)
        self.mirror.overrides[self.md_path(f"{v}.targets.json")] = self.read(forged)
        r = self.refresh(self.client_dir("md2"), expect=1)
        self.assertIn("targets", r.stderr)


class Resign(RepoTestCase):
    server_extra = ("--set", "tuf.timestamp_expiry=4", "--set", "notify.interval=1")

    def test_timestamp_is_re_signed_before_it_expires(self):
        self.init_repo()
        self.add_release("1.0.0")
        self.push()
        deadline = time.time() + 20
        while time.time() < deadline and self.status()["roles"]["timestamp"]["version"] < 3:
            time.sleep(0.5)
        self.assertGreaterEqual(self.status()["roles"]["timestamp"]["version"], 3)
        self.assertEqual(self.status()["roles"]["snapshot"]["version"], 1)
        md = self.client_dir()
        self.refresh(md)
        self.assertIn("tuf.resign", self.srv.sqlite("SELECT action FROM audit"))


class Freeze(RepoTestCase):
    """Indefinite freeze: a mirror keeps serving the timestamp that was current; once it has
    expired the client refuses it. (The server signs 3-second timestamps here and its worker
    does not run during the test, so nothing fresh is signed.)"""
    server_extra = ("--set", "tuf.timestamp_expiry=3", "--set", "notify.interval=3600")

    def test_indefinite_freeze(self):
        self.init_repo()
        self.add_release("1.0.0")
        self.push()
        md = self.client_dir()
        self.refresh(md)
        self.mirror.overrides[self.md_path("timestamp.json")] = self.served(self.md_path("timestamp.json"))
        time.sleep(4)
        r = self.refresh(md, expect=1)
        self.assertIn("expired", r.stderr)
        self.assertEqual(self.trusted(md, "timestamp"), 1)


class Attacks(RepoTestCase):
    """tuf.md §10, one attack per test, each against a client that already trusts v1."""

    def setUp(self):
        super().setUp()
        self.init_repo()
        self.img = self.add_release("1.0.0")
        self.push()
        self.md = self.client_dir()
        self.refresh(self.md)
        self.index = "gateway/1.0.0/rootfs.upfidx"

    def target_url(self, target):
        targets = json.loads(self.served(self.md_path("2.targets.json")))["signed"]["targets"]
        sha = targets[target]["hashes"]["sha256"]
        d, name = target.rsplit("/", 1)
        return f"/tuf/{TENANT}/targets/{d}/{sha}.{name}"

    def assertTrustedUnchanged(self, versions):
        self.assertEqual({r: self.trusted(self.md, r) for r in versions}, versions)

    def test_arbitrary_software(self):
        good = self.read(self.img + ".upfidx")
        self.mirror.overrides[self.target_url(self.index)] = bytes(b ^ 1 for b in good)
        r, path = self.download(self.md, self.index, expect=1)
        self.assertFalse(os.path.exists(path))

    def test_wrong_length(self):
        self.mirror.overrides[self.target_url(self.index)] = self.read(self.img + ".upfidx") + b"x"
        r, path = self.download(self.md, self.index, expect=1)
        self.assertFalse(os.path.exists(path))

    def test_rollback(self):
        old = self.served(self.md_path("timestamp.json"))
        self.add_release("1.1.0")
        self.push()
        self.refresh(self.md)
        self.mirror.overrides[self.md_path("timestamp.json")] = old
        r = self.refresh(self.md, expect=1)
        self.assertIn("timestamp", r.stderr)
        self.assertTrustedUnchanged({"timestamp": 2, "snapshot": 2, "targets": 3})

    def test_endless_data(self):
        self.mirror.overrides[self.md_path("timestamp.json")] = b'{"signed": "' + b"A" * 20_000_000
        started = time.time()
        r = self.refresh(self.md, expect=1)
        self.assertLess(time.time() - started, 30)
        self.assertTrustedUnchanged({"timestamp": 1})

    def test_mix_and_match(self):
        self.add_release("1.1.0")
        self.push()
        # the new snapshot names targets v3; the mirror serves v2's bytes under that name
        self.mirror.overrides[self.md_path("3.targets.json")] = self.served(self.md_path("2.targets.json"))
        r = self.refresh(self.md, expect=1)
        self.assertIn("targets", r.stderr)
        self.assertTrustedUnchanged({"targets": 2})

    def test_threshold_not_met_and_one_key_counted_twice(self):
        copy = os.path.join(self.tmp, "attacker")
        shutil.copytree(self.ws, copy)
        self.cli("repo", "rotate-root", "--dir", copy, "--add-keys", "1")
        two = os.path.join(copy, "metadata", "2.root.json")
        keys = sorted(glob.glob(os.path.join(copy, "keys", "root-*.key")))
        # signed by one old key (and the new ones): threshold 2 of the old keys not met
        self.sign(two, keys[0])
        for extra in keys[3:]:
            self.sign(two, extra, replace=False)
        self.mirror.overrides[self.md_path("2.root.json")] = self.read(two)
        r = self.refresh(self.md, expect=1)
        self.assertIn("threshold", r.stderr)
        self.assertTrustedUnchanged({"root": 1})
        # the same signature twice does not make two
        doc = json.loads(self.read(two))
        doc["signatures"].append(dict(doc["signatures"][0]))
        self.mirror.overrides[self.md_path("2.root.json")] = json.dumps(doc).encode()
        self.refresh(self.md, expect=1)
        self.assertTrustedUnchanged({"root": 1})

    def test_bad_delegation(self):
        self.cli("repo", "delegate", "--dir", self.ws, "--name", "pump-team", "--paths", "pump/*/*")
        self.add_release("3.0.0", "--role", "pump-team", product="pump")
        self.push()
        self.refresh(self.md)
        target = "pump/3.0.0/rootfs.upfidx"
        self.download(self.md, target)  # the honest repository works
        v = self.status()["roles"]["pump-team"]["version"]
        name = self.md_path(f"{v}.pump-team.json")
        forged = self.edited(self.served(name), lambda s: None, "forged-pump.json")
        self.sign(forged, os.path.join(self.ws, "keys", "targets.key"))  # not the team's key
        self.mirror.overrides[name] = self.read(forged)
        md2 = self.client_dir("md2")
        r, path = self.download(md2, target, expect=1)
        self.assertFalse(os.path.exists(path))

    def test_fast_forward_recovery_after_a_timestamp_key_compromise(self):
        # the attacker holds the online timestamp key and signs version 1,000,000
        stolen = glob.glob(os.path.join(self.srv.data, "keys", "tuf-default-timestamp-*.key"))[0]
        ts = self.edited(self.served(self.md_path("timestamp.json")),
                         lambda s: s.update(version=1_000_000), "ff-timestamp.json")
        self.sign(ts, stolen)
        self.mirror.overrides[self.md_path("timestamp.json")] = self.read(ts)
        self.refresh(self.md)  # a valid key signed it: accepted, as the spec expects
        self.assertEqual(self.trusted(self.md, "timestamp"), 1_000_000)
        # the owners rotate the timestamp key; the honest repository is back
        del self.mirror.overrides[self.md_path("timestamp.json")]
        self.cli("repo", "rotate-key", "--dir", self.ws, "--role", "timestamp")
        self.push()
        self.refresh(self.md)
        self.assertEqual(self.trusted(self.md, "root"), 2)
        self.assertLess(self.trusted(self.md, "timestamp"), 1_000_000)


if __name__ == "__main__":
    unittest.main()
