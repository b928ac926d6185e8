"""A stand-in for upflowd's native device API (issue #6), for the agent's tests until the real
one lands: registration with a gateway token, polls with ETag/304, a director that signs
per-device targets with a key made by `upflow key generate` (signed by `upflow repo sign`),
status reports and inventory, all recorded for the test to check. Standard library only.

The test decides what each device is told: `assign(device, action)` sets its action,
`director_override` changes what the director signs, `down = True` answers status reports
with 503 as a server in trouble would.
"""
import hashlib
import http.server
import json
import os
import re
import subprocess
import threading

from upflow_test import UPFLOW, LoopbackHTTP

GATEWAY_TOKEN = "ugw_test-gateway-token"


class FakeDeviceAPI(LoopbackHTTP):
    def __init__(self, workdir, image_targets):
        """image_targets: {path: {"length", "hashes"}} as the image repository signed them."""
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.image_targets = image_targets
        self.lock = threading.Lock()
        self.tokens = {}          # token -> device id
        self.actions = {}         # device -> action dict or None
        self.statuses = []        # (device, action id, body)
        self.inventory = {}       # device -> last inventory
        self.polls = []           # (device, status code)
        self.director_override = None  # {"length"|"sha256"|"device"|"action": value}
        self.down = False
        self.unreachable = False  # polls answer 503 too: the device cannot reach the server
        self.closed = set()       # action ids closed: statuses get 409
        self.director_version = 0
        key_file = os.path.join(workdir, "director.pem")
        r = subprocess.run([UPFLOW, "key", "generate", "--out", key_file], capture_output=True,
                           text=True, check=True)
        self.key_file = key_file
        self.director_key = json.loads(r.stdout)["key"]
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def send(self, status, body=None, headers=()):
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(n)) if n else None

            def bearer(self):
                auth = self.headers.get("Authorization", "")
                return auth[7:] if auth.startswith("Bearer ") else None

            def device(self):
                with api.lock:
                    return api.tokens.get(self.bearer())

            def do_POST(self):
                body = self.body()
                if self.path == "/api/v1/device/register":
                    return self.register(body)
                dev = self.device()
                m = re.fullmatch(r"/api/v1/device/actions/(\d+)/status", self.path)
                if not dev:
                    return self.send(401, {"error": {"code": "unauthorized", "message": "no"}})
                if not m:
                    return self.send(404, {})
                aid = int(m.group(1))
                with api.lock:
                    if api.down:
                        return self.send(503, {"error": {"code": "io", "message": "down"}})
                    act = api.actions.get(dev)
                    known = any(a == aid for d, a, _ in api.statuses if d == dev)
                    if not known and (not act or act["id"] != aid):
                        return self.send(404, {"error": {"code": "not_found", "message": "x"}})
                    if aid in api.closed:
                        return self.send(409, {"error": {"code": "conflict", "message": "closed"}})
                    api.statuses.append((dev, aid, body))
                self.send(200, {"ok": True})

            def register(self, body):
                if self.bearer() != GATEWAY_TOKEN:
                    return self.send(401, {"error": {"code": "unauthorized", "message": "bad token"}})
                dev = body["device_id"]
                with api.lock:
                    if dev in api.tokens.values():
                        return self.send(409, {"error": {"code": "conflict",
                                                         "message": "device has a token"}})
                    token = "udt_" + hashlib.sha256(dev.encode()).hexdigest()[:24]
                    api.tokens[token] = dev
                    api.inventory[dev] = body["inventory"]
                self.send(201, {"device_id": dev, "tenant": "default", "token": token,
                                "director_key": api.director_key, "poll_interval": 1})

            def do_PUT(self):
                dev = self.device()
                if not dev or self.path != "/api/v1/device/inventory":
                    return self.send(401 if not dev else 404, {})
                with api.lock:
                    api.inventory[dev] = self.body()
                self.send(200, {"ok": True})

            def do_GET(self):
                dev = self.device()
                if not dev:
                    return self.send(401, {"error": {"code": "unauthorized", "message": "no"}})
                if self.path == "/api/v1/device/poll":
                    if api.unreachable:
                        return self.send(503, {"error": {"code": "io", "message": "unreachable"}})
                    with api.lock:
                        body = {"poll_interval": 1, "action": api.actions.get(dev)}
                    etag = '"%s"' % hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
                    status = 304 if self.headers.get("If-None-Match") == etag else 200
                    with api.lock:
                        api.polls.append((dev, status))
                    if status == 304:
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.end_headers()
                        return
                    return self.send(200, body, [("ETag", etag)])
                if self.path == "/api/v1/device/director/targets.json":
                    data = api.director_targets(dev)
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send(404, {})

            def log_message(self, *args):
                pass

        self.start_http(Handler)

    def assign(self, device, action):
        with self.lock:
            self.actions[device] = action

    def statuses_of(self, device):
        with self.lock:
            return [(a, b) for d, a, b in self.statuses if d == device]

    def director_targets(self, device):
        """The director's targets for device, signed by the director key."""
        with self.lock:
            act = self.actions.get(device)
            self.director_version += 1
            version = self.director_version
            override = dict(self.director_override or {})
        targets = {}
        if act:
            t = self.image_targets[act["release"]]
            targets[act["release"]] = {
                "length": override.get("length", t["length"]),
                "hashes": {"sha256": override.get("sha256", t["hashes"]["sha256"])},
                "custom": {"upflow": {"action": override.get("action", act["id"]),
                                      "device": override.get("device", device)}}}
        signed = {"_type": "targets", "spec_version": "1.0.31", "version": version,
                  "expires": "2099-01-01T00:00:00Z", "targets": targets}
        path = os.path.join(self.workdir, f"director-{device}-{version}.json")
        with open(path, "w") as f:
            json.dump({"signed": signed, "signatures": []}, f)
        subprocess.run([UPFLOW, "repo", "sign", path, "--key", self.key_file, "--replace"],
                       cwd=self.workdir, capture_output=True, check=True)
        with open(path, "rb") as f:
            return f.read()
