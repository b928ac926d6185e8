"""Debian's real swupdate (2022.12, its hawkBit "suricatta" client) as the device against
upflowd's DDI on loopback: a rollout of a .swu made and signed with `upflow swu create`
reaches it, it installs into a file, the action is closed with `swupdate-ipc sendtohawkbit`
and the server shows the device updated; a wrong hardware revision ends as a failure that
trips the error threshold; a cancel is acknowledged; a download cut in the middle resumes
with Range (through a proxy that cuts it). Skipped, with the reason, when swupdate cannot
run here."""
import hashlib
import http.client
import http.server
import os
import shutil
import signal
import subprocess
import threading
import time
import unittest

from test_ddi import DdiTestCase
from upflow_test import UPFLOW, LoopbackHTTP

SWUPDATE = shutil.which("swupdate")
SWUPDATE_IPC = shutil.which("swupdate-ipc")
POLL = 2  # devices.poll_interval: swupdate sleeps a whole interval between cycles

SW_DESCRIPTION = """software =
{
	version = "3.0.0";
	description = "upflow test update";
	hardware-compatibility = [ "1.0" ];
	images: (
		{
			filename = "image.bin";
			type = "rawfile";
			path = "%s";
			sha256 = "$swupdate_get_sha256(image.bin)";
			properties = { create-destination = "true"; };
		}
	);
}
"""


