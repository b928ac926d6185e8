"""Harness for upflow's integration tests: a real upflowd on loopback, real HTTP.

Each test case gets a fresh data directory and server (port 0, the port read back from
--port-file), users made with `upflowd admin create-user`, and a small client that returns
(status, json). Only the Python standard library is used.
"""
import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

BUILD = os.environ.get("UPFLOW_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build/release"))
UPFLOWD = os.environ.get("UPFLOWD", os.path.join(BUILD, "src/upflowd"))
UPFLOW = os.environ.get("UPFLOW", os.path.join(BUILD, "src/upflow"))
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
PASSWORD = "correct horse battery"


def read_text(path):
    with open(path) as f:
        return f.read()


class Server:
    """One upflowd process with its own data directory."""

    def __init__(self, templates_dir=None, extra=()):
        self.dir = tempfile.mkdtemp(prefix="upflow-it-")
        self.data = os.path.join(self.dir, "data")
        self.settings = ["--set", "auth.scrypt_log2_n=10",
                         "--set", "workflow.templates_dir=" + (templates_dir or os.path.join(SOURCE, "templates")),
                         "--set", "workflow.calendars_dir=" + os.path.join(SOURCE, "calendars"),
                         *extra]
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.dir, "upflowd.log")

    def admin(self, *args, stdin=None, check=True):
        cmd = [UPFLOWD, "-d", self.data, *self.settings, "admin", *args]
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} -> {r.returncode}: {r.stderr}")
        return r

    def add_user(self, username, *roles, customer=None):
        args = ["create-user", "--username", username, "--password-file", "-"]
        for role in roles:
            args += ["--role", role]
        if customer:
            args += ["--customer", customer]
        self.admin(*args, stdin=PASSWORD + "\n")

    def start(self):
        port_file = os.path.join(self.dir, "port")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([UPFLOWD, "-d", self.data, "-l", "127.0.0.1:0",
                                      "--port-file", port_file, *self.settings],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(port_file) and read_text(port_file).strip():
                self.port = int(read_text(port_file))
                return self
            if self.proc.poll() is not None:
                raise AssertionError("upflowd exited: " + read_text(self.log_path))
            time.sleep(0.05)
        raise AssertionError("upflowd did not start: " + read_text(self.log_path))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        """Stop the server; fail if it did not exit cleanly or a sanitizer spoke (Asan build)."""
        code = self.stop()
        log = read_text(self.log_path) if os.path.exists(self.log_path) else ""
        shutil.rmtree(self.dir, ignore_errors=True)
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in log:
                raise AssertionError("upflowd: " + marker + "\n" + log[-6000:])
        if code not in (None, 0):
            raise AssertionError(f"upflowd exited with {code}:\n" + log[-3000:])

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, token=None, raw=None, headers=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if data is not None and "Content-Type" not in (headers or {}):
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                payload = r.read()
                status, hdrs = r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            payload, status, hdrs = e.read(), e.code, dict(e.headers)
        ctype = hdrs.get("Content-Type", "")
        if ctype.startswith("application/json"):
            return status, json.loads(payload)
        return status, payload

    def login(self, username, password=PASSWORD):
        status, body = self.request("POST", "/api/v1/auth/login", {"username": username, "password": password})
        if status != 200:
            raise AssertionError(f"login {username}: {status} {body}")
        return body["token"]

    def sqlite(self, sql):
        """Run SQL with the sqlite3 command-line tool, as an operator (or an attacker) would."""
        r = subprocess.run(["sqlite3", os.path.join(self.data, "upflow.db"), sql],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError("sqlite3: " + r.stderr)
        return r.stdout


class LoopbackHTTP:
    """A threaded HTTP server on 127.0.0.1 with a handler class, for mirrors and proxies that
    stand between a client and upflowd."""

    def start_http(self, handler):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ServerTestCase(unittest.TestCase):
    """A test case with a started server in self.srv (users are added in setUpUsers)."""

    templates_dir = None

    def setUp(self):
        self.srv = Server(self.templates_dir)
        self.addCleanup(self.srv.cleanup)
        self.setUpUsers()
        self.srv.start()

    def setUpUsers(self):
        pass

    def api(self, method, path, body=None, token=None, expect=None, **kw):
        status, payload = self.srv.request(method, path, body, token, **kw)
        if expect is not None and status != expect:
            self.fail(f"{method} {path}: expected {expect}, got {status}: {payload}")
        return status, payload

    def assertError(self, status, payload, want_status, want_code):
        self.assertEqual(status, want_status, payload)
        self.assertIsInstance(payload, dict, payload)
        self.assertIn("error", payload, payload)
        self.assertEqual(payload["error"]["code"], want_code, payload)
        self.assertTrue(payload["error"]["message"], payload)
