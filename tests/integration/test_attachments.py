"""Attachments: streamed to disk while hashed, stored once by SHA-256, refused cleanly on a
hash mismatch, an oversize upload or a full disk, and never shown to the wrong customer."""
import hashlib
import os
import subprocess
import unittest

from upflow_test import SOURCE, Server, ServerTestCase

MINI = os.path.join(SOURCE, "tests/data/templates")


class Attachments(ServerTestCase):
    templates_dir = MINI

    def setUpUsers(self):
        self.srv.add_user("cs1", "cs")
        self.srv.add_user("carol", customer="acme")
        self.srv.add_user("dave", customer="globex")

    def new_record(self, token, customer="acme"):
        status, rec = self.api("POST", "/api/v1/records", {
            "template": "mini", "type": "REQ", "fields": {"customer": customer, "title": "t"}}, token, expect=201)
        return rec["id"]

    def upload(self, token, rid, data, kind="request_form", name="form.pdf", sha=None, extra=""):
        q = f"?kind={kind}&filename={name}" + (f"&sha256={sha}" if sha else "") + extra
        return self.srv.request("POST", f"/api/v1/records/{rid}/attachments{q}", token=token, raw=data,
                                headers={"Content-Type": "application/pdf"})

    def stored_files(self):
        root = os.path.join(self.srv.data, "attachments")
        return sorted(f for _, _, fs in os.walk(root) for f in fs)

    def tmp_files(self):
        return os.listdir(os.path.join(self.srv.data, "tmp"))

    def test_upload_download_and_dedup(self):
        cs = self.srv.login("cs1")
        rid = self.new_record(cs)
        data = os.urandom(3 * 1024 * 1024 + 17)
        sha = hashlib.sha256(data).hexdigest()
        status, att = self.upload(cs, rid, data, sha=sha)
        self.assertEqual(status, 201, att)
        self.assertEqual(att["sha256"], sha)
        self.assertEqual(att["size"], len(data))
        status, body = self.srv.request("GET", f"/api/v1/attachments/{att['id']}", token=cs)
        self.assertEqual(status, 200)
        self.assertEqual(hashlib.sha256(body).hexdigest(), sha)
        # the same bytes again: a second row, one stored file
        status, again = self.upload(cs, rid, data, kind="test_report", name="copy.pdf")
        self.assertEqual(status, 201)
        self.assertEqual(self.stored_files(), [sha])
        status, listing = self.api("GET", f"/api/v1/records/{rid}/attachments", token=cs, expect=200)
        self.assertEqual([a["kind"] for a in listing["items"]], ["request_form", "test_report"])
        self.assertEqual(self.tmp_files(), [])
        self.assertIn("record.attachment", self.srv.sqlite("SELECT action FROM audit"))

    def test_wrong_hash_oversize_and_bad_names_store_nothing(self):
        cs = self.srv.login("cs1")
        rid = self.new_record(cs)
        status, body = self.upload(cs, rid, b"hello", sha="0" * 64)
        self.assertError(status, body, 409, "hash_mismatch")
        status, body = self.upload(cs, rid, b"hello", name="../../etc/passwd")
        self.assertError(status, body, 422, "bad_field")
        status, body = self.upload(cs, 99999, b"hello")
        self.assertError(status, body, 404, "not_found")
        self.assertEqual(self.srv.sqlite("SELECT COUNT(*) FROM attachments").strip(), "0")
        self.assertEqual(self.stored_files(), [])
        self.assertEqual(self.tmp_files(), [])

    def test_customers_see_only_their_own_and_only_visible(self):
        cs = self.srv.login("cs1")
        rid = self.new_record(cs)
        status, internal = self.upload(cs, rid, b"internal notes")
        status, shared = self.upload(cs, rid, b"for the customer", extra="&customer_visible=1")
        carol, dave = self.srv.login("carol"), self.srv.login("dave")
        status, listing = self.api("GET", f"/api/v1/records/{rid}/attachments", token=carol, expect=200)
        self.assertEqual([a["id"] for a in listing["items"]], [shared["id"]])
        self.api("GET", f"/api/v1/attachments/{shared['id']}", token=carol, expect=200)
        status, body = self.api("GET", f"/api/v1/attachments/{internal['id']}", token=carol)
        self.assertError(status, body, 404, "not_found")
        for path in (f"/api/v1/records/{rid}/attachments", f"/api/v1/attachments/{shared['id']}"):
            status, body = self.api("GET", path, token=dave)
            self.assertError(status, body, 404, "not_found")
        status, body = self.upload(dave, rid, b"x")
        self.assertError(status, body, 404, "not_found")


class Limits(unittest.TestCase):
    def test_oversize_upload_is_refused(self):
        srv = Server(MINI, extra=("--set", "server.max_upload=65536"))
        self.addCleanup(srv.cleanup)
        srv.add_user("cs1", "cs")
        srv.start()
        cs = srv.login("cs1")
        status, rec = srv.request("POST", "/api/v1/records", {
            "template": "mini", "type": "REQ", "fields": {"customer": "acme", "title": "t"}}, cs)
        status, body = srv.request("POST", f"/api/v1/records/{rec['id']}/attachments?kind=k&filename=f",
                                   token=cs, raw=b"x" * 100000)
        self.assertEqual(status, 413, body)
        self.assertEqual(body["error"]["code"], "too_large")
        self.assertEqual(os.listdir(os.path.join(srv.data, "tmp")), [])

    def test_full_disk_fails_cleanly_and_the_server_goes_on(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        srv = Server(MINI)
        self.addCleanup(srv.cleanup)
        os.makedirs(srv.data)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", srv.data]).returncode != 0:
            self.skipTest("mount is not permitted here")
        self.addCleanup(lambda: subprocess.run(["umount", "-l", srv.data]))
        srv.add_user("cs1", "cs")
        srv.start()
        cs = srv.login("cs1")
        status, rec = srv.request("POST", "/api/v1/records", {
            "template": "mini", "type": "REQ", "fields": {"customer": "acme", "title": "t"}}, cs)
        self.assertEqual(status, 201, rec)
        status, body = srv.request("POST", f"/api/v1/records/{rec['id']}/attachments?kind=k&filename=f",
                                   token=cs, raw=os.urandom(5 * 1024 * 1024))
        self.assertEqual(status, 507, body)
        self.assertEqual(body["error"]["code"], "no_space")
        self.assertEqual(os.listdir(os.path.join(srv.data, "tmp")), [])
        self.assertEqual(srv.sqlite("SELECT COUNT(*) FROM attachments").strip(), "0")
        # the space is back: a small upload works and the record is intact
        status, att = srv.request("POST", f"/api/v1/records/{rec['id']}/attachments?kind=k&filename=f",
                                  token=cs, raw=b"small")
        self.assertEqual(status, 201, att)
        status, again = srv.request("GET", f"/api/v1/records/{rec['id']}", token=cs)
        self.assertEqual(again["revision"], rec["revision"])


if __name__ == "__main__":
    unittest.main()
