"""Rollouts over the native device API, with devices played over HTTP: the approval gate
(refused without an approved change, after the image changed, for another image), phases and
the success threshold, the error threshold pausing the rollout and sending the change to
rework with a feedback record, cancel, soft and download-only actions, maintenance windows,
priorities, scheduled start, rollback rollouts, ETag polls, and device isolation."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from change_walk import USERS, ChangeWalk
from upflow_test import UPFLOW, Server, ServerTestCase


class RolloutTestCase(ChangeWalk, ServerTestCase):
    server_extra = ()

    def setUp(self):
        self.srv = Server(extra=self.server_extra)
        self.addCleanup(self.srv.cleanup)
        for user, roles in USERS.items():
            self.srv.add_user(user, *roles)
        self.srv.add_user("rm", "release_manager")
        self.srv.add_user("root", "admin")
        self.srv.add_user("nobody", "cs")
        self.srv.start()
        self.t = {u: self.srv.login(u) for u in [*USERS, "rm", "root", "nobody"]}
        self.tmp = tempfile.mkdtemp(prefix="upflow-rollout-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.ws = os.path.join(self.tmp, "ws")
        self.cli("repo", "init", "--dir", self.ws, "--root-keys", "1", "--root-threshold", "1")
        for version in ("1.0.0", "2.0.0", "2.1.0"):
            self.add_release(version)
        self.cli("repo", "push", "--dir", self.ws)
        self.devices = {}

    def cli(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("UPFLOW_")}
        env.update(UPFLOW_SERVER=self.srv.url, UPFLOW_TOKEN=self.t["rm"], HOME=self.tmp)
        r = subprocess.run([UPFLOW, *args], capture_output=True, text=True, env=env, timeout=120)
        if r.returncode != 0:
            self.fail(f"upflow {' '.join(args)}: {r.stderr}")
        return r

    def add_release(self, version):
        path = os.path.join(self.tmp, f"gw-{version}.img")
        with open(path, "wb") as f:
            f.write(version.encode() * 10000)
        self.cli("image", "create", "--threads", "1", "--level", "1", path)
        self.cli("release", "add", "--dir", self.ws, path + ".upfidx", "--product", "gw",
                 "--version", version, "--name", "rootfs")

    def release(self, version):
        return f"gw/{version}/rootfs.upfidx"

    def enrol(self, name, **attributes):
        status, dev = self.api("POST", "/api/v1/devices", {"device_id": name, "attributes": attributes},
                               self.t["rm"], expect=201)
        self.devices[name] = dev["token"]
        self.dev_api(name, "PUT", "/api/v1/device/inventory",
                     {"hardware": attributes.get("hw", "rev1"), "version": "1.0.0"}, expect=200)
        return dev

    def dev_api(self, name, method, path, body=None, expect=None, headers=None):
        status, payload = self.srv.request(method, path, body, token=self.devices[name],
                                           headers=headers)
        if expect is not None and status != expect:
            self.fail(f"{name} {method} {path}: {status} {payload}")
        return status, payload

    def poll(self, name):
        return self.dev_api(name, "GET", "/api/v1/device/poll", expect=200)[1]["action"]

    def report(self, name, action, step, expect=200, **kw):
        return self.dev_api(name, "POST", f"/api/v1/device/actions/{action}/status",
                            {"step": step, **kw}, expect=expect)[1]

    def succeed(self, name):
        a = self.poll(name)
        for step in ("downloading", "downloaded", "installing", "installed", "rebooting", "trial"):
            self.report(name, a["id"], step)
        self.report(name, a["id"], "success", version=a["version"])

    def fail_device(self, name, reason="pump controller self-test failed"):
        a = self.poll(name)
        self.report(name, a["id"], "trial")
        self.report(name, a["id"], "failure", reason=reason, log_tail="selftest: FAIL")
        self.report(name, a["id"], "rolled_back", reason=reason)

    def create(self, expect=201, **spec):
        body = {"name": "r", "release": self.release("2.0.0"), **spec}
        return self.api("POST", "/api/v1/rollouts", body, self.t["rm"], expect=expect)[1]

    def command(self, rid, cmd, expect=200):
        return self.api("POST", f"/api/v1/rollouts/{rid}/{cmd}", {}, self.t["rm"], expect=expect)[1]

    def rollout(self, rid):
        return self.api("GET", f"/api/v1/rollouts/{rid}", token=self.t["rm"], expect=200)[1]


class Gate(RolloutTestCase):
    def test_no_rollout_without_an_approved_change(self):
        self.enrol("d1")
        body = self.create(expect=422)
        self.assertIn("changes", body["error"]["message"])
        rid = self.to_received()
        body = self.create(changes=[rid], expect=409)
        self.assertEqual(body["error"]["code"], "guard_failed")
        self.assertIn("not approved for release", body["error"]["message"])
        self.assertEqual(self.srv.sqlite("SELECT COUNT(*) FROM rollouts").strip(), "0")
        self.assertIsNone(self.poll("d1"))

    def test_image_changed_after_approval_and_another_image(self):
        self.enrol("d1")
        req = self.to_release_pending()
        r = self.create(changes=[req])
        # the same change for another image is refused: it needs its own approval
        body = self.create(changes=[req], release=self.release("2.1.0"), expect=409)
        self.assertIn("another image", body["error"]["message"])
        # the signed target under the release's name changes: the start is refused
        self.srv.sqlite("UPDATE tuf_targets SET sha256 = '" + "ab" * 32 + "' WHERE path = 'gw/2.0.0/rootfs.upfidx'")
        body = self.command(r["id"], "start", expect=409)
        self.assertIn("changed after approval", body["error"]["message"])
        self.assertEqual(self.rollout(r["id"])["state"], "created")
        self.assertEqual(self.get(req)["state"], "RELEASE_PENDING")

    def test_only_release_managers(self):
        status, body = self.api("GET", "/api/v1/rollouts", token=self.t["nobody"])
        self.assertError(status, body, 403, "forbidden")
        status, body = self.api("POST", "/api/v1/devices", {"device_id": "x"}, token=self.t["nobody"])
        self.assertError(status, body, 403, "forbidden")


class Phases(RolloutTestCase):
    def test_phases_delivery_and_finish(self):
        for i in range(10):
            self.enrol(f"d{i:02d}", hw="rev1", customer="acme")
        req = self.to_release_pending()
        r = self.create(changes=[req], phases=[{"name": "pilot", "percent": 20},
                                               {"name": "half", "percent": 60},
                                               {"name": "all", "percent": 100}],
                        success_threshold=100, error_threshold=50, start="auto")
        self.assertEqual(r["state"], "running")
        # the campaign started: the change is delivered (T16 by the system, decision A6)
        rec = self.get(req)
        self.assertEqual(rec["state"], "DELIVERED")
        self.assertEqual(rec["fields"]["release_id"], "2.0.0")
        assigned = [n for n in sorted(self.devices) if self.poll(n)]
        self.assertEqual(assigned, ["d00", "d01"])
        self.succeed("d00")
        self.assertEqual(self.rollout(r["id"])["current_phase"], 0)
        self.succeed("d01")
        self.assertEqual(self.rollout(r["id"])["current_phase"], 1)
        assigned = [n for n in sorted(self.devices) if self.poll(n)]
        self.assertEqual(assigned, [f"d{i:02d}" for i in range(2, 6)])
        for n in assigned:
            self.succeed(n)
        for n in [f"d{i:02d}" for i in range(6, 10)]:
            self.succeed(n)
        r = self.rollout(r["id"])
        self.assertEqual(r["state"], "finished")
        self.assertEqual(r["counts"]["total"], {"success": 10})
        dev = self.api("GET", "/api/v1/devices/d03", token=self.t["rm"], expect=200)[1]
        self.assertEqual(dev["version"], "2.0.0")
        self.assertEqual([e["step"] for e in dev["history"]][0], "success")
        # the devices already run 2.0.0: a new rollout of it has nobody to update
        self.assertIn("rollout.state", self.srv.sqlite("SELECT action FROM audit"))

    def test_error_threshold_pauses_and_sends_the_change_to_rework(self):
        for i in range(6):
            self.enrol(f"d{i}", hw="rev3" if i % 2 else "rev2", customer="acme")
        req = self.to_release_pending()
        r = self.create(changes=[req], error_threshold=30, start="auto")
        self.succeed("d0")
        self.fail_device("d1")
        self.succeed("d2")
        r = self.rollout(r["id"])
        self.assertEqual(r["state"], "running")  # 1 of 6: below 30 %
        self.fail_device("d3")
        r = self.rollout(r["id"])
        self.assertEqual(r["state"], "paused")
        self.assertIn("error threshold: 2 of 6", r["state_reason"])
        rec = self.get(req)
        self.assertEqual(rec["state"], "REWORK")
        self.assertEqual(rec["fields"]["rework_count"], 1)
        fb_ids = [int(x) for x in self.srv.sqlite(
            "SELECT id FROM records WHERE record_type = 'FB'").split()]
        self.assertEqual(len(fb_ids), 1)
        self.assertEqual(self.get(fb_ids[0])["state"], "FB_RECEIVED")
        fb = self.get(fb_ids[0])
        self.assertIn("d1 (hardware rev3): pump controller self-test failed", fb["fields"]["description"])
        # paused: devices that have not started get nothing; those in progress go on
        self.assertIsNone(self.poll("d4"))
        devs = self.api("GET", f"/api/v1/rollouts/{r['id']}/devices?state=rolled_back",
                        token=self.t["rm"], expect=200)[1]["items"]
        self.assertEqual({d["device"] for d in devs}, {"d1", "d3"})
        self.assertEqual(devs[0]["log_tail"], "selftest: FAIL")
        # the failure summary (several lines) is in the audit trail, and the chain still verifies
        verify = self.api("GET", "/api/v1/audit/verify", token=self.t["root"], expect=200)[1]
        self.assertTrue(verify["ok"], verify)
        # the change is back in rework: the rollout cannot resume until it is approved again
        body = self.command(r["id"], "resume", expect=409)
        self.assertIn("change %d is in REWORK" % req, body["error"]["message"])
        self.assertEqual(self.rollout(r["id"])["state"], "paused")


class DeviceSide(RolloutTestCase):
    def test_poll_etag_isolation_and_director(self):
        self.enrol("d1")
        self.enrol("d2")
        status, body = self.srv.request("GET", "/api/v1/device/poll")
        self.assertError(status, body, 401, "unauthorized")
        status, body = self.srv.request("GET", "/api/v1/device/poll", token=self.t["rm"])
        self.assertError(status, body, 401, "unauthorized")
        import urllib.request
        req = urllib.request.Request(self.srv.url + "/api/v1/device/poll",
                                     headers={"Authorization": "Bearer " + self.devices["d1"]})
        with urllib.request.urlopen(req) as resp:
            etag = resp.headers["ETag"]
            self.assertEqual(json.load(resp), {"poll_interval": 60, "action": None})
        status, body = self.dev_api("d1", "GET", "/api/v1/device/poll", headers={"If-None-Match": etag})
        self.assertEqual(status, 304)
        rid = self.to_release_pending()
        r = self.create(changes=[rid], start="auto")
        a1 = self.poll("d1")
        status, body = self.dev_api("d1", "GET", "/api/v1/device/poll", headers={"If-None-Match": etag})
        self.assertEqual(status, 200)
        # d2 cannot report on d1's action, nor see it in its director targets
        a2 = self.poll("d2")
        self.assertNotEqual(a1["id"], a2["id"])
        status, body = self.dev_api("d2", "POST", f"/api/v1/device/actions/{a1['id']}/status",
                                    {"step": "success"})
        self.assertError(status, body, 404, "not_found")
        status, director = self.dev_api("d1", "GET", "/api/v1/device/director/targets.json", expect=200)
        signed = director["signed"]
        self.assertEqual(list(signed["targets"]), [self.release("2.0.0")])
        entry = signed["targets"][self.release("2.0.0")]
        self.assertEqual(entry["custom"]["upflow"], {"action": a1["id"], "device": "d1"})
        sha = self.srv.sqlite("SELECT sha256 FROM tuf_targets WHERE path = 'gw/2.0.0/rootfs.upfidx'").strip()
        self.assertEqual(entry["hashes"]["sha256"], sha)
        self.assertEqual(len(director["signatures"]), 1)
        # a report on a closed action is refused; bad steps too
        self.succeed("d1")
        body = self.report("d1", a1["id"], "downloading", expect=409)
        self.assertEqual(body["error"]["code"], "conflict")
        body = self.report("d2", a2["id"], "exploded", expect=422)
        self.assertEqual(body["error"]["code"], "bad_field")

    def test_gateway_registration(self):
        status, body = self.api("POST", "/api/v1/tenants/default/gateway-token", {}, self.t["rm"])
        self.assertError(status, body, 403, "forbidden")
        token = self.api("POST", "/api/v1/tenants/default/gateway-token", {}, self.t["root"],
                         expect=201)[1]["token"]
        status, reg = self.srv.request("POST", "/api/v1/device/register",
                                       {"device_id": "new-1", "inventory": {"hardware": "rev2"}},
                                       token=token)
        self.assertEqual(status, 201, reg)
        self.assertTrue(reg["token"].startswith("udt_"))
        self.assertEqual(reg["director_key"]["keytype"], "ed25519")
        status, body = self.srv.request("POST", "/api/v1/device/register", {"device_id": "new-1"},
                                        token=token)
        self.assertError(status, body, 409, "conflict")
        status, body = self.srv.request("POST", "/api/v1/device/register", {"device_id": "x"},
                                        token=reg["token"])
        self.assertError(status, body, 401, "unauthorized")
        devs = self.api("GET", "/api/v1/devices?filter=" + urllib_quote('hardware = "rev2"'),
                        token=self.t["rm"], expect=200)[1]["items"]
        self.assertEqual([d["name"] for d in devs], ["new-1"])


def urllib_quote(s):
    import urllib.parse
    return urllib.parse.quote(s)


class Rules(RolloutTestCase):
    server_extra = ("--set", "notify.interval=1")

    def test_cancel_soft_download_only_window_priority(self):
        for n in ("d1", "d2", "d3"):
            self.enrol(n)
        req = self.to_release_pending()
        r = self.create(changes=[req], start="auto", type="soft")
        a = self.poll("d1")
        self.assertEqual((a["type"], a["window_open"], a["cancel"]), ("soft", True, False))
        self.report("d1", a["id"], "deferred")
        self.report("d2", self.poll("d2")["id"], "downloading", progress=10)
        self.command(r["id"], "cancel")
        # d1 deferred and d3 never started: they drop it; d2 is installing and goes on
        self.assertTrue(self.poll("d1")["cancel"])
        self.assertTrue(self.poll("d3")["cancel"])
        self.assertFalse(self.poll("d2")["cancel"])
        self.report("d3", self.poll("d3")["id"], "canceled")
        self.assertIsNone(self.poll("d3"))
        # a higher priority rollout (download only, in a closed window) wins
        req2 = self.to_release_pending()
        r2 = self.create(changes=[req2], release=self.release("2.1.0"), start="auto",
                         type="download_only", priority=10,
                         window={"cron": "0 3 1 1 *", "duration": 3600, "tz": "Asia/Shanghai"})
        a = self.poll("d3")
        self.assertEqual((a["rollout"], a["type"], a["window_open"]), (r2["id"], "download_only", False))
        self.report("d3", a["id"], "downloaded")
        self.assertEqual(self.rollout(r2["id"])["counts"]["total"].get("downloaded"), 1)

    def test_scheduled_start_and_rollback_rollout(self):
        self.enrol("d1")
        req = self.to_release_pending()
        start_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
        r = self.create(changes=[req], start="scheduled", start_at=start_at)
        self.assertEqual(r["state"], "created")
        deadline = time.time() + 15
        while time.time() < deadline and self.rollout(r["id"])["state"] != "running":
            time.sleep(0.5)
        self.assertEqual(self.rollout(r["id"])["state"], "running")
        self.succeed("d1")
        self.assertEqual(self.rollout(r["id"])["state"], "finished")
        back = self.command(r["id"], "rollback", expect=201)
        self.assertEqual((back["release"], back["state"], back["rollback_of"]),
                         (self.release("1.0.0"), "running", r["id"]))
        a = self.poll("d1")
        self.assertEqual(a["version"], "1.0.0")


if __name__ == "__main__":
    unittest.main()
