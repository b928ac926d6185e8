"""hawkBit's device API (DDI) in upflowd, as hawkbit-ddi.md documents it: the documented bodies
of every endpoint replayed and their answers checked field by field; TargetToken and
GatewayToken; ETag/304; Range downloads; feedback driving rollouts to success, to the error
threshold, to a cancel; download-only and maintenance-window actions; forwarded links."""
import hashlib
import json
import os
import unittest
import urllib.error
import urllib.request

from test_rollouts import RolloutTestCase

SWU = b"070701" + bytes(range(256)) * 300  # stands in for a .swu: the server never opens it


class DdiTestCase(RolloutTestCase):
    def setUp(self):
        super().setUp()
        self.swu = os.path.join(self.tmp, "update.swu")
        with open(self.swu, "wb") as f:
            f.write(SWU)
        self.cli("release", "add-file", "--dir", self.ws, self.swu, "--product", "gw",
                 "--version", "3.0.0", "--notes", "fixes the pump controller")
        self.cli("repo", "push", "--dir", self.ws)

    def base(self, name, tenant="DEFAULT"):
        return f"/{tenant}/controller/v1/{name}"

    def ddi(self, method, path, body=None, auth=None, headers=None, name=None):
        """(status, headers, body) with Authorization: TargetToken of `name` unless auth."""
        req = urllib.request.Request(self.srv.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        if auth is None and name:
            auth = "TargetToken " + self.devices[name]
        if auth:
            req.add_header("Authorization", auth)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, hdrs, payload = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, payload = e.code, e.headers, e.read()
        ctype = hdrs.get("Content-Type", "")
        if payload and "json" in ctype:
            payload = json.loads(payload, object_pairs_hook=dict)
        return status, hdrs, payload

    def dget(self, name, path="", expect=200, **kw):
        status, hdrs, body = self.ddi("GET", self.base(name) + path, name=name, **kw)
        self.assertEqual(status, expect, body)
        return body

    def feedback(self, name, action, execution, finished, channel="deploymentBase", expect=200,
                 **status):
        # swupdate 2022.12's body: legacy id (int) and time, which the server ignores
        body = {"id": int(action), "time": "20261125T114129",
                "status": {"result": {"finished": finished}, "execution": execution, **status}}
        s, _, payload = self.ddi("POST", f"{self.base(name)}/{channel}/{action}/feedback", body,
                                 name=name)
        self.assertEqual(s, expect, payload)
        return payload

    def swu_rollout(self, **spec):
        return self.create(changes=[self.to_release_pending()], release="gw/3.0.0/update.swu",
                           start="auto", **spec)

    def action_of(self, name):
        return self.poll(name)["id"]

    def device(self, name):
        return self.api("GET", f"/api/v1/devices/{name}", token=self.t["rm"], expect=200)[1]


class Endpoints(DdiTestCase):
    def test_poll_deployment_config_feedback_installed(self):
        self.enrol("dev01")
        # a new device: nothing to do, attributes wanted (§5.1)
        poll = self.dget("dev01")
        self.assertEqual(poll, {"config": {"polling": {"sleep": "00:01:00"}},
                                "_links": {"configData": {"href": self.srv.url + self.base("dev01") + "/configData"}}})
        # swupdate's configData body (§10.4): extra fields ignored; the link goes away
        s, _, _ = self.ddi("PUT", self.base("dev01") + "/configData",
                           {"id": "", "time": "20261125T114407",
                            "status": {"result": {"finished": "success"}, "execution": "closed", "details": [""]},
                            "data": {"swversion": "1.0.0", "hwrev": "1.0", "board": "testboard"}}, name="dev01")
        self.assertEqual(s, 200)
        # the documented body (§5.5), merged
        s, _, _ = self.ddi("PUT", self.base("dev01") + "/configData",
                           {"mode": "merge", "data": {"VIN": "JH4TB2H26CC000000", "hwRevision": "2"}}, name="dev01")
        self.assertEqual(s, 200)
        self.assertEqual(self.device("dev01")["inventory"]["attributes"],
                         {"swversion": "1.0.0", "hwrev": "1.0", "board": "testboard",
                          "VIN": "JH4TB2H26CC000000", "hwRevision": "2"})
        self.assertEqual(self.dget("dev01"), {"config": {"polling": {"sleep": "00:01:00"}}})
        s, _, _ = self.ddi("PUT", self.base("dev01") + "/configData", {"mode": "remove", "data": {"VIN": ""}}, name="dev01")
        self.assertNotIn("VIN", self.device("dev01")["inventory"]["attributes"])
        s, _, body = self.ddi("PUT", self.base("dev01") + "/configData", {"mode": "sideways", "data": {"a": "b"}}, name="dev01")
        self.assertEqual(s, 400)

        r = self.swu_rollout()
        aid = self.action_of("dev01")
        poll = self.dget("dev01")
        href = poll["_links"]["deploymentBase"]["href"]
        self.assertTrue(href.startswith(f"{self.srv.url}/DEFAULT/controller/v1/dev01/deploymentBase/{aid}?c="), href)
        self.assertEqual(list(poll["_links"]), ["deploymentBase"])
        dep = self.dget("dev01", href[len(self.srv.url) + len(self.base("dev01")):])
        self.assertEqual(list(dep), ["id", "deployment"])
        self.assertEqual(dep["id"], str(aid))
        d = dep["deployment"]
        self.assertEqual((d["download"], d["update"]), ("forced", "forced"))
        self.assertNotIn("maintenanceWindow", d)
        self.assertEqual(len(d["chunks"]), 1)
        chunk = d["chunks"][0]
        self.assertEqual((chunk["part"], chunk["version"], chunk["name"]), ("os", "3.0.0", "gw"))
        self.assertNotIn("encrypted", chunk)
        self.assertEqual(chunk["metadata"], [{"key": "releaseNotes", "value": "fixes the pump controller"}])
        [art] = chunk["artifacts"]
        self.assertEqual(art["filename"], "update.swu")
        self.assertIs(type(art["size"]), int)
        self.assertEqual(art["size"], len(SWU))
        self.assertEqual(art["hashes"], {"sha1": hashlib.sha1(SWU).hexdigest(), "md5": hashlib.md5(SWU).hexdigest(),
                                         "sha256": hashlib.sha256(SWU).hexdigest()})
        url = f"{self.srv.url}/DEFAULT/controller/v1/dev01/softwaremodules/{r['id']}/artifacts/update.swu"
        self.assertEqual(art["_links"], {"download": {"href": url}, "download-http": {"href": url},
                                         "md5sum": {"href": url + ".MD5SUM"}, "md5sum-http": {"href": url + ".MD5SUM"}})

        # swupdate's progress feedback (§10.3): odd counters accepted, long details kept
        self.feedback("dev01", aid, "proceeding", "none", progress={"cnt": 0, "of": 1},
                      details=["Installing Update Chunk Artifacts."])
        self.feedback("dev01", aid, "proceeding", "none", details=[f"log line {i}" for i in range(48)],
                      **{"result": {"finished": "none", "progress": {"cnt": 5, "of": 2}}})
        # the current model (§5.3): timestamp, code, unknown fields
        self.feedback("dev01", aid, "proceeding", "none", timestamp=1733218554123, code=200, future="x")
        devs = self.api("GET", f"/api/v1/rollouts/{r['id']}/devices", token=self.t["rm"], expect=200)[1]["items"]
        self.assertEqual((devs[0]["device"], devs[0]["state"]), ("dev01", "downloading"))
        # still open after the install: the link stays until closed (§10.5)
        self.assertIn("deploymentBase", self.dget("dev01")["_links"])
        self.feedback("dev01", aid, "closed", "success", details=["Update Installed."])
        self.assertEqual(self.rollout(r["id"])["state"], "finished")
        self.assertEqual(self.device("dev01")["version"], "3.0.0")
        # closed: installedBase, and configData is wanted again
        poll = self.dget("dev01")
        self.assertEqual(set(poll["_links"]), {"installedBase", "configData"})
        self.assertEqual(poll["_links"]["installedBase"]["href"], f"{self.srv.url}{self.base('dev01')}/installedBase/{aid}")
        inst = self.dget("dev01", f"/installedBase/{aid}?actionHistory=3")
        self.assertEqual(inst["id"], str(aid))
        self.assertEqual(inst["deployment"]["chunks"], dep["deployment"]["chunks"])
        self.assertEqual(inst["actionHistory"]["status"], "FINISHED")
        self.assertEqual(len(inst["actionHistory"]["messages"]), 3)
        self.assertTrue(inst["actionHistory"]["messages"][0].startswith("success"))
        # feedback on a closed action: 410; the deploymentBase is gone
        self.feedback("dev01", aid, "closed", "success", expect=410)
        self.dget("dev01", f"/deploymentBase/{aid}", expect=404)
        # the device's history shows the steps, as for any device's
        self.assertEqual(self.device("dev01")["state"], "success")

    def test_bad_feedback(self):
        self.enrol("d1")
        self.swu_rollout()
        aid = self.action_of("d1")
        for body in ({}, {"status": {"execution": "closed"}},
                     {"status": {"execution": "exploded", "result": {"finished": "success"}}},
                     {"status": {"execution": "closed", "result": {"finished": "maybe"}}}):
            s, _, payload = self.ddi("POST", f"{self.base('d1')}/deploymentBase/{aid}/feedback", body, name="d1")
            self.assertEqual(s, 400, (body, payload))
        self.assertEqual(self.poll("d1")["id"], aid)

    def test_confirmation_base(self):
        self.enrol("d1")
        body = self.dget("d1", "/confirmationBase")
        self.assertTrue(body["autoConfirm"]["active"])
        self.assertNotIn("_links", body)
        self.dget("d1", "/confirmationBase/1", expect=404)
        s, _, _ = self.ddi("POST", self.base("d1") + "/confirmationBase/activateAutoConfirm",
                           {"initiator": "me", "remark": "ok"}, name="d1")
        self.assertEqual(s, 200)
        s, _, _ = self.ddi("POST", self.base("d1") + "/confirmationBase/deactivateAutoConfirm", {}, name="d1")
        self.assertEqual(s, 409)
        s, _, _ = self.ddi("POST", self.base("d1") + "/confirmationBase/1/feedback",
                           {"confirmation": "confirmed", "code": 200, "details": ["x"]}, name="d1")
        self.assertEqual(s, 404)

    def test_image_release_artifacts(self):
        self.enrol("d1")
        r = self.create(changes=[self.to_release_pending()], start="auto")
        aid = self.action_of("d1")
        arts = self.dget("d1", f"/deploymentBase/{aid}")["deployment"]["chunks"][0]["artifacts"]
        self.assertEqual([a["filename"] for a in arts], ["rootfs.upfidx", "rootfs.upfpay"])
        listed = self.dget("d1", f"/softwaremodules/{r['id']}/artifacts")
        self.assertEqual(listed, arts)

    def test_accept(self):
        self.enrol("d1")
        _, hdrs, _ = self.ddi("GET", self.base("d1"), name="d1")
        self.assertEqual(hdrs["Content-Type"], "application/hal+json")
        _, hdrs, _ = self.ddi("GET", self.base("d1"), name="d1", headers={"Accept": "application/json"})
        self.assertEqual(hdrs["Content-Type"], "application/json")
        s, _, _ = self.ddi("GET", self.base("d1"), name="d1", headers={"Accept": "application/cbor"})
        self.assertEqual(s, 406)


class Auth(DdiTestCase):
    def test_tokens(self):
        self.enrol("d1")
        self.enrol("d2")
        self.swu_rollout()
        a1 = self.action_of("d1")
        for auth in (None, "TargetToken nope", "Bearer " + self.devices["d1"], "TargetToken " + self.devices["d2"],
                     "TargetToken " + self.t["rm"], "GatewayToken " + self.devices["d1"]):
            s, hdrs, _ = self.ddi("GET", self.base("d1"), auth=auth or "")
            self.assertEqual(s, 401, auth)
        # the other tenant's URL
        s, _, _ = self.ddi("GET", self.base("d1", "other"), name="d1")
        self.assertEqual(s, 401)
        # another device's action
        self.dget("d2", f"/deploymentBase/{a1}", expect=404)
        self.feedback("d2", a1, "closed", "failure", expect=404)
        self.assertEqual(self.poll("d1")["id"], a1)

    def test_gateway_token_registers_on_first_poll(self):
        gw = self.api("POST", "/api/v1/tenants/default/gateway-token", {}, self.t["root"], expect=201)[1]["token"]
        auth = "GatewayToken " + gw
        s, _, _ = self.ddi("GET", self.base("new-1") + "/deploymentBase/1", auth=auth)
        self.assertEqual(s, 404)  # only the poll registers
        s, _, body = self.ddi("GET", self.base("new-1"), auth=auth)
        self.assertEqual(s, 200, body)
        self.assertIn("configData", body["_links"])
        dev = self.device("new-1")
        self.assertEqual(dev["tenant"], "default")
        self.assertIn("device.register", self.srv.sqlite("SELECT action FROM audit"))
        # the device is a device like any other: rollouts reach it
        self.swu_rollout()
        s, _, body = self.ddi("GET", self.base("new-1"), auth=auth)
        self.assertIn("deploymentBase", body["_links"])
        s, _, _ = self.ddi("GET", self.base("new-1", "other"), auth=auth)
        self.assertEqual(s, 401)
        # and a gateway-registered device can be enrolled for a TargetToken later
        st, dev = self.api("POST", "/api/v1/devices", {"device_id": "new-1"}, self.t["rm"])
        self.assertEqual(st, 201, dev)
        s, _, _ = self.ddi("GET", self.base("new-1"), auth="TargetToken " + dev["token"])
        self.assertEqual(s, 200)


class Http(DdiTestCase):
    def test_etag_304_only_when_asked(self):
        self.enrol("d1")
        s, hdrs, body = self.ddi("GET", self.base("d1"), name="d1")
        etag = hdrs["ETag"]
        self.assertRegex(etag, r'^"0[0-9a-f]{32}"$')
        self.assertEqual(etag, '"0%s"' % hashlib.md5(json.dumps(body, separators=(",", ":")).encode()).hexdigest())
        s, hdrs, body = self.ddi("GET", self.base("d1"), name="d1", headers={"If-None-Match": etag})
        self.assertEqual((s, body), (304, b""))
        self.assertEqual(self.ddi("GET", self.base("d1"), name="d1")[0], 200)
        self.assertEqual(self.ddi("GET", self.base("d1"), name="d1", headers={"If-None-Match": '"0abc"'})[0], 200)
        self.swu_rollout()
        s, _, _ = self.ddi("GET", self.base("d1"), name="d1", headers={"If-None-Match": etag})
        self.assertEqual(s, 200)

    def test_range_head_md5sum(self):
        self.enrol("d1")
        self.enrol("d2")
        r = self.swu_rollout(filter='name = "d1"')
        path = f"{self.base('d1')}/softwaremodules/{r['id']}/artifacts/update.swu"
        s, hdrs, body = self.ddi("GET", path, name="d1")
        self.assertEqual((s, body), (200, SWU))
        self.assertEqual(hdrs["ETag"], '"%s"' % hashlib.sha1(SWU).hexdigest())
        self.assertEqual(hdrs["Accept-Ranges"], "bytes")
        self.assertEqual(hdrs["Content-Disposition"], "attachment;filename=update.swu")
        s, hdrs, body = self.ddi("GET", path, name="d1", headers={"Range": "bytes=34048-"})
        self.assertEqual((s, body), (206, SWU[34048:]))
        self.assertEqual(hdrs["Content-Range"], f"bytes 34048-{len(SWU) - 1}/{len(SWU)}")
        s, hdrs, _ = self.ddi("GET", path, name="d1", headers={"Range": f"bytes={len(SWU) + 5}-"})
        self.assertEqual(s, 416)
        self.assertEqual(hdrs["Content-Range"], f"bytes */{len(SWU)}")
        s, hdrs, body = self.ddi("HEAD", path, name="d1")
        self.assertEqual((s, int(hdrs["Content-Length"]), body), (200, len(SWU), b""))
        s, hdrs, body = self.ddi("GET", path + ".MD5SUM", name="d1")
        self.assertEqual((s, body), (200, f"{hashlib.md5(SWU).hexdigest()}  update.swu".encode()))
        # not assigned to d2; unknown files
        self.assertEqual(self.ddi("GET", path.replace("/d1/", "/d2/"), name="d2")[0], 404)
        self.assertEqual(self.ddi("GET", path + "x", name="d1")[0], 404)

class PublicUrl(DdiTestCase):
    server_extra = ("--set", "server.public_url=https://ota.example.com/")

    def test_links_from_public_url(self):
        self.enrol("d1")
        self.assertEqual(self.dget("d1")["_links"]["configData"]["href"],
                         "https://ota.example.com/DEFAULT/controller/v1/d1/configData")


class Forwarded(DdiTestCase):
    server_extra = ("--set", "server.forwarded_headers=true",
                    "--set", "server.public_url=https://ignored.example.com")

    def test_links_follow_the_proxy(self):
        self.enrol("d1")
        self.swu_rollout()
        fwd = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "ota.example.com",
               "X-Forwarded-Port": "8443", "X-Forwarded-Prefix": "/hawkbit"}
        poll = self.dget("d1", headers=fwd)
        href = poll["_links"]["deploymentBase"]["href"]
        self.assertTrue(href.startswith("https://ota.example.com:8443/hawkbit/DEFAULT/controller/v1/d1/deploymentBase/"), href)
        art = self.dget("d1", href.split("/d1", 1)[1], headers=fwd)["deployment"]["chunks"][0]["artifacts"][0]
        self.assertEqual(set(art["_links"]), {"download", "md5sum"})  # https only
        # without the headers: the configured public URL
        self.assertTrue(self.dget("d1")["_links"]["deploymentBase"]["href"].startswith("https://ignored.example.com/DEFAULT/"))


