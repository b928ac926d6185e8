"""The software-modification process (软件修改流程) walked through HTTP with one user per
role, as workflow.md §2 specifies it: separation of duties, feedback and disputes acting on
the request, S1 met and breached, and an audit chain that catches a changed row."""
import unittest

from change_walk import TPL, ChangeWalk
from upflow_test import ServerTestCase


class SoftwareModification(ChangeWalk, ServerTestCase):
    def setUpUsers(self):
        add = self.srv.add_user
        add("cs1", "cs")
        add("csdir", "cs", "cs_director")          # may create, may sign off, not both on one form
        add("dir1", "cs_director")
        add("pl1", "product_lead@product:PLC-300")
        add("tes1", "tester")
        add("dev1", "developer", "tester")         # a developer who also tests
        add("ana1", "analyst")
        add("rel1", "release_mgr")
        add("mgr", "customer_manager@customer:acme", customer="acme")
        add("cust", "customer@customer:acme", customer="acme")
        add("other", "customer@customer:globex", customer="globex")

    def setUp(self):
        super().setUp()
        self.t = {u: self.srv.login(u) for u in
                  ["cs1", "csdir", "dir1", "pl1", "tes1", "dev1", "ana1", "rel1", "mgr", "cust", "other"]}

    # ---- the walk ------------------------------------------------------------------------
    def test_main_path_separation_of_duties_and_feedback_rework(self):
        # the director's sign-off by the creator of the form is refused
        rec = self.create_req("csdir")
        rid = rec["id"]
        self.attach(rid, "csdir", "request_form")
        self.move(rid, "csdir", "T03", {"module": "m", "version_found": "2.3.1", "expected_result": "e",
                                        "urgency": "normal", "problem_points": [{"text": "p"}]})
        status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                {"transition": "T04", "decision": "approve"}, self.t["csdir"])
        self.assertError(status, body, 403, "forbidden")
        self.assertIn("creator", body["error"]["message"])
        # a rejection needs a reason and returns the form to customer service (T05)
        status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                {"transition": "T04", "decision": "reject"}, self.t["dir1"])
        self.assertError(status, body, 422, "bad_field")
        out = self.decide(rid, "dir1", "T04", "reject", comment="please attach the signed form")
        self.assertEqual(out["fired"], "T05")
        self.assertEqual(out["record"]["state"], "CS_TRIAGE")

        # a full pass on another form
        rid = self.to_received()
        rec = self.get(rid)
        self.assertTrue(rec["fields"]["received_at"])
        rec = self.to_unassigned(rid)
        self.assertEqual(rec["state"], "UNASSIGNED")
        rec = self.to_delivered(rid)
        self.assertEqual(rec["state"], "IN_TEST")
        # dev1 holds the tester role too, but developed this change: T15 is refused, with
        # every other unmet guard listed as well
        body = self.move(rid, "dev1", "T15", expect=409)
        self.assertEqual(self.guards(body), {"sod", "require_attachments", "checklist_complete"})
        # the tester fails it once, the developer resubmits
        self.move(rid, "tes1", "T14", comment="still times out at 60 s")
        self.assertEqual(self.get(rid)["fields"]["test_fail_count"], 1)
        self.move(rid, "dev1", "T13", {"build_id": "2.3.2-rc2"})
        self.attach(rid, "tes1", "test_report", b"all green")
        points = [{"text": "timeout after 30 s", "done": True}, {"text": "no error shown", "done": True}]
        self.api("PATCH", f"/api/v1/records/{rid}", {"revision": self.get(rid)["revision"],
                                                     "fields": {"problem_points": points}}, self.t["tes1"], expect=200)
        self.move(rid, "tes1", "T15")
        rec = self.move(rid, "rel1", "T16", {"release_id": "plc-300-2.3.2",
                                             "delivered_at": "2026-11-20T10:00:00+08:00"})
        self.assertEqual(rec["state"], "DELIVERED")
        # forbidden shortcut: only a feedback form moves a delivered request back to rework
        body = self.move(rid, "pl1", "T18", expect=403)
        self.assertIn("system", body["error"]["message"])

        # the customer sees its record, only customer-visible fields; another customer does not
        seen = self.get(rid, "cust")
        self.assertNotIn("priority", seen["fields"])
        self.assertIn("description", seen["fields"])
        status, body = self.api("GET", f"/api/v1/records/{rid}", token=self.t["other"])
        self.assertError(status, body, 404, "not_found")
        status, listing = self.api("GET", "/api/v1/records", token=self.t["other"], expect=200)
        self.assertEqual(listing["items"], [])

        # feedback form (程序修改反馈单): not resolved -> the request goes to 已返工
        fb = self.api("POST", "/api/v1/records", {
            "template": TPL, "type": "FB", "links": [{"link": "parent", "to": rid}],
            "fields": {"customer": "acme", "product": "PLC-300", "release_id": "plc-300-2.3.2",
                       "customer_manager_name": "Li", "description": "still slow on line 3",
                       "received_at": "2026-11-24T09:00:00+08:00"}}, self.t["pl1"], expect=201)[1]
        body = self.move(fb["id"], "pl1", "F2", {"outcome": "not_resolved",
                                                "point_results": [{"text": "timeout", "done": False}]}, expect=409)
        self.assertEqual(self.guards(body), {"approval"})   # the customer manager has not signed
        # the signed paper form, recorded by proxy with its scan as evidence
        evidence = self.attach(fb["id"], "pl1", "feedback_form_signed", b"signed form scan")
        status, body = self.api("POST", f"/api/v1/records/{fb['id']}/approvals",
                                {"transition": "F2", "decision": "approve", "on_behalf_of": "mgr"}, self.t["pl1"])
        self.assertEqual(status, 409, body)   # no evidence named
        self.decide(fb["id"], "pl1", "F2", on_behalf_of="mgr", evidence=evidence["id"])
        self.move(fb["id"], "pl1", "F2", {"outcome": "not_resolved",
                                         "point_results": [{"text": "timeout", "done": False}]})
        rec = self.get(rid)
        self.assertEqual(rec["state"], "REWORK")
        self.assertEqual(rec["fields"]["rework_count"], 1)
        audit = self.api("GET", f"/api/v1/records/{fb['id']}/audit", token=self.t["pl1"], expect=200)[1]
        proxy = [a for a in audit["items"] if a["action"] == "record.approval"][0]
        self.assertEqual((proxy["actor"], proxy["on_behalf_of"]), ("pl1", "mgr"))

        # and nothing but the re-commit (T20) or re-analysis (T21) leads on from rework
        body = self.move(rid, "rel1", "T16", {"release_id": "x", "delivered_at": "2026-11-25T10:00:00+08:00"},
                         expect=409)
        self.assertIn("not allowed from state REWORK", body["error"]["message"])

    def test_dispute_original_issue_resets_to_unassigned_and_new_problem_spawns(self):
        rid = self.to_received()
        self.to_unassigned(rid)
        self.move(rid, "pl1", "T08", {"analyst": "ana1"})
        self.move(rid, "pl1", "T12", comment="works as designed; see manual section 4.2 on timeouts")
        self.assertEqual(self.get(rid)["state"], "DECLINED")
        dsp_fields = {"customer": "acme", "product": "PLC-300", "contact": "Wang",
                      "disputed_reply": "works as designed", "description": "it is a defect",
                      "customer_raised_at": "2026-11-24T10:00:00+08:00"}
        dsp = self.api("POST", "/api/v1/records", {"template": TPL, "type": "DSP", "fields": dsp_fields,
                                                   "links": [{"link": "parent", "to": rid}]},
                       self.t["cs1"], expect=201)[1]
        self.move(dsp["id"], "cs1", "D3")
        self.move(dsp["id"], "pl1", "D4", {"answer": "agreed, we reopen it", "outcome": "original_issue"})
        self.assertEqual(self.get(rid)["state"], "UNASSIGNED")
        # a new problem raised in a dispute becomes a new request that needs sign-off again
        dsp2 = self.api("POST", "/api/v1/records", {"template": TPL, "type": "DSP", "fields": dsp_fields,
                                                    "links": [{"link": "parent", "to": rid}]},
                        self.t["cs1"], expect=201)[1]
        self.move(dsp2["id"], "cs1", "D3")
        self.move(dsp2["id"], "pl1", "D4", {"answer": "that is a new request", "outcome": "new_problem"})
        links = self.get(dsp2["id"])["links"]
        spawned = [l for l in links if l["link"] == "raised_from" and "from" in l]
        self.assertEqual(len(spawned), 1, links)
        new = self.get(spawned[0]["from"], "cs1")
        self.assertEqual((new["type"], new["state"]), ("REQ", "CS_TRIAGE"))

    def sla(self, rid, sla_id):
        status, body = self.api("GET", f"/api/v1/records/{rid}/sla", token=self.t["pl1"], expect=200)
        clocks = [c for c in body["items"] if c["sla"] == sla_id]
        self.assertTrue(clocks, body)
        return clocks[-1], body

    def test_s1_met_and_breached(self):
        # recorded at once: whatever the time of day now, the deadline is a session start later
        met = self.to_received()
        self.to_unassigned(met)
        clock, _ = self.sla(met, "S1")
        self.assertEqual(clock["stage"], "met", clock)
        self.assertFalse(clock["breached"])
        # received on Tuesday 2026-03-10 at 10:15 (back-dated by the product lead, A3), recorded
        # today: the deadline was 13:30 that day
        late = self.to_received()
        rec = self.get(late)
        self.api("PATCH", f"/api/v1/records/{late}", {"revision": rec["revision"],
                 "fields": {"received_at": "2026-03-10T10:15:00+08:00"}}, self.t["pl1"], expect=200)
        clock, _ = self.sla(late, "S1")
        self.assertEqual(clock["deadline"], "2026-03-10T05:30:00Z", clock)
        self.assertTrue(clock["breached"], clock)
        status, breached = self.api("GET", "/api/v1/records?sla=breached", token=self.t["pl1"], expect=200)
        self.assertEqual([r["id"] for r in breached["items"]], [late])
        self.to_unassigned(late)
        clock, body = self.sla(late, "S1")
        self.assertEqual(clock["stage"], "breached", clock)
        # recomputed from the audit log, the clocks are the same
        status, again = self.api("GET", f"/api/v1/records/{late}/sla?recompute=true", token=self.t["pl1"], expect=200)
        self.assertTrue(again["consistent"], again)

    def test_audit_verify_then_tamper(self):
        rid = self.to_received()
        self.to_unassigned(rid)
        root_report = self.srv.admin("verify-audit")
        self.assertIn("audit chain intact", root_report.stdout)
        seq = int(self.srv.sqlite(
            f"SELECT seq FROM audit WHERE object_id = '{rid}' AND action = 'record.transition' ORDER BY seq LIMIT 1"))
        self.srv.sqlite(f"UPDATE audit SET detail = replace(detail, 'DIRECTOR_REVIEW', 'RECEIVED') WHERE seq = {seq}")
        r = self.srv.admin("verify-audit", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"BROKEN at record {seq}", r.stdout)

    def test_concurrent_changes_are_caught_by_the_revision(self):
        rec = self.create_req()
        first = {"transition": "T02", "revision": rec["revision"], "comment": "solved by a settings change"}
        self.api("POST", f"/api/v1/records/{rec['id']}/transitions", first, self.t["cs1"], expect=200)
        status, body = self.api("POST", f"/api/v1/records/{rec['id']}/transitions",
                                {"transition": "T03", "revision": rec["revision"]}, self.t["cs1"])
        self.assertError(status, body, 409, "conflict")
        self.assertEqual(self.get(rec["id"], "cs1")["state"], "RESOLVED_BY_CS")

    def test_unknown_transitions_and_wrong_roles_change_nothing(self):
        rec = self.create_req()
        rid = rec["id"]
        before = self.srv.sqlite("SELECT COUNT(*) FROM audit")
        cases = [("cs1", {"transition": "T99", "revision": 1}, 404, "not_found"),
                 ("cs1", {"transition": "T07", "revision": 1}, 409, "conflict"),       # not from CS_TRIAGE
                 ("tes1", {"transition": "T02", "revision": 1, "comment": "x" * 20}, 403, "forbidden"),
                 ("cs1", {"transition": "T02", "revision": "1"}, 422, "bad_field"),
                 ("cs1", {"transition": "T02", "revision": 1, "fields": {"nope": 1}}, 422, "bad_field"),
                 ("cs1", {"transition": "T02", "revision": 1, "fields": {"urgency": "extreme"}}, 422, "bad_field")]
        for user, body, want_status, want_code in cases:
            status, payload = self.api("POST", f"/api/v1/records/{rid}/transitions", body, self.t[user])
            self.assertError(status, payload, want_status, want_code)
        self.assertEqual(self.srv.sqlite("SELECT COUNT(*) FROM audit"), before)
        self.assertEqual(self.get(rid, "cs1")["revision"], rec["revision"])


if __name__ == "__main__":
    unittest.main()
