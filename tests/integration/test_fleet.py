"""The whole way, as the demo runs it, with assertions: a change request approved for release,
a release built and signed with the CLI, a fleet of simulated devices (the real agent code,
`upflow sim fleet`) registering with the tenant's gateway token, and a three-phase rollout in
which one hardware revision fails its health check: the healthy devices update, the failing
ones roll back by themselves, the rollout pauses at its error threshold, and the change goes
back to rework with a feedback record naming the failures."""
import json
import os
import shutil
import subprocess
import tempfile
import sys
import time
import unittest

from change_walk import USERS, ChangeWalk
from upflow_test import UPFLOW, Server, ServerTestCase

DEVICES = 20


class Fleet(ChangeWalk, ServerTestCase):
    def setUp(self):
        self.srv = Server(extra=("--set", "notify.interval=1", "--set", "devices.poll_interval=1"))
        self.addCleanup(self.srv.cleanup)
        for user, roles in USERS.items():
            self.srv.add_user(user, *roles)
        self.srv.add_user("rm", "release_manager")
        self.srv.add_user("root", "admin")
        self.srv.start()
        self.t = {u: self.srv.login(u) for u in [*USERS, "rm", "root"]}
        self.tmp = tempfile.mkdtemp(prefix="upflow-fleet-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def cli(self, *args, **kw):
        env = {k: v for k, v in os.environ.items() if not k.startswith("UPFLOW_")}
        env.update(UPFLOW_SERVER=self.srv.url, UPFLOW_TOKEN=self.t["rm"], HOME=self.tmp)
        return subprocess.run([UPFLOW, *args], capture_output=True, text=True, env=env,
                              timeout=300, **kw)

    def ok(self, *args):
        r = self.cli(*args)
        self.assertEqual(r.returncode, 0, f"upflow {' '.join(args)}: {r.stderr}")
        return r

    def test_rollout_over_a_fleet_with_a_failing_hardware_revision(self):
        req = self.to_release_pending(product="gw")
        ws = os.path.join(self.tmp, "ws")
        self.ok("repo", "init", "--dir", ws, "--root-keys", "3", "--root-threshold", "2")
        image = os.path.join(self.tmp, "gw-2.0.0.img")
        with open(image, "wb") as f:
            f.write(b"upflow gw 2.0.0\n" * 12000)
        self.ok("image", "create", "--min", "4K", "--avg", "16K", "--max", "64K", "--level", "3",
                "--threads", "1", image)
        self.ok("release", "add", "--dir", ws, image + ".upfidx", "--product", "gw", "--version",
                "2.0.0", "--name", "rootfs", "--hardware", "rev1,rev2,rev3")
        self.ok("repo", "push", "--dir", ws)
        token = self.api("POST", "/api/v1/tenants/default/gateway-token", {}, self.t["root"],
                         expect=201)[1]["token"]
        token_file = os.path.join(self.tmp, "gateway-token")
        with open(token_file, "w") as f:
            f.write(token + "\n")
        fleet = subprocess.Popen(
            [UPFLOW, "sim", "fleet", "--server", self.srv.url, "--gateway-token-file", token_file,
             "--devices", str(DEVICES), "--repo", self.srv.url + "/tuf/default",
             "--root", os.path.join(ws, "metadata", "1.root.json"), "--dir",
             os.path.join(self.tmp, "fleet"), "--threads", "4",
             "--hardware-mix", "rev1:40,rev2:40,rev3:20", "--fail-hardware", "rev3",
             "--until-idle", "6", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: fleet.poll() is None and fleet.kill())
        deadline = time.time() + 60
        devices = []
        while time.time() < deadline and len(devices) < DEVICES:
            time.sleep(0.5)
            devices = self.api("GET", "/api/v1/devices", token=self.t["rm"], expect=200)[1]["items"]
        self.assertEqual(len(devices), DEVICES)
        body = {"name": "gw 2.0.0", "release": "gw/2.0.0/rootfs.upfidx", "changes": [req],
                "phases": [{"name": "pilot", "percent": 10}, {"name": "early", "percent": 50},
                           {"name": "all", "percent": 100}],
                "success_threshold": 80, "error_threshold": 10, "start": "auto"}
        rollout = self.api("POST", "/api/v1/rollouts", body, self.t["rm"], expect=201)[1]
        self.assertEqual(self.get(req)["state"], "DELIVERED")
        out, err = fleet.communicate(timeout=600)
        self.assertEqual(fleet.returncode, 0, err[-3000:])
        summary = json.loads(out)
        print("\nfleet:", json.dumps(summary["states"]), file=sys.stderr)
        r = self.api("GET", f"/api/v1/rollouts/{rollout['id']}", token=self.t["rm"], expect=200)[1]
        # the healthy devices updated; the failing revision rolled back by itself
        self.assertGreater(summary["states"]["updated"], 0, summary)
        self.assertGreater(summary["states"]["rolled_back"], 0, summary)
        self.assertEqual(set(summary["by_hardware"].get("rev3", {})) - {"rolled_back", "untouched"},
                         set(), summary)
        self.assertEqual(r["counts"]["total"].get("success", 0), summary["states"]["updated"])
        self.assertEqual(r["counts"]["total"].get("rolled_back", 0), summary["states"]["rolled_back"])
        # the rollout stopped at its error threshold; the change went back to rework
        self.assertEqual(r["state"], "paused", r)
        self.assertIn("error threshold", r["state_reason"])
        rec = self.get(req)
        self.assertEqual(rec["state"], "REWORK")
        fb = [int(x) for x in self.srv.sqlite(
            "SELECT id FROM records WHERE record_type = 'FB'").split()]
        self.assertEqual(len(fb), 1)
        self.assertIn("pump controller self-test failed", self.get(fb[0])["fields"]["description"])
        # what every device reported is in its history; devices updated report the new version
        updated = [d for d in self.api("GET", "/api/v1/devices", token=self.t["rm"],
                                       expect=200)[1]["items"] if d["version"] == "2.0.0"]
        self.assertEqual(len(updated), summary["states"]["updated"])
        audit = self.srv.sqlite("SELECT action FROM audit")
        for action in ("rollout.create", "rollout.state", "tuf.push", "device.enrol"):
            self.assertIn(action, audit)


if __name__ == "__main__":
    unittest.main()
