"""upflow-agent against the native device API (issue #6): registration, polls answered 304,
forced, soft (deferred) and download-only actions, cancel, the director's signed targets
checked against the image repository, status reports in order and delivered late when the
server was down, and `upflow sim fleet`.

The device API is FakeDeviceAPI (fake_server.py) until upflowd serves it; the image
repository is a real one built with the CLI against upflowd (as in test_agent.py), copied to
a directory the agents read as file://.
"""
import glob
import json
import os
import subprocess
import time
import unittest

from fake_server import GATEWAY_TOKEN, FakeDeviceAPI
from test_agent import REBOOT, AgentTestCase, Device, copy_repository
from upflow_test import UPFLOW

DEVICE = "dev-1"  # test_agent.Device's id


def image_targets(repo):
    """Every target the copied repository's targets roles sign: {path: entry}."""
    out = {}
    for path in glob.glob(os.path.join(repo, "metadata", "*.json")):
        with open(path) as f:
            doc = json.load(f)
        if doc["signed"]["_type"] == "targets":
            out.update(doc["signed"]["targets"])
    return out


def action(aid, version, type_="forced", window_open=True, cancel=False):
    return {"id": aid, "rollout": 1, "release": f"gw/{version}/rootfs.upfidx",
            "version": version, "type": type_, "window_open": window_open, "cancel": cancel}