def why_no_swupdate():
    if not SWUPDATE or not SWUPDATE_IPC:
        return "swupdate / swupdate-ipc not installed (Debian package swupdate)"
    try:
        r = subprocess.run([SWUPDATE, "-h"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"swupdate cannot run here: {e}"
    if "suricatta" not in (r.stdout + r.stderr):
        return "this swupdate has no suricatta (hawkBit) client"
    return None


@unittest.skipIf(why_no_swupdate(), why_no_swupdate())
class SwupdateTestCase(DdiTestCase):
    server_extra = ("--set", f"devices.poll_interval={POLL}")

    def setUp(self):
        super().setUp()
        self.run_dir = os.path.join(self.tmp, "run")  # swupdate's TMPDIR: its IPC sockets
        os.makedirs(self.run_dir)
        self.installed = os.path.join(self.tmp, "device", "image.bin")
        self.cert, self.key = os.path.join(self.tmp, "signer.pem"), os.path.join(self.tmp, "signer.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                        "-keyout", self.key, "-out", self.cert, "-subj", "/O=SWUpdate/CN=upflow-test"],
                       check=True, capture_output=True)
        self.image = os.urandom(256 * 1024)
        image = os.path.join(self.tmp, "image.bin")
        with open(image, "wb") as f:
            f.write(self.image)
        desc = os.path.join(self.tmp, "sw-description")
        with open(desc, "w") as f:
            f.write(SW_DESCRIPTION % self.installed)
        swu = os.path.join(self.tmp, "signed", "update.swu")
        os.makedirs(os.path.dirname(swu))
        self.cli("swu", "create", "-d", desc, "-c", self.cert, "-k", self.key, "-o", swu, image)
        with open(swu, "rb") as f:
            head = f.read(130)
        self.assertEqual(head[:6], b"070701")
        self.assertEqual(head[110:125], b"sw-description\0")
        self.cli("release", "add-file", "--dir", self.ws, swu, "--product", "gw", "--version", "4.0.0")
        self.cli("repo", "push", "--dir", self.ws)
        self.proc = None

    def start_swupdate(self, name, hwrev="1.0", url=None):
        suricatta = (f"-t DEFAULT -u {url or self.srv.url} -i {name} -k {self.devices[name]}"
                     f" -p {POLL} -r 3 -w 1")
        self.log_path = os.path.join(self.tmp, f"swupdate-{name}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([SWUPDATE, "-v", "-k", self.cert, "-H", f"testboard:{hwrev}",
                                      "-u", suricatta],
                                     env={**os.environ, "TMPDIR": self.run_dir},
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(self.stop_swupdate)

    def stop_swupdate(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def swupdate_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_for(self, what, check, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.3)
        self.fail(f"timed out waiting for {what}; swupdate said:\n" + self.swupdate_log()[-4000:])

    def action_of_rollout(self, rid, name="dev-1"):
        items = self.api("GET", f"/api/v1/rollouts/{rid}/devices", token=self.t["rm"], expect=200)[1]["items"]
        return {d["device"]: d for d in items}.get(name, {})

    def action_state(self, rid, name):
        return self.action_of_rollout(rid, name).get("state")

    def swu_release(self, **spec):
        return self.create(changes=[self.to_release_pending()], release="gw/4.0.0/update.swu",
                           start="auto", **spec)

    def installed_image(self):
        if not os.path.exists(self.installed):
            return False
        with open(self.installed, "rb") as f:
            return f.read() == self.image


class Install(SwupdateTestCase):
    def test_rollout_install_close_with_ipc(self):
        self.enrol("dev-1")
        r = self.swu_release()
        action = self.poll("dev-1")["id"]
        self.start_swupdate("dev-1")
        self.wait_for("the image installed into a file", self.installed_image)
        # swupdate leaves the action open until the test result is reported (§10.5)
        self.wait_for("the last progress feedback",
                      lambda: "All Chunks Installed" in self.action_of_rollout(r["id"])["log_tail"])
        self.assertNotEqual(self.rollout(r["id"])["state"], "finished")
        self.assertEqual(self.device("dev-1")["inventory"].get("attributes", {}), {})  # no identify section
        ipc = subprocess.run([SWUPDATE_IPC, "sendtohawkbit", str(action), "2", "success", "closed",
                              "Update verified by test"], env={**os.environ, "TMPDIR": self.run_dir},
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(ipc.returncode, 0, ipc.stdout + ipc.stderr)
        self.wait_for("the action closed", lambda: self.action_state(r["id"], "dev-1") == "success")
        self.assertEqual(self.rollout(r["id"])["state"], "finished")
        dev = self.device("dev-1")
        self.assertEqual((dev["version"], dev["state"]), ("4.0.0", "success"))
        log = self.swupdate_log()
        self.assertIn("SWUPDATE successful", log)

    def test_wrong_hardware_is_a_failure(self):
        self.enrol("dev-1")
        r = self.swu_release(error_threshold=20)
        self.start_swupdate("dev-1", hwrev="2.0")
        self.wait_for("the failure reported", lambda: self.action_state(r["id"], "dev-1") == "failure")
        self.assertFalse(os.path.exists(self.installed))
        r = self.rollout(r["id"])
        self.assertEqual(r["state"], "paused")
        self.assertIn("error threshold", r["state_reason"])
        items = self.api("GET", f"/api/v1/rollouts/{r['id']}/devices?state=failure", token=self.t["rm"],
                         expect=200)[1]["items"]
        self.assertIn("No suitable .swu image found", items[0]["reason"])
        # swupdate's own log lines came with its progress feedback: the device's history
        self.assertIn("not compatible with hardware", self.srv.sqlite("SELECT log_tail FROM device_events"))

    def test_cancel_is_acknowledged(self):
        self.enrol("dev-1")
        r = self.swu_release()
        self.command(r["id"], "cancel")
        self.start_swupdate("dev-1")
        self.wait_for("the cancel acknowledged", lambda: self.action_state(r["id"], "dev-1") == "canceled")
        self.assertFalse(os.path.exists(self.installed))


class CuttingProxy(http.server.BaseHTTPRequestHandler):
    """Forwards to upflowd; cuts the first full artifact download in the middle."""
    protocol_version = "HTTP/1.1"
    upstream = None
    cut_done = False
    ranges = []

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=30)
        conn.request(self.command, self.path, body=body, headers=dict(self.headers))
        resp = conn.getresponse()
        data = resp.read()
        artifact = "/artifacts/" in self.path and self.command == "GET"
        if artifact and self.headers.get("Range"):
            type(self).ranges.append((self.headers["Range"], resp.status))
        cut = artifact and not self.headers.get("Range") and not type(self).cut_done
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding"):
                self.send_header(k, v)
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data[:len(data) // 2] if cut else data)
        if cut:
            type(self).cut_done = True
            self.wfile.flush()
            self.close_connection = True
        conn.close()

    do_GET = do_POST = do_PUT = do_HEAD = forward


class Resume(SwupdateTestCase, LoopbackHTTP):
    def test_cut_download_resumes_with_range(self):
        self.enrol("dev-1")
        r = self.swu_release()
        CuttingProxy.upstream = self.srv.port
        CuttingProxy.cut_done, CuttingProxy.ranges = False, []
        self.start_http(CuttingProxy)
        self.addCleanup(self.close)
        self.start_swupdate("dev-1", url=LoopbackHTTP.url.fget(self))
        self.wait_for("the image installed into a file", self.installed_image, timeout=90)
        self.assertTrue(CuttingProxy.cut_done)
        self.assertTrue(CuttingProxy.ranges, "no Range request after the cut")
        rng, status = CuttingProxy.ranges[0]
        self.assertRegex(rng, r"^bytes=[1-9][0-9]*-$")
        self.assertEqual(status, 206)
        self.assertNotEqual(self.action_state(r["id"], "dev-1"), "failure")


if __name__ == "__main__":
    unittest.main()
