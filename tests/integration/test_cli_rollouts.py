"""`upflow device`, `upflow release published` and `upflow rollout` against a real upflowd:
each command with --json and as people read it, usage errors (exit 2), a refusal of the
approval gate shown with the server's message (exit 1), and `rollout wait`. The repository
is built with the CLI and devices are played over HTTP, as in test_rollouts.py."""
import json
import os
import subprocess
import time
import unittest

from test_rollouts import RolloutTestCase
from upflow_test import UPFLOW

RELEASE = "gw/2.0.0/rootfs.upfidx"


class CliRolloutCase(RolloutTestCase):
    def run_cli(self, *args, user="rm", expect=0):
        """upflow ARGS as `user`; returns the completed process after checking its status."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("UPFLOW_")}
        env.update(UPFLOW_SERVER=self.srv.url, UPFLOW_TOKEN=self.t[user], HOME=self.tmp)
        r = subprocess.run([UPFLOW, *args], capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(r.returncode, expect, f"upflow {' '.join(args)}:\n{r.stdout}\n{r.stderr}")
        return r

    def json_of(self, *args, **kw):
        return json.loads(self.run_cli(*args, "--json", **kw).stdout)

    def assertUsage(self, *args):
        r = self.run_cli(*args, expect=2)
        self.assertIn("Try '", r.stderr)
        return r

    def enrol_cli(self, name, *labels):
        """Enrol with the CLI; the device reports hardware rev1 and version 1.0.0."""
        token = self.run_cli("device", "enrol", name, *labels, "--token-only").stdout.strip()
        self.assertTrue(token.startswith("udt_"), token)
        self.devices[name] = token
        self.dev_api(name, "PUT", "/api/v1/device/inventory",
                     {"hardware": "rev1", "version": "1.0.0"}, expect=200)

    def create_cli(self, req, *extra):
        return self.json_of("rollout", "create", "--release", RELEASE, "--name", "spring",
                            "--change", str(req), *extra)


class Devices(CliRolloutCase):
    def test_enrol_list_label_group_show(self):
        self.enrol_cli("d1", "--attr", "hw=rev2", "--attr", "site=shanghai", "--tag", "pilot")
        out = self.run_cli("device", "enrol", "d2", "--attr", "hw=rev3").stdout
        self.assertIn("enrolled device d2 in tenant default", out)
        self.assertIn("token: udt_", out)
        self.assertIn("shown only this once", out)
        self.devices["d2"] = out.split("token: ")[1].split()[0]
        self.dev_api("d2", "PUT", "/api/v1/device/inventory", {"hardware": "rev1"}, expect=200)

        table = self.run_cli("device", "list").stdout.splitlines()
        self.assertEqual(table[0].split()[:4], ["NAME", "HARDWARE", "VERSION", "STATE"])
        self.assertTrue(table[1].startswith("d1 "), table)
        self.assertIn("hw=rev2 site=shanghai", table[1])
        self.assertIn("pilot", table[1])
        self.assertEqual([d["name"] for d in self.json_of("device", "list", "--filter", 'hw = "rev2"')
                          ["items"]], ["d1"])

        out = self.run_cli("device", "label", "d2", "--attr", "hw=rev2", "--attr", "site=berlin",
                           "--tag", "canary").stdout
        self.assertIn("attributes: hw=rev2 site=berlin", out)
        self.assertIn("tags:       canary", out)
        names = self.json_of("device", "list", "--filter", "tags in (pilot, canary) and hw = rev2")
        self.assertEqual([d["name"] for d in names["items"]], ["d1", "d2"])

        self.assertIn("group early (tenant default): 2 devices",
                      self.run_cli("device", "group", "early", "d1", "d2").stdout)
        self.run_cli("device", "group", "early", "d2")   # sets the members: d1 leaves
        self.assertEqual([d["name"] for d in self.json_of("device", "list", "--group", "early")["items"]],
                         ["d2"])

        # a device's page: inventory, groups, last seen, and its history with reasons
        req = self.to_release_pending()
        self.create(changes=[req], start="auto", release=RELEASE)
        self.fail_device("d2", reason="watchdog fired in trial")
        page = self.run_cli("device", "show", "d2").stdout
        for text in ("device d2 (tenant default)", "hardware:   rev1", "groups:     early",
                     "history (newest first):", "rolled_back", "watchdog fired in trial",
                     "log: selftest: FAIL"):
            self.assertIn(text, page)
        self.assertNotIn("last seen:  -", page)    # d2 polled; d1 never did
        self.assertIn("last seen:  -", self.run_cli("device", "show", "d1").stdout)
        self.assertEqual(self.json_of("device", "show", "d2")["history"][0]["step"], "rolled_back")

        r = self.run_cli("device", "show", "nosuch", expect=1)
        self.assertIn("no device nosuch in default", r.stderr)

    def test_gateway_token(self):
        r = self.run_cli("device", "gateway-token", expect=1)
        self.assertIn("forbidden", r.stderr)
        token = self.run_cli("device", "gateway-token", user="root").stdout.strip()
        self.assertTrue(token.startswith("ugw_"), token)
        status, reg = self.srv.request("POST", "/api/v1/device/register",
                                       {"device_id": "gw-new", "inventory": {"hardware": "rev4"}},
                                       token=token)
        self.assertEqual(status, 201, reg)
        self.assertIn("gw-new", self.run_cli("device", "list", "--filter", "hardware = rev4").stdout)

    def test_usage_errors(self):
        self.assertUsage("device", "enrol")
        self.assertUsage("device", "enrol", "bad name")
        self.assertUsage("device", "enrol", "d1", "--attr", "version=2")
        self.assertUsage("device", "enrol", "d1", "--attr", "novalue")
        self.assertUsage("device", "enrol", "d1", "--token-only", "--json")
        self.assertUsage("device", "label", "d1")
        self.assertUsage("device", "group", "early")
        self.assertUsage("device", "list", "--bogus")
        self.assertUsage("device", "list", "extra")
        self.assertUsage("device", "list", "--tenant", "a/b")
        self.assertUsage("device")
        for cmd in ("list", "show", "enrol", "label", "group", "gateway-token"):
            self.assertIn("Usage: upflow device " + cmd, self.run_cli("device", cmd, "--help").stdout)


class Releases(CliRolloutCase):
    def test_published_and_the_workspace_list_still_works(self):
        table = self.run_cli("release", "published").stdout.splitlines()
        self.assertEqual(table[0].split(), ["PRODUCT", "VERSION", "HARDWARE", "SIZE", "SHA256",
                                            "RELEASE"])
        self.assertEqual([line.split()[1] for line in table[1:]], ["1.0.0", "2.0.0", "2.1.0"])
        self.assertTrue(table[2].endswith(RELEASE))
        items = self.json_of("release", "published")["items"]
        self.assertEqual(items[1]["release"], RELEASE)
        local = self.run_cli("release", "list", "--dir", self.ws).stdout
        self.assertIn("gw/2.0.0/rootfs.upfidx", local)
        self.assertIn("published", self.run_cli("release", "--help").stdout)


class Rollouts(CliRolloutCase):
    def test_create_start_phases_devices_wait_and_rollback(self):
        for i in range(4):
            self.enrol_cli(f"d{i}")
        req = self.to_release_pending()
        r = self.create_cli(req, "--phase", "pilot:50", "--phase", "all:100",
                            "--error-threshold", "50", "--priority", "3")
        rid = str(r["id"])
        self.assertEqual((r["state"], r["priority"], [p["name"] for p in r["phases"]]),
                         ("created", 3, ["pilot", "all"]))
        listing = self.run_cli("rollout", "list").stdout.splitlines()
        self.assertEqual(listing[1].split()[:3], [rid, "created", "2.0.0"])

        page = self.run_cli("rollout", "start", rid).stdout
        self.assertIn("state:       running", page)
        self.assertIn("* pilot", page)
        self.assertEqual(self.get(req)["state"], "DELIVERED")   # T16 at the start
        pilots = [n for n in sorted(self.devices) if self.poll(n)]
        self.assertEqual(len(pilots), 2)
        for n in pilots:
            self.succeed(n)
        page = self.run_cli("rollout", "show", rid).stdout
        self.assertIn("* all", page)
        self.assertIn(f"release:     {RELEASE}, version 2.0.0", page)
        rows = [line.replace("*", " ").split() for line in page.splitlines()]
        counts = {row[0]: row[1:] for row in rows if row and row[0] in ("pilot", "all", "total")}
        header = [line for line in page.splitlines() if line.startswith("PHASE")][0].split()
        self.assertEqual(header, ["PHASE", "SELECTS", "ASSIGNED", "SUCCESS", "TOTAL"])
        self.assertEqual(counts["pilot"], ["50%", "0", "2", "2"])
        self.assertEqual(counts["all"], ["100%", "2", "0", "2"])
        self.assertEqual(counts["total"], ["2", "2", "4"])

        devs = self.run_cli("rollout", "devices", rid, "--state", "success").stdout.splitlines()
        self.assertEqual(len(devs), 3)
        self.assertEqual(devs[1].split()[2:4], ["pilot", "success"])
        self.assertEqual(len(self.json_of("rollout", "devices", rid)["items"]), 4)

        # wait polls until the last devices are done
        env = {k: v for k, v in os.environ.items() if not k.startswith("UPFLOW_")}
        env.update(UPFLOW_SERVER=self.srv.url, UPFLOW_TOKEN=self.t["rm"], HOME=self.tmp)
        waiter = subprocess.Popen([UPFLOW, "rollout", "wait", rid, "--until", "finished,aborted",
                                   "--timeout", "60"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(1.5)
        self.assertIsNone(waiter.poll())
        for n in sorted(set(self.devices) - set(pilots)):
            self.succeed(n)
        out, err = waiter.communicate(timeout=30)
        self.assertEqual((waiter.returncode, out), (0, f"rollout {rid}: finished\n"), err)

        # a finished rollout never becomes paused: wait says so at once
        started = time.time()
        r = self.run_cli("rollout", "wait", rid, "--until", "paused", expect=1)
        self.assertLess(time.time() - started, 10)
        self.assertIn(f"rollout {rid} ended finished, not paused", r.stderr)

        page = self.run_cli("rollout", "rollback", rid).stdout
        self.assertIn(f"rolls back:  rollout {rid}", page)
        self.assertIn("gw/1.0.0/rootfs.upfidx", page)
        self.assertEqual(self.poll("d0")["version"], "1.0.0")

    def test_pause_resume_cancel_wait_timeout_and_options(self):
        self.enrol_cli("d1")
        req = self.to_release_pending()
        r = self.create_cli(req, "--type", "soft", "--window", "0 3 * * *",
                            "--window-duration", "3600", "--window-tz", "Asia/Shanghai",
                            "--filter", 'hardware = "rev1"', "--success-threshold", "90",
                            "--on-error", "abort")
        rid = str(r["id"])
        self.assertEqual(r["window"], {"cron": "0 3 * * *", "duration": 3600, "tz": "Asia/Shanghai"})
        self.assertEqual((r["type"], r["filter"], r["success_threshold"], r["on_error"]),
                         ("soft", 'hardware = "rev1"', 90, "abort"))
        page = self.run_cli("rollout", "show", rid).stdout
        self.assertIn('window:      "0 3 * * *" for 3600 s, Asia/Shanghai', page)
        self.assertIn('devices:     filter hardware = "rev1"', page)
        self.assertIn("thresholds:  next phase at 90% done; abort at 20% failed", page)

        started = time.time()
        r = self.run_cli("rollout", "wait", rid, "--until", "running", "--timeout", "2", expect=1)
        self.assertGreaterEqual(time.time() - started, 2)
        self.assertEqual(r.stdout, f"rollout {rid}: created\n")
        self.assertIn("still created after 2 s, not running", r.stderr)

        self.run_cli("rollout", "start", rid)
        self.assertIn("state:       paused: paused by an operator",
                      self.run_cli("rollout", "pause", rid).stdout)
        self.assertEqual(self.run_cli("rollout", "wait", rid, "--until", "paused,finished").stdout,
                         f"rollout {rid}: paused: paused by an operator\n")
        self.run_cli("rollout", "resume", rid)
        self.assertEqual(self.json_of("rollout", "cancel", rid)["state"], "canceled")
        r = self.run_cli("rollout", "start", rid, expect=1)
        self.assertIn(f"rollout {rid} is canceled: cannot start it", r.stderr)

    def test_the_gate_refuses_and_the_message_is_shown(self):
        self.enrol_cli("d1")
        received = self.to_received()
        r = self.run_cli("rollout", "create", "--release", RELEASE, "--name", "early",
                         "--change", str(received), expect=1)
        self.assertIn(f"change {received} is in RECEIVED, not approved for release", r.stderr)
        self.assertEqual(self.json_of("rollout", "list")["items"], [])
        # approved, then the image under the release's name changes: the start is refused
        req = self.to_release_pending()
        rid = str(self.create_cli(req)["id"])
        r = self.run_cli("rollout", "create", "--release", "gw/2.1.0/rootfs.upfidx", "--name", "x",
                         "--change", str(req), expect=1)
        self.assertIn("approved with another image", r.stderr)
        self.srv.sqlite("UPDATE tuf_targets SET sha256 = '" + "ab" * 32 + f"' WHERE path = '{RELEASE}'")
        r = self.run_cli("rollout", "start", rid, expect=1)
        self.assertIn("changed after approval", r.stderr)
        self.assertEqual(self.get(req)["state"], "RELEASE_PENDING")

    def test_usage_errors(self):
        base = ("rollout", "create", "--release", RELEASE, "--name", "n")
        self.assertIn("missing --change", self.assertUsage(*base).stderr)
        self.assertIn("missing --release", self.assertUsage("rollout", "create", "--name", "n",
                                                            "--change", "1").stderr)
        self.assertUsage(*base, "--change", "x")
        self.assertUsage(*base, "--change", "1", "--phase", "pilot")
        self.assertUsage(*base, "--change", "1", "--phase", "pilot:101")
        self.assertUsage(*base, "--change", "1", "--phase-filter", "pilot:")
        self.assertUsage(*base, "--change", "1", "--on-error", "explode")
        self.assertUsage(*base, "--change", "1", "--type", "hard")
        self.assertUsage(*base, "--change", "1", "--error-threshold", "0")
        self.assertUsage(*base, "--change", "1", "--window", "0 3 * * *")
        self.assertUsage(*base, "--change", "1", "--window-duration", "60")
        self.assertUsage(*base, "--change", "1", "--start", "scheduled")
        self.assertUsage(*base, "--change", "1", "--start", "auto", "--start-at",
                         "2030-01-01T00:00:00Z")
        self.assertUsage("rollout", "show", "abc")
        self.assertUsage("rollout", "show")
        self.assertUsage("rollout", "start", "1", "2")
        self.assertUsage("rollout", "wait", "1")
        self.assertUsage("rollout", "wait", "1", "--until", "done")
        self.assertUsage("rollout", "wait", "1", "--until", "finished", "--timeout", "-1")
        self.assertUsage("rollout", "frobnicate")
        for cmd in ("create", "list", "show", "devices", "start", "pause", "resume", "cancel",
                    "rollback", "wait"):
            self.assertIn("Usage: upflow rollout " + cmd, self.run_cli("rollout", cmd, "--help").stdout)
        r = self.run_cli("rollout", "show", "999", expect=1)
        self.assertIn("no rollout 999", r.stderr)


if __name__ == "__main__":
    unittest.main()