class ServerActions(AgentTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.repo = os.path.join(cls.tmp, "repo-copy")
        copy_repository(cls.srv.url, cls.repo)
        cls.targets = image_targets(cls.repo)

    def setUp(self):
        super().setUp()
        self.api = FakeDeviceAPI(os.path.join(self.dir, "api"), self.targets)
        self.addCleanup(self.api.close)
        self.token_file = os.path.join(self.dir, "gateway-token")
        with open(self.token_file, "w") as f:
            f.write(GATEWAY_TOKEN + "\n")

    def server_device(self, **kw):
        dev = self.device(repo_url="file://" + self.repo, **kw)
        with open(dev.config, "a") as f:
            f.write(f"[server]\nurl = {self.api.url}\nattributes = site=shanghai\n")
        dev.agent("register", "--gateway-token-file", self.token_file, expect=0)
        return dev

    def steps(self, aid=None):
        return [b["step"] for a, b in self.api.statuses_of(DEVICE) if aid is None or a == aid]

    def settle(self, dev):
        """run --once, power-cycling while it asks for a reboot."""
        for _ in range(6):
            r = dev.agent("run", "--once")
            if r.returncode == 0:
                return r
            self.assertEqual(r.returncode, REBOOT, r.stderr)
            dev.power_on()
        self.fail("the agent did not settle")

    def test_register_stores_a_private_token_and_refuses_a_second_time(self):
        dev = self.server_device()
        token = os.path.join(dev.root, "data", "device-token")
        self.assertEqual(os.stat(token).st_mode & 0o777, 0o600)
        self.assertTrue(os.path.exists(os.path.join(dev.root, "data", "director-key.json")))
        inv = self.api.inventory[DEVICE]
        self.assertEqual(inv["hardware"], "rev2")
        self.assertEqual(inv["slots"]["A"], {"version": "1.0.0", "committed": True})
        self.assertEqual(inv["attributes"], {"site": "shanghai"})
        os.unlink(token)
        r = dev.agent("register", "--gateway-token-file", self.token_file, expect=1)
        self.assertIn("already has a token", r.stderr)

    def test_idle_poll(self):
        dev = self.server_device()
        dev.agent("run", "--once", expect=0)  # a fresh process has no ETag: 200 (304: Fleet)
        self.assertEqual(self.api.polls[-1], (DEVICE, 200))
        self.assertEqual(dev.step(), "idle")

    def test_forced_install_reports_every_step_in_order(self):
        dev = self.server_device()
        self.api.assign(DEVICE, action(17, "2.0.0"))
        dev.agent("run", "--once", expect=REBOOT)
        self.assertEqual(dev.power_on(), "B")
        dev.agent("run", "--once", expect=0)
        self.assertEqual(dev.step(), "success")
        steps = self.steps(17)
        self.assertEqual([s for s in steps if s != "downloading"][:1], ["downloaded"])
        self.assertEqual(steps[0], "downloading")
        self.assertEqual(steps[-6:], ["downloaded", "installing", "installed", "rebooting",
                                      "trial", "success"])
        progress = [b["progress"] for _, b in self.api.statuses_of(DEVICE) if b["step"] == "downloading"]
        self.assertEqual(progress, sorted(progress))
        self.assertEqual(progress[-1], 100)
        self.assertEqual(self.api.inventory[DEVICE]["version"], "2.0.0")
        # the same action polled again (the server has not closed it): nothing happens
        dev.agent("run", "--once", expect=0)
        self.assertEqual(self.steps(17), steps)

    def test_failing_health_check_reports_failure_and_rollback(self):
        dev = self.server_device(health=("echo pump controller self-test failed; exit 1",))
        self.api.assign(DEVICE, action(18, "2.0.0"))
        self.settle(dev)
        self.assertEqual(dev.step(), "rolled_back")
        steps = self.steps(18)
        self.assertEqual(steps[-3:], ["trial", "failure", "rolled_back"])
        failure = [b for _, b in self.api.statuses_of(DEVICE) if b["step"] == "failure"][0]
        self.assertIn("self-test failed", failure["log_tail"])
        self.assertEqual(dev.running(), "A")

    def test_trial_without_contact_with_the_server_rolls_back(self):
        dev = self.server_device()
        with open(dev.config, "a") as f:
            f.write("trial_contact = 2\n")   # appended to the [server] section
        self.api.assign(DEVICE, action(21, "2.0.0"))
        dev.agent("run", "--once", expect=REBOOT)
        self.assertEqual(dev.power_on(), "B")
        self.api.unreachable = True          # the new system cannot phone home
        self.api.down = True
        started = time.time()
        dev.agent("run", "--once", expect=REBOOT)
        self.assertGreaterEqual(time.time() - started, 2)
        self.assertEqual(dev.step(), "failure")
        self.assertIn("no contact with the server within 2 s", dev.status()["update"]["reason"])
        self.assertEqual(dev.power_on(), "A")
        self.api.unreachable = self.api.down = False
        self.settle(dev)
        self.assertEqual(dev.step(), "rolled_back")
        self.assertEqual(self.steps(21)[-2:], ["failure", "rolled_back"])
        self.assertEqual(dev.running(), "A")

    def test_cancel_is_acknowledged_once(self):
        dev = self.server_device()
        self.api.assign(DEVICE, action(19, "2.0.0", window_open=False))
        dev.agent("run", "--once", expect=0)   # window closed: waits
        self.assertEqual(self.steps(19), [])
        self.api.assign(DEVICE, action(19, "2.0.0", cancel=True))
        dev.agent("run", "--once", expect=0)
        dev.agent("run", "--once", expect=0)
        self.assertEqual(self.steps(19), ["canceled"])
        self.assertEqual(dev.step(), "idle")

    def test_download_only_writes_the_slot_without_a_trial(self):
        dev = self.server_device()
        self.api.assign(DEVICE, action(20, "2.0.0", "download_only"))
        dev.agent("run", "--once", expect=0)
        self.assertEqual(dev.step(), "downloaded")
        self.assertEqual(self.steps(20)[-1], "downloaded")
        self.assertNotIn("rebooting", self.steps(20))
        state = dev.slot_state()
        self.assertFalse(state["B"]["trial"])
        self.assertEqual(dev.slot_bytes("B", len(self.images["2.0.0"])), self.images["2.0.0"])
        # a power cycle leaves it parked
        self.assertEqual(dev.power_on(), "A")
        dev.agent("run", "--once", expect=0)
        self.assertEqual(dev.step(), "downloaded")
        # then the install order: no second download, straight to the trial
        self.api.assign(DEVICE, action(21, "2.0.0"))
        dev.agent("run", "--once", expect=REBOOT)
        self.assertEqual(dev.power_on(), "B")
        dev.agent("run", "--once", expect=0)
        self.assertEqual(dev.step(), "success")

    def test_soft_action_is_deferred_while_the_device_defers(self):
        dev = self.server_device()
        defer = os.path.join(dev.root, "data", "defer")
        open(defer, "w").close()
        self.api.assign(DEVICE, action(22, "2.0.0", "soft"))
        dev.agent("run", "--once", expect=0)
        dev.agent("run", "--once", expect=0)
        self.assertEqual(self.steps(22), ["deferred"])
        self.assertEqual(dev.step(), "idle")
        os.unlink(defer)
        dev.agent("run", "--once", expect=REBOOT)
        self.assertIn("rebooting", self.steps(22))

    def test_director_disagreeing_with_the_repository_is_refused(self):
        dev = self.server_device()
        before = dev.slot_bytes("B", 1 << 20)
        self.api.director_override = {"sha256": "ab" * 32}
        self.api.assign(DEVICE, action(23, "2.0.0"))
        dev.agent("run", "--once", expect=0)
        self.assertEqual(self.steps(23), ["failure"])
        failure = self.api.statuses_of(DEVICE)[-1][1]
        self.assertIn("director and image repository disagree", failure["reason"])
        self.assertEqual(dev.slot_bytes("B", 1 << 20), before)
        # a director entry for another device is refused as well
        self.api.director_override = {"device": "pump-0042"}
        self.api.assign(DEVICE, action(24, "2.0.0"))
        dev.agent("run", "--once", expect=0)
        self.assertEqual(self.steps(24), ["failure"])
        self.assertIn("pump-0042", self.api.statuses_of(DEVICE)[-1][1]["reason"])

    def test_events_wait_while_the_server_is_down_and_arrive_in_order(self):
        dev = self.server_device()
        self.api.assign(DEVICE, action(25, "2.0.0"))
        self.api.down = True
        dev.agent("run", "--once", expect=REBOOT)
        self.assertEqual(self.steps(25), [])
        dev.power_on()
        dev.agent("run", "--once", expect=0)
        self.assertEqual(self.steps(25), [])
        self.api.down = False
        dev.agent("run", "--once", expect=0)
        local = [e["step"] for e in dev.events() if e.get("action") == 25]
        self.assertEqual(self.steps(25), local)
        self.assertEqual(local[-1], "success")


class Fleet(ServerActions):
    """upflow sim fleet: devices of two hardware revisions, one of which fails its check."""

    def test_fleet_updates_and_rolls_back_by_hardware(self):
        for i in range(1, 7):
            self.api.assign(f"sim-{i:04d}", action(100 + i, "2.1.0"))
        r = subprocess.run([UPFLOW, "sim", "fleet", "--server", self.api.url,
                            "--gateway-token-file", self.token_file, "--devices", "6",
                            "--repo", "file://" + self.repo, "--root", self.root_json,
                            "--dir", os.path.join(self.dir, "fleet"), "--threads", "3",
                            "--hardware-mix", "rev1:2,rev2:1", "--fail-hardware", "rev2",
                            "--until-idle", "3", "--json"],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        self.assertEqual(s["devices"], 6)
        self.assertEqual(s["states"]["updated"], 4, s)
        self.assertEqual(s["states"]["rolled_back"], 2, s)
        self.assertEqual(s["by_hardware"]["rev2"]["rolled_back"], 2, s)
        for i in range(1, 7):
            steps = [b["step"] for a, b in self.api.statuses_of(f"sim-{i:04d}")]
            self.assertIn(steps[-1], ("success", "rolled_back"))
        # devices that keep polling send If-None-Match and get 304 while nothing changes
        self.assertIn(304, [status for _, status in self.api.polls])


# the tests of ServerActions are not run again through Fleet
for name in [n for n in dir(ServerActions) if n.startswith("test_")]:
    setattr(Fleet, name, None)

if __name__ == "__main__":
    unittest.main()
