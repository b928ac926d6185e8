"""upflowd as an operator and an API client meet it: health, metrics, sign-in, tokens,
users and roles, the audit chain, clean shutdown, and bad input that changes nothing."""
import os
import subprocess
import unittest

from upflow_test import UPFLOWD, Server, ServerTestCase, read_text


class Basics(ServerTestCase):
    def setUpUsers(self):
        self.srv.add_user("root", "admin")
        self.srv.add_user("alice", "cs")
        self.srv.add_user("carol", "customer@customer:acme", customer="acme")

    def audit_count(self):
        return int(self.srv.sqlite("SELECT COUNT(*) FROM audit").strip())

    def test_health_and_metrics(self):
        status, body = self.api("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "ok")
        self.assertGreaterEqual(body["schema"], 1)
        status, text = self.api("GET", "/metrics")
        self.assertEqual(status, 200)
        text = text.decode()
        self.assertIn("# TYPE upflow_http_requests_total counter", text)
        self.assertRegex(text, r'upflow_http_requests_total\{code="2xx"\} [1-9]')
        self.assertIn('upflow_http_request_duration_seconds_bucket{le="+Inf"}', text)

    def test_login_and_token_lifecycle(self):
        token = self.srv.login("alice")
        status, me = self.api("GET", "/api/v1/me", token=token, expect=200)
        self.assertEqual(me["username"], "alice")
        self.assertEqual(me["roles"], [{"role": "cs"}])
        self.assertNotIn("password_hash", me)
        # an API token for automation, shown once, listed without its secret
        status, created = self.api("POST", "/api/v1/tokens", {"name": "ci", "ttl_days": 7}, token, expect=201)
        self.assertTrue(created["token"].startswith("ufa_"))
        status, listing = self.api("GET", "/api/v1/tokens", token=created["token"], expect=200)
        self.assertNotIn(created["token"], str(listing))
        # logout revokes the session token; the API token still works
        self.api("POST", "/api/v1/auth/logout", token=token, expect=200)
        status, body = self.api("GET", "/api/v1/me", token=token)
        self.assertError(status, body, 401, "unauthorized")
        self.api("GET", "/api/v1/me", token=created["token"], expect=200)
        # the database holds hashes, never the tokens
        stored = self.srv.sqlite("SELECT token_hash FROM tokens")
        self.assertNotIn(created["token"], stored)
        self.assertNotIn(created["token"][4:], stored)

    def test_failed_logins_look_the_same_and_are_audited(self):
        before = self.audit_count()
        s1, wrong_pw = self.api("POST", "/api/v1/auth/login", {"username": "alice", "password": "nope-nope"})
        s2, no_user = self.api("POST", "/api/v1/auth/login", {"username": "mallory", "password": "nope-nope"})
        self.assertError(s1, wrong_pw, 401, "unauthorized")
        self.assertError(s2, no_user, 401, "unauthorized")
        self.assertEqual(wrong_pw, no_user)
        self.assertEqual(self.audit_count(), before + 2)
        self.assertIn("login.failed", self.srv.sqlite("SELECT action FROM audit ORDER BY seq DESC LIMIT 1"))

    def test_expired_and_garbage_tokens(self):
        token = self.srv.login("alice")
        self.srv.sqlite("UPDATE tokens SET expires_at = strftime('%s','now') - 1")
        status, body = self.api("GET", "/api/v1/me", token=token)
        self.assertError(status, body, 401, "unauthorized")
        for bad in ["x", "ufs_" + "A" * 43, "ufs_" + "é" * 10, "A" * 5000]:
            status, body = self.srv.request("GET", "/api/v1/me", token=None, headers={"Authorization": "Bearer " + bad})
            self.assertError(status, body, 401, "unauthorized")

    def test_every_endpoint_needs_the_right_identity(self):
        status, body = self.api("GET", "/api/v1/users")
        self.assertError(status, body, 401, "unauthorized")
        token = self.srv.login("alice")
        status, body = self.api("GET", "/api/v1/users", token=token)
        self.assertError(status, body, 403, "forbidden")
        status, body = self.api("GET", "/api/v1/audit/verify", token=token)
        self.assertError(status, body, 403, "forbidden")
        # a user reads itself, not others
        root = self.srv.login("root")
        status, users = self.api("GET", "/api/v1/users", token=root, expect=200)
        ids = {u["username"]: u["id"] for u in users["items"]}
        self.api("GET", f"/api/v1/users/{ids['alice']}", token=token, expect=200)
        status, body = self.api("GET", f"/api/v1/users/{ids['root']}", token=token)
        self.assertError(status, body, 403, "forbidden")

    def test_admin_manages_users_and_roles(self):
        root = self.srv.login("root")
        status, bob = self.api("POST", "/api/v1/users", {
            "username": "bob", "password": "bob-password", "display_name": "Bob",
            "roles": [{"role": "product_lead", "scope_kind": "product", "scope": "PLC-300"}]}, root, expect=201)
        self.assertEqual(bob["roles"], [{"role": "product_lead", "scope_kind": "product", "scope": "PLC-300"}])
        status, body = self.api("POST", "/api/v1/users", {"username": "bob", "password": "x" * 10}, root)
        self.assertError(status, body, 409, "conflict")
        status, body = self.api("POST", "/api/v1/users", {"username": "Bad Name", "password": "x" * 10}, root)
        self.assertError(status, body, 422, "bad_field")
        status, body = self.api("POST", "/api/v1/users", {"username": "eve", "password": "short"}, root)
        self.assertError(status, body, 422, "bad_field")
        self.api("POST", f"/api/v1/users/{bob['id']}/roles", {"role": "tester"}, root, expect=200)
        status, after = self.api("POST", f"/api/v1/users/{bob['id']}/roles/revoke",
                                 {"role": "product_lead", "scope_kind": "product", "scope": "PLC-300"}, root, expect=200)
        self.assertEqual(after["roles"], [{"role": "tester"}])
        # disabling ends the user's sessions at once
        bob_token = self.srv.login("bob", "bob-password")
        self.api("PATCH", f"/api/v1/users/{bob['id']}", {"disabled": True}, root, expect=200)
        status, body = self.api("GET", "/api/v1/me", token=bob_token)
        self.assertError(status, body, 401, "unauthorized")
        status, body = self.srv.request("POST", "/api/v1/auth/login", {"username": "bob", "password": "bob-password"})
        self.assertError(status, body, 401, "unauthorized")

    def test_bad_input_gets_a_json_error_and_changes_nothing(self):
        root = self.srv.login("root")
        before = self.audit_count()
        users_before = self.srv.sqlite("SELECT COUNT(*) FROM users")
        cases = [
            (dict(raw=b'{"username": "x", '), 400, "bad_json"),
            (dict(raw=b'{"username": "x", "username": "y", "password": "0123456789"}'), 400, "bad_json"),
            (dict(raw=b'[1, 2]'), 422, "bad_field"),
            (dict(raw=b'{"username": 7, "password": "0123456789"}'), 422, "bad_field"),
            (dict(raw=b'{"username": "zed", "password": "0123456789", "colour": "red"}'), 422, "bad_field"),
            (dict(raw=b'{"username": "zed", "password": "' + b"a" * (2 * 1024 * 1024) + b'"}'), 413, "too_large"),
            (dict(raw=b'[' * 1000 + b']' * 1000), 413, "too_large"),
        ]
        for kw, want_status, want_code in cases:
            status, body = self.srv.request("POST", "/api/v1/users", token=root, **kw)
            self.assertError(status, body, want_status, want_code)
        status, body = self.api("DELETE", "/healthz")
        self.assertError(status, body, 405, "method_not_allowed")
        status, body = self.api("GET", "/api/v1/no-such-thing", token=root)
        self.assertError(status, body, 404, "not_found")
        self.assertEqual(self.audit_count(), before)
        self.assertEqual(self.srv.sqlite("SELECT COUNT(*) FROM users"), users_before)

    def test_audit_chain_detects_a_changed_row(self):
        root = self.srv.login("root")
        self.srv.login("alice")
        status, report = self.api("GET", "/api/v1/audit/verify", token=root, expect=200)
        self.assertTrue(report["ok"], report)
        n = report["records"]
        self.assertGreaterEqual(n, 5)
        self.srv.sqlite("UPDATE audit SET actor = 'mallory' WHERE seq = 3")
        status, report = self.api("GET", "/api/v1/audit/verify", token=root, expect=200)
        self.assertFalse(report["ok"])
        self.assertEqual(report["first_broken"], 3)
        r = self.srv.admin("verify-audit", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("BROKEN at record 3", r.stdout)

    def test_templates_and_calendars(self):
        token = self.srv.login("alice")
        status, listing = self.api("GET", "/api/v1/templates", token=token, expect=200)
        ids = {t["id"] for t in listing["items"]}
        self.assertLessEqual({"software-modification", "production-change", "document-revision",
                              "software-deployment", "feedback", "urban-renewal"}, ids)
        status, doc = self.api("GET", "/api/v1/templates/software-modification", token=token, expect=200)
        self.assertEqual(set(doc["record_types"]), {"REQ", "FB", "DSP"})
        # a dry run: a good document is valid and already published; a typo names its path
        status, ok = self.api("POST", "/api/v1/templates/validate", doc, token, expect=200)
        self.assertEqual((ok["valid"], ok["published"]), (True, True))
        doc["record_types"]["REQ"]["transitions"][0]["to"] = "RECIEVED"
        status, body = self.api("POST", "/api/v1/templates/validate", doc, token)
        self.assertError(status, body, 422, "bad_field")
        self.assertIn('record_types.REQ.transitions[0].to: unknown state "RECIEVED"', body["error"]["message"])
        doc["record_types"]["REQ"]["transitions"][0]["to"] = "CS_TRIAGE"
        doc["record_types"]["REQ"]["label"] = "changed"
        status, changed = self.api("POST", "/api/v1/templates/validate", doc, token, expect=200)
        self.assertIn("raise", changed["conflict"])
        status, cals = self.api("GET", "/api/v1/calendars", token=token, expect=200)
        cal = [c for c in cals["items"] if c["id"] == "cn-mainland-2026"][0]
        self.assertEqual(cal["timezone"], "Asia/Shanghai")
        self.assertEqual(cal["effective"], {"from": "2026-01-01", "to": "2026-12-31"})
        self.assertEqual(cal["stats"]["makeup_workdays"], 6)
        status, body = self.api("GET", "/api/v1/calendars/nowhere", token=token)
        self.assertError(status, body, 404, "not_found")

    def test_sigterm_stops_cleanly(self):
        self.assertEqual(self.srv.stop(), 0)
        log = read_text(self.srv.log_path)
        self.assertIn("SIGTERM received", log)
        self.assertIn("stopped", log)


class Startup(unittest.TestCase):
    def test_bad_configuration_is_refused_with_its_line(self):
        srv = Server()
        self.addCleanup(srv.cleanup)
        conf = os.path.join(srv.dir, "upflowd.conf")
        with open(conf, "w") as f:
            f.write("[server]\nlisten = 127.0.0.1:0\nthreds = 4\n")
        r = subprocess.run([UPFLOWD, "-c", conf, "-d", srv.data], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("upflowd.conf:3: unknown setting server.threds", r.stderr)

    def test_a_newer_database_is_refused(self):
        srv = Server()
        self.addCleanup(srv.cleanup)
        srv.add_user("root", "admin")
        srv.sqlite("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)")
        r = srv.admin("migrate", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refusing to run an older binary on a newer database", r.stderr)


if __name__ == "__main__":
    unittest.main()
