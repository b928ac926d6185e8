"""Notifications (workflow.md §6.7) through a real upflowd with the worker running every second:
in-app notifications reach the people the software-modification template's rules name and
nobody outside the record's scope; customer-side users see only customer-visible fields; the
webhook receiver gets every event signed with HMAC-SHA256, and a receiver that fails is
retried; an SLA breach is emitted exactly once however many passes the worker makes."""
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from upflow_test import Server, ServerTestCase  # noqa: E402

TPL = "software-modification"
SECRET = "webhook-secret-for-tests"


class Receiver:
    """A webhook endpoint on loopback that records what it gets; answers 500 to the first
    `fail_first` requests."""

    def __init__(self, fail_first=0):
        self.got = []
        self.fail_left = fail_first
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    fail = receiver.fail_left > 0
                    receiver.fail_left -= fail
                    receiver.got.append({"headers": dict(self.headers), "body": body, "status": 500 if fail else 200})
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def delivered(self):
        with self.lock:
            return [g for g in self.got if g["status"] == 200]

    def wait_for(self, predicate, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                got = list(self.got)
            if predicate(got):
                return got
            time.sleep(0.1)
        raise AssertionError("webhook receiver: not what was expected in time: "
                             + json.dumps([json.loads(g["body"]).get("event") for g in got]))


class NotificationCase(ServerTestCase):
    """A server whose webhook goes to a local receiver, with one user per role."""
    fail_first = 0

    def setUp(self):
        self.hook = Receiver(self.fail_first)
        self.addCleanup(self.hook.stop)
        self.srv = Server(extra=("--set", "notify.interval=1", "--set", "notify.webhook_url=" + self.hook.url,
                                 "--set", "notify.webhook_secret=" + SECRET))
        self.addCleanup(self.srv.cleanup)
        add = self.srv.add_user
        add("cs1", "cs")
        add("dir1", "cs_director")
        add("pl1", "product_lead@product:PLC-300")
        add("pl2", "product_lead@product:PLC-900")   # another product: hears nothing of PLC-300
        add("tes1", "tester")
        add("dev1", "developer")
        add("ana1", "analyst")
        add("rel1", "release_mgr")
        add("cust", "customer@customer:acme", customer="acme")
        add("other", "customer@customer:globex", customer="globex")
        self.srv.start()
        self.t = {u: self.srv.login(u) for u in
                  ["cs1", "dir1", "pl1", "pl2", "tes1", "dev1", "ana1", "rel1", "cust", "other"]}

    # ---- helpers -------------------------------------------------------------------------
    def get(self, rid, user="pl1"):
        return self.api("GET", f"/api/v1/records/{rid}", token=self.t[user], expect=200)[1]

    def move(self, rid, user, transition, fields=None, expect=200):
        body = {"transition": transition, "revision": self.get(rid)["revision"]}
        if fields:
            body["fields"] = fields
        return self.api("POST", f"/api/v1/records/{rid}/transitions", body, self.t[user], expect=expect)[1]

    def attach(self, rid, user, kind):
        data = b"scan of " + kind.encode()
        status, att = self.srv.request(
            "POST", f"/api/v1/records/{rid}/attachments?kind={kind}&filename={kind}.pdf"
                    f"&sha256={hashlib.sha256(data).hexdigest()}", token=self.t[user], raw=data)
        self.assertEqual(status, 201, att)

    def to_received(self):
        rec = self.api("POST", "/api/v1/records", {"template": TPL, "type": "REQ", "fields": {
            "customer": "acme", "product": "PLC-300", "contact": "Wang", "description": "Recipe upload times out",
            "customer_raised_at": "2026-03-09T16:20:00+08:00"}}, self.t["cs1"], expect=201)[1]
        rid = rec["id"]
        self.attach(rid, "cs1", "request_form")
        self.move(rid, "cs1", "T03", {"module": "recipe-sync", "version_found": "2.3.1",
                                      "expected_result": "upload within 10 s", "urgency": "high",
                                      "problem_points": [{"text": "timeout after 30 s"}]})
        out = self.api("POST", f"/api/v1/records/{rid}/approvals", {"transition": "T04", "decision": "approve"},
                       self.t["dir1"], expect=201)[1]
        self.assertEqual(out["record"]["state"], "RECEIVED")
        return rid

    def notifications(self, user, query=""):
        return self.api("GET", "/api/v1/notifications" + query, token=self.t[user], expect=200)[1]

    def events_of(self, user, rid):
        return [(n["event"], n["body"].get("transition") or n["body"].get("sla"))
                for n in self.notifications(user)["items"] if n["record_id"] == rid]

    def check_signature(self, got):
        sig = got["headers"].get("X-Upflow-Signature", "")
        want = "sha256=" + hmac.new(SECRET.encode(), got["body"], hashlib.sha256).hexdigest()
        self.assertTrue(hmac.compare_digest(sig, want), (sig, want))

    def admin_token(self):
        self.srv.admin("create-user", "--username", "root", "--role", "admin", "--password-file", "-",
                       stdin="correct horse battery\n")
        return self.srv.login("root")


class Notifications(NotificationCase):
    def test_transitions_reach_the_right_people_and_the_webhook(self):
        rid = self.to_received()
        # the director heard of the form waiting in DIRECTOR_REVIEW, the product lead of
        # PLC-300 of the record received; the creator (who acted) and other scopes did not
        self.assertEqual(self.events_of("dir1", rid), [("transition", "T03")])
        self.assertEqual(self.events_of("pl1", rid), [("transition", "T04")])
        for user in ("pl2", "other", "cust", "cs1"):
            self.assertEqual(self.events_of(user, rid), [], user)
        note = self.notifications("pl1")["items"][0]
        self.assertEqual(note["body"]["record"], {"id": rid, "template": TPL, "type": "REQ", "state": "RECEIVED",
                                                  "state_label": note["body"]["record"]["state_label"]})
        self.assertEqual(note["body"]["actor"], "dir1")
        self.assertIn("received_at", note["body"]["changes"])
        self.assertIsNone(note["read_at"])

        # every transition (create, T03, T04) reaches the webhook, signed
        got = self.hook.wait_for(lambda g: len(g) >= 3)
        self.assertEqual(len(got), 3, [g["body"] for g in got])
        bodies = [json.loads(g["body"]) for g in got]
        self.assertEqual([b["transition"] for b in bodies], ["T01", "T03", "T04"])
        for g, b in zip(got, bodies):
            self.check_signature(g)
            self.assertEqual(g["headers"]["X-Upflow-Event"], "transition")
            self.assertEqual(b["record"]["id"], rid)
            self.assertEqual(b["record"]["customer"], "acme")
            # canonical JSON: sorted keys, no spaces
            self.assertEqual(g["body"], json.dumps(b, sort_keys=True, separators=(",", ":"),
                                                   ensure_ascii=False).encode())
        self.assertEqual(len({g["headers"]["X-Upflow-Delivery"] for g in got}), 3)
        # a changed body does not verify
        forged = dict(got[0], body=got[0]["body"].replace(b"acme", b"evil"))
        with self.assertRaises(AssertionError):
            self.check_signature(forged)

        # marking read: once, by the owner only
        nid = note["id"]
        status, body = self.api("POST", f"/api/v1/notifications/{nid}/read", token=self.t["pl2"])
        self.assertError(status, body, 404, "not_found")
        read = self.api("POST", f"/api/v1/notifications/{nid}/read", token=self.t["pl1"], expect=200)[1]
        self.assertIsNotNone(read["read_at"])
        again = self.api("POST", f"/api/v1/notifications/{nid}/read", token=self.t["pl1"], expect=200)[1]
        self.assertEqual(again["read_at"], read["read_at"])
        self.assertEqual(self.notifications("pl1", "?unread=true")["items"], [])
        self.assertEqual(self.notifications("pl1")["unread"], 0)
        self.assertEqual(len(self.notifications("pl1", "?unread=false")["items"]), 1)
        status, body = self.api("GET", "/api/v1/notifications?unread=maybe", token=self.t["pl1"])
        self.assertError(status, body, 422, "bad_field")
        status, body = self.api("POST", "/api/v1/notifications/999999/read", token=self.t["pl1"])
        self.assertError(status, body, 404, "not_found")
        status, body = self.api("GET", "/api/v1/notifications")
        self.assertError(status, body, 401, "unauthorized")

    def test_customer_hears_of_delivery_with_customer_visible_fields_only(self):
        rid = self.to_received()
        self.move(rid, "pl1", "T06", {"recorder": "tes1"})
        self.move(rid, "tes1", "T07", {"form_no": f"F-{rid}", "classification": "defect", "priority": "p2"})
        self.move(rid, "pl1", "T08", {"analyst": "ana1"})
        fields = {"analysis_conclusion": "timeout", "change_scope": "client", "developer": "dev1",
                  "committed_date": "2026-12-31", "estimate_hours": 8}
        self.api("PATCH", f"/api/v1/records/{rid}", {"revision": self.get(rid)["revision"], "fields": fields},
                 self.t["ana1"], expect=200)
        self.api("POST", f"/api/v1/records/{rid}/approvals", {"transition": "T11", "decision": "approve"},
                 self.t["pl1"], expect=201)
        self.move(rid, "dev1", "T13", {"build_id": "b1", "change_notes": "n", "linked_commits": "abc"})
        self.attach(rid, "tes1", "test_report")
        self.move(rid, "tes1", "T15", {"problem_points": [{"text": "timeout after 30 s", "done": True}]})
        self.move(rid, "rel1", "T16", {"release_id": "R-1", "delivered_at": "2026-12-20T10:00:00+08:00",
                                       "linked_commits": "abc def"})

        # held to working hours for the customer: visible once its delivery time has come
        # (and the customer is asked to confirm: T17 is its approval)
        rows = self.srv.sqlite(f"SELECT event, created_at, deliver_at FROM notifications"
                               f" WHERE username = 'cust' AND record_id = {rid} ORDER BY id").split()
        self.assertEqual([r.split("|")[0] for r in rows], ["transition", "approval_requested"])
        created_at, deliver_at = map(int, rows[0].split("|")[1:])
        self.assertGreaterEqual(deliver_at, created_at)
        if deliver_at > time.time():
            self.assertEqual(self.events_of("cust", rid), [])
            self.srv.sqlite(f"UPDATE notifications SET deliver_at = {created_at} WHERE username = 'cust'")
        self.assertEqual(self.events_of("cust", rid), [("approval_requested", "T17"), ("transition", "T16")])
        self.assertEqual(self.events_of("other", rid), [])
        tpl = self.api("GET", f"/api/v1/templates/{TPL}", token=self.t["pl1"], expect=200)[1]
        defs = (tpl.get("body") or tpl)["record_types"]["REQ"]["fields"]
        cust_note = [n for n in self.notifications("cust")["items"]
                     if n["record_id"] == rid and n["event"] == "transition"][0]
        self.assertEqual(set(cust_note["body"]["changes"]), {"release_id", "delivered_at"})
        for name in cust_note["body"]["changes"]:
            self.assertTrue(defs[name].get("customer_visible"), name)
        # the internal creator hears of it with the internal field too (and at once: the
        # queue rule for DELIVERED is not held)
        cs_note = [n for n in self.notifications("cs1")["items"]
                   if n["record_id"] == rid and n["body"]["transition"] == "T16"][0]
        self.assertIn("linked_commits", cs_note["body"]["changes"])

    def test_sla_breach_is_emitted_exactly_once(self):
        rid = self.to_received()
        # received on 2026-03-10 at 10:15, recorded only now: S1 (half a working day) breached
        self.api("PATCH", f"/api/v1/records/{rid}", {"revision": self.get(rid)["revision"],
                 "fields": {"received_at": "2026-03-10T10:15:00+08:00"}}, self.t["pl1"], expect=200)
        breaches = f"SELECT COUNT(*) FROM audit WHERE object_id = '{rid}' AND action = 'sla.breach'"
        deadline = time.time() + 20
        while int(self.srv.sqlite(breaches)) == 0 and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(3.5)   # several more passes of the worker
        self.assertEqual(int(self.srv.sqlite(breaches)), 1)
        self.assertEqual(int(self.srv.sqlite(
            f"SELECT COUNT(*) FROM audit WHERE object_id = '{rid}' AND action = 'sla.warning'")), 0)
        self.assertEqual(self.srv.sqlite(
            f"SELECT sla_id, cycle, kind, pct FROM sla_events WHERE record_id = {rid}").split(), ["S1|1|breach|100"])
        self.assertEqual([e for e in self.events_of("pl1", rid) if e[0] == "sla_breach"], [("sla_breach", "S1")])
        self.assertEqual(self.events_of("pl2", rid), [])
        note = [n for n in self.notifications("pl1")["items"] if n["event"] == "sla_breach"][0]
        self.assertEqual(note["body"]["actor"], "system")
        self.assertEqual(note["body"]["deadline_ms"], 1773120600000)   # 2026-03-10T05:30:00Z
        audit = self.api("GET", f"/api/v1/audit?object_kind=record&object_id={rid}", token=self.admin_token(),
                         expect=200)[1]["items"]
        breach = [a for a in audit if a["action"] == "sla.breach"][0]
        self.assertEqual(breach["actor"], "system")
        got = self.hook.wait_for(lambda g: any(json.loads(x["body"])["event"] == "sla_breach" for x in g))
        hooks = [g for g in got if json.loads(g["body"])["event"] == "sla_breach"]
        self.assertEqual(len(hooks), 1)
        self.check_signature(hooks[0])
        self.assertIn("audit chain intact", self.srv.admin("verify-audit").stdout)


class FailingReceiver(NotificationCase):
    fail_first = 2

    def test_a_failing_receiver_is_retried_with_backoff(self):
        rec = self.api("POST", "/api/v1/records", {"template": TPL, "type": "REQ", "fields": {
            "customer": "acme", "product": "PLC-300", "contact": "Wang", "description": "d",
            "customer_raised_at": "2026-03-09T16:20:00+08:00"}},
            self.t["cs1"], expect=201)[1]
        got = self.hook.wait_for(lambda g: any(x["status"] == 200 for x in g), timeout=30)
        self.assertEqual([g["status"] for g in got], [500, 500, 200])
        self.assertEqual(len({g["headers"]["X-Upflow-Delivery"] for g in got}), 1)
        self.assertEqual(len({g["body"] for g in got}), 1)
        for g in got:
            self.check_signature(g)
        self.assertEqual(json.loads(got[-1]["body"])["record"]["id"], rec["id"])
        time.sleep(0.5)
        row = self.srv.sqlite("SELECT attempts, delivered_at IS NOT NULL, last_error IS NULL FROM outbox")
        self.assertEqual(row.split(), ["3|1|1"])
        time.sleep(2)   # delivered: never sent again
        self.assertEqual(len(self.hook.got), 3)


if __name__ == "__main__":
    unittest.main()
