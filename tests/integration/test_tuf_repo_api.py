"""The TUF repository's HTTP side without signing: release-file uploads (hashed SHA-256, SHA-1
and MD5 while streamed; a wrong hash or length or an oversize file stores nothing), target
downloads with Range, tenant isolation, who may manage a repository, online keys, and pushes
refused before anything is stored. Repositories built and signed with the CLI, and the client
refusing attacks, are in test_tuf_repo.py."""
import hashlib
import json
import os
import stat
import unittest

from upflow_test import Server, ServerTestCase


class Uploads(ServerTestCase):
    def setUpUsers(self):
        self.srv.add_user("rm", "release_manager")
        self.srv.add_user("cs1", "cs")

    def upload(self, token, data, tenant="default", sha=None, length=None):
        q = []
        if sha:
            q.append("sha256=" + sha)
        if length is not None:
            q.append(f"length={length}")
        path = f"/api/v1/tuf/{tenant}/blobs" + ("?" + "&".join(q) if q else "")
        return self.srv.request("POST", path, token=token, raw=data,
                                headers={"Content-Type": "application/octet-stream"})

    def blob_files(self):
        root = os.path.join(self.srv.data, "tuf-blobs")
        return sorted(f for _, _, fs in os.walk(root) for f in fs)

    def test_upload_hashes_the_file_three_ways_and_keeps_it_once(self):
        rm = self.srv.login("rm")
        data = os.urandom(2 * 1024 * 1024 + 5)
        sha = hashlib.sha256(data).hexdigest()
        status, blob = self.upload(rm, data, sha=sha, length=len(data))
        self.assertEqual(status, 201, blob)
        self.assertEqual(blob, {"sha256": sha, "sha1": hashlib.sha1(data).hexdigest(),
                                "md5": hashlib.md5(data).hexdigest(), "length": len(data)})
        status, again = self.upload(rm, data)
        self.assertEqual(status, 200, again)
        self.assertEqual(self.blob_files(), [sha])
        status, got = self.api("GET", f"/api/v1/tuf/default/blobs/{sha}", token=rm, expect=200)
        self.assertEqual(got, blob)
        status, body = self.api("GET", "/api/v1/tuf/default/blobs/" + "0" * 64, token=rm)
        self.assertError(status, body, 404, "not_found")
        self.assertEqual(os.listdir(os.path.join(self.srv.data, "tmp")), [])

    def test_wrong_hash_or_length_stores_nothing(self):
        rm = self.srv.login("rm")
        data = b"release bytes" * 1000
        status, body = self.upload(rm, data, sha="ab" * 32)
        self.assertError(status, body, 409, "hash_mismatch")
        self.assertIn("nothing was stored", body["error"]["message"])
        status, body = self.upload(rm, data, sha=hashlib.sha256(data).hexdigest(), length=len(data) - 1)
        self.assertError(status, body, 409, "hash_mismatch")
        self.assertEqual(self.blob_files(), [])
        self.assertEqual(self.srv.sqlite("SELECT COUNT(*) FROM tuf_blobs").strip(), "0")
        self.assertEqual(os.listdir(os.path.join(self.srv.data, "tmp")), [])

    def test_targets_are_served_by_hash_with_ranges_and_per_tenant(self):
        rm = self.srv.login("rm")
        data = bytes(range(256)) * 40
        sha = hashlib.sha256(data).hexdigest()
        self.assertEqual(self.upload(rm, data)[0], 201)
        path = f"/tuf/default/targets/gateway/2.0.0/{sha}.rootfs.upfpay"
        status, body = self.srv.request("GET", path)
        self.assertEqual(status, 200)
        self.assertEqual(body, data)
        cases = [("bytes=10-19", 206, data[10:20], f"bytes 10-19/{len(data)}"),
                 ("bytes=10000-", 206, data[10000:], f"bytes 10000-10239/{len(data)}"),
                 ("bytes=-5", 206, data[-5:], f"bytes 10235-10239/{len(data)}"),
                 ("bytes=10200-99999", 206, data[10200:], f"bytes 10200-10239/{len(data)}"),
                 ("bytes=0-1,5-6", 200, data, None)]
        for rng, want_status, want_body, want_range in cases:
            status, body = self.srv.request("GET", path, headers={"Range": rng})
            self.assertEqual((status, body), (want_status, want_body), rng)
        import urllib.request
        req = urllib.request.Request(self.srv.url + path, headers={"Range": "bytes=10-19"})
        with urllib.request.urlopen(req) as r:
            self.assertEqual(r.headers["Content-Range"], f"bytes 10-19/{len(data)}")
            self.assertEqual(r.headers["Accept-Ranges"], "bytes")
        status, body = self.srv.request("GET", path, headers={"Range": "bytes=20000-"})
        self.assertError(status, body, 416, "range_not_satisfiable")
        # another tenant, an unknown hash, a name without a hash: not found
        for other in (f"/tuf/acme/targets/gateway/2.0.0/{sha}.rootfs.upfpay",
                      f"/tuf/default/targets/x/{'0' * 64}.rootfs.upfpay",
                      "/tuf/default/targets/gateway/rootfs.upfpay",
                      f"/tuf/Bad%20Tenant/targets/{sha}.x"):
            status, body = self.srv.request("GET", other)
            self.assertError(status, body, 404, "not_found")

    def test_only_release_managers_manage_a_repository(self):
        cs = self.srv.login("cs1")
        for method, path, body in (("GET", "/api/v1/tuf/default", None),
                                   ("POST", "/api/v1/tuf/default/online-keys", {"role": "snapshot"}),
                                   ("POST", "/api/v1/tuf/default/metadata", {"files": {"1.root.json": "{}"}}),
                                   ("GET", "/api/v1/tuf/default/blobs/" + "0" * 64, None)):
            status, payload = self.api(method, path, body, token=cs)
            self.assertError(status, payload, 403, "forbidden")
            status, payload = self.api(method, path, body)
            self.assertError(status, payload, 401, "unauthorized")
        status, payload = self.upload(cs, b"x")
        self.assertError(status, payload, 403, "forbidden")
        self.assertEqual(self.blob_files(), [])

    def test_online_keys_are_made_and_kept_by_the_server(self):
        rm = self.srv.login("rm")
        status, key = self.api("POST", "/api/v1/tuf/default/online-keys", {"role": "timestamp"},
                               token=rm, expect=201)
        self.assertEqual(key["role"], "timestamp")
        self.assertEqual(key["key"]["keytype"], "ed25519")
        self.assertEqual(len(key["keyid"]), 64)
        keys_dir = os.path.join(self.srv.data, "keys")
        files = os.listdir(keys_dir)
        self.assertEqual(len(files), 1)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(keys_dir, files[0])).st_mode), 0o600)
        self.assertNotIn("PRIVATE", json.dumps(key))
        status, st = self.api("GET", "/api/v1/tuf/default", token=rm, expect=200)
        self.assertEqual(st["roles"], {})
        self.assertEqual(st["online_keys"]["timestamp"],
                         [{"keyid": key["keyid"], "key": key["key"], "listed": False}])
        self.assertEqual(st["online_keys"]["snapshot"], [])
        status, body = self.api("POST", "/api/v1/tuf/default/online-keys", {"role": "targets"}, token=rm)
        self.assertError(status, body, 422, "bad_field")
        status, body = self.api("POST", "/api/v1/tuf/default/online-keys", {"role": "snapshot", "x": 1},
                                token=rm)
        self.assertError(status, body, 422, "bad_field")

    def test_bad_pushes_store_nothing(self):
        rm = self.srv.login("rm")
        cases = [({"files": {"targets.json": "{}"}}, 409, "conflict"),  # no root yet
                 ({"files": {"1.root.json": "not json"}}, 400, "bad_json"),
                 ({"files": {"1.root.json": 5}}, 422, "bad_field"),
                 ({"files": {"../x.json": "{}"}}, 422, "bad_field"),
                 ({"files": {}}, 422, "bad_field"),
                 ({"files": {"snapshot.json": "{}"}}, 422, "bad_field"),
                 ({"nope": 1}, 422, "bad_field")]
        for body, want_status, want_code in cases:
            status, payload = self.api("POST", "/api/v1/tuf/default/metadata", body, token=rm)
            self.assertError(status, payload, want_status, want_code)
        status, payload = self.api("GET", "/tuf/default/metadata/timestamp.json")
        self.assertError(status, payload, 404, "not_found")
        for name in ("1.root.json", "root.json", "0.root.json", "x.json", "1.json"):
            status, payload = self.api("GET", "/tuf/default/metadata/" + name)
            self.assertError(status, payload, 404, "not_found")
        self.assertEqual(self.srv.sqlite("SELECT COUNT(*) FROM tuf_metadata").strip(), "0")


class Limits(unittest.TestCase):
    def test_oversize_release_file_is_refused(self):
        srv = Server(extra=("--set", "tuf.max_target_size=65536"))
        self.addCleanup(srv.cleanup)
        srv.add_user("rm", "release_manager")
        srv.start()
        rm = srv.login("rm")
        status, body = srv.request("POST", "/api/v1/tuf/default/blobs", token=rm, raw=b"x" * 70000,
                                   headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(status, 413, body)
        self.assertEqual(body["error"]["code"], "too_large")
        self.assertEqual(os.listdir(os.path.join(srv.data, "tmp")), [])
        self.assertFalse(os.path.exists(os.path.join(srv.data, "tuf-blobs")))


if __name__ == "__main__":
    unittest.main()