class Rollouts(DdiTestCase):
    def test_failures_reach_the_error_threshold(self):
        for n in ("d1", "d2", "d3"):
            self.enrol(n)
        r = self.swu_rollout(error_threshold=30)
        a1 = self.action_of("d1")
        self.feedback("d1", a1, "proceeding", "none", details=["Installing Update Chunk Artifacts."])
        self.feedback("d1", a1, "closed", "failure", progress={"cnt": 0, "of": 1},
                      details=["SW not compatible with hardware", "No suitable .swu image found"])
        r = self.rollout(r["id"])
        self.assertEqual(r["state"], "paused")
        self.assertIn("error threshold", r["state_reason"])
        devs = self.api("GET", f"/api/v1/rollouts/{r['id']}/devices?state=failure", token=self.t["rm"], expect=200)[1]["items"]
        self.assertEqual([(d["device"], d["reason"]) for d in devs], [("d1", "No suitable .swu image found")])
        self.assertIn("SW not compatible with hardware", devs[0]["log_tail"])
        # paused: devices that have not started see nothing
        self.assertNotIn("deploymentBase", self.dget("d2").get("_links", {}))

    def test_cancel_acknowledged(self):
        for n in ("d1", "d2"):
            self.enrol(n)
        r = self.swu_rollout(type="soft")
        a1 = self.action_of("d1")
        d = self.dget("d1", f"/deploymentBase/{a1}")["deployment"]
        self.assertEqual((d["download"], d["update"]), ("attempt", "attempt"))
        a2 = self.action_of("d2")
        self.feedback("d2", a2, "scheduled", "none", details=["later"])  # -> deferred
        self.command(r["id"], "cancel")
        poll = self.dget("d1")
        self.assertEqual(poll["_links"]["cancelAction"]["href"], f"{self.srv.url}{self.base('d1')}/cancelAction/{a1}")
        self.assertNotIn("deploymentBase", poll["_links"])
        self.assertEqual(self.dget("d1", f"/cancelAction/{a1}"), {"id": str(a1), "cancelAction": {"stopId": str(a1)}})
        self.dget("d1", f"/deploymentBase/{a1}", expect=404)
        self.feedback("d1", a1, "closed", "success", channel="cancelAction", details=["cancellation acknowledged."])
        self.assertNotIn("cancelAction", self.dget("d1").get("_links", {}))
        self.dget("d1", f"/cancelAction/{a1}", expect=404)
        # rejected leaves the cancel pending; canceled accepts it too
        self.feedback("d2", a2, "rejected", "none", channel="cancelAction")
        self.assertIn("cancelAction", self.dget("d2")["_links"])
        self.feedback("d2", a2, "canceled", "none", channel="cancelAction")
        devs = self.api("GET", f"/api/v1/rollouts/{r['id']}/devices", token=self.t["rm"], expect=200)[1]["items"]
        self.assertEqual({d["device"]: d["state"] for d in devs}, {"d1": "canceled", "d2": "canceled"})

    def test_download_only_and_window(self):
        self.enrol("d1")
        self.enrol("d2")
        r = self.swu_rollout(type="download_only", filter='name = "d1"')
        a1 = self.action_of("d1")
        d = self.dget("d1", f"/deploymentBase/{a1}")["deployment"]
        self.assertEqual((d["download"], d["update"]), ("forced", "skip"))
        self.feedback("d1", a1, "downloaded", "none")
        self.assertEqual(self.rollout(r["id"])["counts"]["total"], {"downloaded": 1})
        # a closed window: no deploymentBase link; asked directly, update is skip
        r2 = self.create(changes=[self.to_release_pending()], release=self.release("2.1.0"), start="auto",
                         filter='name = "d2"', window={"cron": "0 3 1 1 *", "duration": 3600, "tz": "Asia/Shanghai"})
        a2 = self.action_of("d2")
        self.assertNotIn("deploymentBase", self.dget("d2").get("_links", {}))
        d = self.dget("d2", f"/deploymentBase/{a2}")["deployment"]
        self.assertEqual((d["download"], d["update"], d["maintenanceWindow"]), ("forced", "skip", "unavailable"))
        self.assertEqual(self.rollout(r2["id"])["state"], "running")


if __name__ == "__main__":
    unittest.main()
