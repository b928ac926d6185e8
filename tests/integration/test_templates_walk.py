"""The other seed processes (workflow.md §7.2) walked end to end through HTTP, one class per
shipped template, one user per role: production-change, document-revision,
software-deployment, feedback and urban-renewal.

Each walk goes from the create transition to a final state, checks the distinctive rules of
its process on the way (separation of duties, quorums and exclusions, required reasons and
attachments, checklists, confidentiality, sequential approval levels, proxy consent with
evidence), and ends by reading the record's history (the transitions in order) and verifying
the audit chain as an administrator. After each test the server is stopped and its log is
searched for sanitizer reports (relevant when UPFLOW_BUILD_DIR is an Asan build)."""
import hashlib
import json
import re
import unittest

from upflow_test import ServerTestCase, read_text

SANITIZER = re.compile(r"ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|"
                       r"runtime error:|SUMMARY: \w+Sanitizer")


class WalkCase(ServerTestCase):
    """Users from USERS (name -> (roles, customer)) plus an administrator, all logged in."""

    USERS = {}

    def setUpUsers(self):
        self.srv.add_user("admin", "admin")
        for name, (roles, customer) in self.USERS.items():
            self.srv.add_user(name, *roles, customer=customer)

    def setUp(self):
        super().setUp()
        self.addCleanup(self.check_server_log)   # runs before the server's own cleanup
        self.t = {u: self.srv.login(u) for u in ["admin", *self.USERS]}

    def check_server_log(self):
        self.srv.stop()
        log = read_text(self.srv.log_path)
        if SANITIZER.search(log):
            self.fail("sanitizer report in upflowd.log:\n" + log)

    # ---- helpers -------------------------------------------------------------------------
    def create(self, user, template, rtype, fields, expect=201, **extra):
        body = {"template": template, "type": rtype, "fields": fields, **extra}
        return self.api("POST", "/api/v1/records", body, self.t[user], expect=expect)[1]

    def get(self, rid, user="admin"):
        return self.api("GET", f"/api/v1/records/{rid}", token=self.t[user], expect=200)[1]

    def move(self, rid, user, transition, fields=None, comment=None, expect=200):
        body = {"transition": transition, "revision": self.get(rid)["revision"]}
        if fields is not None:
            body["fields"] = fields
        if comment is not None:
            body["comment"] = comment
        return self.api("POST", f"/api/v1/records/{rid}/transitions", body, self.t[user], expect=expect)[1]

    def refused(self, rid, user, transition, fields=None, comment=None):
        """A transition refused by its guards: the set of unmet guards, and the details."""
        before = self.get(rid)
        body = self.move(rid, user, transition, fields, comment, expect=409)
        self.assertEqual(body["error"]["code"], "guard_failed", body)
        after = self.get(rid)
        self.assertEqual((after["state"], after["revision"]), (before["state"], before["revision"]))
        details = body["error"]["details"]
        return {d["guard"] for d in details}, details

    def patch(self, rid, user, fields, expect=200):
        body = {"revision": self.get(rid)["revision"], "fields": fields}
        return self.api("PATCH", f"/api/v1/records/{rid}", body, self.t[user], expect=expect)[1]

    def decide(self, rid, user, transition, decision="approve", expect=201, **kw):
        body = {"transition": transition, "decision": decision, **kw}
        return self.api("POST", f"/api/v1/records/{rid}/approvals", body, self.t[user], expect=expect)[1]

    def attach(self, rid, user, kind, data=None):
        data = data if data is not None else f"{kind} for record {rid}".encode()
        status, att = self.srv.request(
            "POST", f"/api/v1/records/{rid}/attachments?kind={kind}&filename={kind}.pdf"
                    f"&sha256={hashlib.sha256(data).hexdigest()}",
            token=self.t[user], raw=data, headers={"Content-Type": "application/pdf"})
        self.assertEqual(status, 201, att)
        return att

    def comments(self, rid, user):
        return self.api("GET", f"/api/v1/records/{rid}/comments", token=self.t[user], expect=200)[1]["items"]

    def history(self, rid, user="admin"):
        return self.api("GET", f"/api/v1/records/{rid}/history", token=self.t[user], expect=200)[1]["items"]

    def assert_history(self, rid, transitions, final_state):
        """The history lists the transitions in order, each starting where the last ended."""
        items = self.history(rid)
        self.assertEqual([h["transition"] for h in items], transitions, items)
        self.assertIsNone(items[0]["from"])
        for prev, cur in zip(items, items[1:]):
            self.assertEqual(cur["from"], prev["to"], items)
            self.assertGreater(cur["audit_seq"], prev["audit_seq"], items)
            self.assertGreaterEqual(cur["at_ms"], prev["at_ms"], items)
        self.assertEqual(items[-1]["to"], final_state)
        self.assertEqual(self.get(rid)["state"], final_state)
        return items

    def assert_audit_ok(self):
        status, body = self.api("GET", "/api/v1/audit/verify", token=self.t["admin"], expect=200)
        self.assertTrue(body["ok"], body)
        self.assertGreater(body["records"], 0, body)

    def assert_forbidden(self, status, body, *words):
        self.assertError(status, body, 403, "forbidden")
        for w in words:
            self.assertIn(w, body["error"]["message"])

    @staticmethod
    def done(items, upto=None):
        return [{**i, "done": True} if upto is None or n < upto else dict(i) for n, i in enumerate(items)]


# =========================================================================================
class ProductionChange(WalkCase):
    """生产流程变更: apply → evaluate (≠ applicant) → approve or reject with reasons → implement
    → verify (≠ implementer) → document and communicate → closed; emergency and standard
    changes as alternative paths."""

    TPL = "production-change"
    USERS = {
        "zhang": (["employee@product:L1", "evaluator@product:L1"], None),  # applicant who also evaluates
        "ev1": (["evaluator@product:L1", "approver@product:L1"], None),    # evaluates, so may not approve
        "appr1": (["approver@product:L1"], None),
        "li": (["implementer@product:L1", "verifier@product:L1"], None),   # implements, so may not verify
        "ver1": (["verifier@product:L1"], None),
        "cm1": (["change_manager@product:L1"], None),
        "outsider": (["employee@product:L2"], None),
    }

    APPLY = {"title": "Shorten curing time on line 1", "department": "Production",
             "production_line": "L1",
             "reason": "Curing takes 40 min; the new resin cures in 25 min at the same temperature",
             "expected_effect": "Throughput +15 % with the same defect rate",
             "implementation_plan": "Trial on one shift, then all shifts"}

    def apply(self, **extra):
        rec = self.create("zhang", self.TPL, "CHG", {**self.APPLY, **extra})
        self.assertEqual((rec["state"], rec["fields"]["applicant"], rec["assignee"]), ("DRAFT", "zhang", "zhang"))
        return rec["id"]

    def submit_and_evaluate(self, rid):
        self.move(rid, "zhang", "P02", {"resources_needed": "2 operators for one shift, resin supplier support"})
        self.move(rid, "ev1", "P03")
        return self.move(rid, "ev1", "P04", {"evaluation_conclusion": "fits the cost goals; feasible",
                                             "risk_level": "medium"})

    def implement_verify_document(self, rid, evaluation=None):
        """APPROVED -> IMPLEMENTING -> VERIFYING -> DOCUMENTED -> CLOSED, with the checks."""
        tasks = [{"text": "员工培训 train the operators"}, {"text": "设备调整 adjust the oven profile"},
                 {"text": "流程更新 update the work instruction"}]
        guards, _ = self.refused(rid, "cm1", "P08", {"implementer": "li"})
        self.assertEqual(guards, {"checklist_min"})
        rec = self.move(rid, "cm1", "P08", {"implementer": "li", "implementation_tasks": tasks})
        self.assertEqual((rec["state"], rec["assignee"]), ("IMPLEMENTING", "li"))
        guards, details = self.refused(rid, "li", "P09", {"implementation_notes": "done on shift A"})
        self.assertEqual(guards, {"checklist_complete"})
        self.assertIn("3 item(s) of implementation_tasks", details[0]["message"])
        self.patch(rid, "li", {"implementation_tasks": self.done(tasks)})
        self.assertEqual(self.move(rid, "li", "P09", {"implementation_notes": "all shifts switched"})["state"],
                         "VERIFYING")
        # the implementer holds the verifier role too, but may not verify his own work
        guards, details = self.refused(rid, "li", "P11", {"verification_result": "ok"})
        self.assertIn("sod", guards)
        self.assertIn("li fired", " ".join(d["message"] for d in details))
        # another verifier fails it once (with a reason), then passes it
        self.assertEqual(self.move(rid, "ver1", "P10", comment="voids in 2 of 50 samples")["fields"]
                         ["verify_fail_count"], 1)
        self.move(rid, "li", "P09", {"implementation_notes": "oven profile corrected"})
        guards, _ = self.refused(rid, "ver1", "P11", {"verification_result": "50 samples, no voids"})
        self.assertEqual(guards, {"require_attachments"} | ({"require_fields"} if evaluation else set()))
        self.attach(rid, "ver1", "verification_record")
        rec = self.move(rid, "ver1", "P11", {"verification_result": "50 samples, no voids; +14 % throughput",
                                             **(evaluation or {})})
        self.assertEqual((rec["state"], rec["assignee"]), ("DOCUMENTED", None))
        # documentation and communication need the updated procedure and the communication record
        guards, details = self.refused(rid, "cm1", "P13")
        self.assertEqual(guards, {"require_fields", "require_attachments"})
        kinds = " ".join(d["message"] for d in details if d["guard"] == "require_attachments")
        self.assertIn("updated_procedure", kinds)
        self.assertIn("communication_record", kinds)
        self.attach(rid, "cm1", "updated_procedure")
        guards, _ = self.refused(rid, "cm1", "P13", {"communication_targets": "all shifts, QA, purchasing"})
        self.assertEqual(guards, {"require_attachments"})
        self.attach(rid, "cm1", "communication_record")
        rec = self.move(rid, "cm1", "P13", {"communication_targets": "all shifts, QA, purchasing"})
        self.assertEqual(rec["state"], "CLOSED")
        self.assertTrue(rec["fields"]["closed_at"])
        return rec

    def test_normal_change_with_sod_reject_and_close(self):
        rid = self.apply()
        # submitting needs reason, expected effect and resources; a too-short reason is refused
        guards, details = self.refused(rid, "zhang", "P02")
        self.assertEqual(guards, {"require_fields"})
        self.assertEqual([d["message"] for d in details], ["field resources_needed is required"])
        status, body = self.api("POST", f"/api/v1/records/{rid}/transitions",
                                {"transition": "P02", "revision": self.get(rid)["revision"],
                                 "fields": {"reason": "cheaper", "resources_needed": "none"}}, self.t["zhang"])
        self.assertError(status, body, 422, "bad_field")
        self.assertIn("reason", body["error"]["message"])
        # only the applicant submits; someone outside line L1 does not even see the record
        status, body = self.api("POST", f"/api/v1/records/{rid}/transitions",
                                {"transition": "P02", "revision": self.get(rid)["revision"]}, self.t["cm1"])
        self.assertEqual(status, 403, body)
        status, body = self.api("GET", f"/api/v1/records/{rid}", token=self.t["outsider"])
        self.assertError(status, body, 404, "not_found")
        rec = self.move(rid, "zhang", "P02", {"resources_needed": "2 operators for one shift"})
        self.assertEqual((rec["state"], rec["fields"]["change_type"]), ("SUBMITTED", "normal"))

        # evaluator ≠ applicant: zhang holds the evaluator role but applied
        guards, details = self.refused(rid, "zhang", "P03")
        self.assertEqual(guards, {"sod"})
        self.assertIn("zhang created this record", details[0]["message"])
        rec = self.move(rid, "ev1", "P03")
        self.assertEqual((rec["state"], rec["fields"]["evaluator"], rec["assignee"]), ("EVALUATION", "ev1", "ev1"))
        guards, _ = self.refused(rid, "ev1", "P04")
        self.assertEqual(guards, {"require_fields"})
        rec = self.move(rid, "ev1", "P04", {"evaluation_conclusion": "fits the cost goals; feasible",
                                            "risk_level": "medium"})
        self.assertEqual(rec["state"], "APPROVAL")

        # the evaluator holds the approver role too, but may not approve his own evaluation
        status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                {"transition": "P06", "decision": "approve"}, self.t["ev1"])
        self.assert_forbidden(status, body, "ev1")
        status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                {"transition": "P06", "decision": "approve"}, self.t["zhang"])
        self.assertEqual(status, 403, body)
        out = self.decide(rid, "appr1", "P06")
        self.assertEqual(out["fired"], "P06")
        self.assertEqual(out["record"]["state"], "APPROVED")

        self.implement_verify_document(rid)
        self.assert_history(rid, ["P01", "P02", "P03", "P04", "P06", "P08", "P09", "P10", "P09", "P11", "P13"],
                            "CLOSED")
        hist = self.history(rid)
        self.assertEqual([h["actor"] for h in hist[:5]], ["zhang", "zhang", "ev1", "ev1", "appr1"])

        # ---- the reject path: a detailed reason, shown to the applicant ----------------------
        rej = self.apply()
        self.submit_and_evaluate(rej)
        status, body = self.api("POST", f"/api/v1/records/{rej}/approvals",
                                {"transition": "P06", "decision": "reject"}, self.t["appr1"])
        self.assertError(status, body, 422, "bad_field")                   # no reason at all
        guards, _ = self.refused(rej, "appr1", "P07", comment="too costly")  # direct, reason too short
        self.assertEqual(guards, {"require_comment"})
        status, body = self.api("POST", f"/api/v1/records/{rej}/approvals",
                                {"transition": "P06", "decision": "reject", "comment": "too costly"},
                                self.t["appr1"])
        # a rejection whose reason P07 finds too short must not reject the change
        self.assertIn(status, (201, 409), body)
        if status == 201:
            self.assertFalse(body["fired"], body)
            self.assertIn("require_comment", {u["guard"] for u in body["unmet"]}, body)
        self.assertEqual(self.get(rej)["state"], "APPROVAL")
        reason = ("Not approved: the resin supplier cannot guarantee delivery before Q3, and the "
                  "trial plan lacks a defect-rate baseline. Resubmit with both.")
        out = self.decide(rej, "appr1", "P06", "reject", comment=reason)
        self.assertEqual(out["fired"], "P07")
        rec = self.get(rej, "zhang")
        self.assertEqual((rec["state"], rec["assignee"]), ("REJECTED", "zhang"))
        seen = [c for c in self.comments(rej, "zhang") if c["body"] == reason]
        self.assertEqual(len(seen), 1, self.comments(rej, "zhang"))
        self.assertTrue(seen[0]["customer_visible"])
        self.assertEqual(seen[0]["author"], "appr1")
        self.assert_history(rej, ["P01", "P02", "P03", "P04", "P07"], "REJECTED")
        self.assert_audit_ok()

    def test_emergency_and_standard_changes(self):
        # emergency: straight to approval with a justification; evaluated after the fact
        rid = self.apply(resources_needed="maintenance crew on call")
        guards, details = self.refused(rid, "zhang", "P15")
        self.assertEqual(guards, {"require_fields"})
        self.assertIn("emergency_justification", details[0]["message"])
        rec = self.move(rid, "zhang", "P15", {"emergency_justification": "oven 2 overheats; the old profile "
                                                                         "damages parts"})
        self.assertEqual((rec["state"], rec["fields"]["change_type"]), ("APPROVAL", "emergency"))
        self.assertEqual(self.decide(rid, "appr1", "P06")["fired"], "P06")
        # DOCUMENTED needs the evaluation: refused at P11 until it is given
        rec = self.implement_verify_document(rid, evaluation={"evaluation_conclusion": "retrospective: justified",
                                                              "risk_level": "high"})
        self.assertEqual(rec["fields"]["risk_level"], "high")
        self.assert_history(rid, ["P01", "P15", "P06", "P08", "P09", "P10", "P09", "P11", "P13"], "CLOSED")

        # standard: pre-authorised, registered by the change manager (not the applicant)
        std = self.apply(resources_needed="none beyond the standard kit")
        guards, _ = self.refused(std, "cm1", "P16")
        self.assertEqual(guards, {"require_fields"})
        rec = self.move(std, "cm1", "P16", {"standard_change_ref": "STD-OVEN-004"})
        self.assertEqual((rec["state"], rec["fields"]["change_type"]), ("APPROVED", "standard"))
        self.implement_verify_document(std, evaluation={"evaluation_conclusion": "standard change STD-OVEN-004",
                                                        "risk_level": "low"})
        self.assert_history(std, ["P01", "P16", "P08", "P09", "P10", "P09", "P11", "P13"], "CLOSED")
        approvals = self.api("GET", f"/api/v1/records/{std}/approvals", token=self.t["cm1"], expect=200)[1]
        self.assertEqual(approvals["items"], [])
        self.assert_audit_ok()


# =========================================================================================
class DocumentRevision(WalkCase):
    """行政文件修订: propose → review and approval → revise → strict review by two reviewers,
    neither the proposer nor the reviser → publish (the superseded version is archived)."""

    TPL = "document-revision"
    S = "@product:policy"
    USERS = {
        "prop1": (["proposer" + S, "strict_reviewer" + S], None),   # proposes; may not strictly review it
        "prop_reg": (["proposer@product:regulation"], None),        # another category's proposer
        "rev1": (["reviewer" + S], None),
        "apr1": (["approver" + S], None),
        "xiu": (["reviser" + S, "strict_reviewer" + S], None),      # revises; may not strictly review it
        "sr1": (["strict_reviewer" + S], None),
        "sr2": (["strict_reviewer" + S], None),
        "adm": (["doc_admin" + S], None),
    }
    PROPOSAL = {"document_no": "XZ-2024-017", "document_title": "差旅费管理办法 travel expense policy",
                "document_category": "policy", "confidentiality_level": "internal",
                "proposer_department": "Finance",
                "revision_reason": "New national per-diem rates from 2026-01-01",
                "proposed_changes": "Replace table 2 (per-diem rates) and section 4.3"}
    BASIS = "定密依据: internal under rule 3.2 (budget figures)"

    def propose(self, user="prop1", **extra):
        return self.create(user, self.TPL, "DOCREV", {**self.PROPOSAL, **extra})

    def review_and_approve(self, rid):
        self.move(rid, "prop1", "R02")
        self.patch(rid, "rev1", {"review_opinion": "agreed; check section 4.3 numbering"})
        self.assertEqual(self.decide(rid, "apr1", "R03")["fired"], "R03")
        self.move(rid, "adm", "R06", {"reviser": "xiu"})

    def submit_revision(self, rid, version):
        if not any(a["kind"] == "revised_draft" for a in
                   self.api("GET", f"/api/v1/records/{rid}/attachments", token=self.t["xiu"], expect=200)[1]["items"]):
            self.attach(rid, "xiu", "revised_draft")
        return self.move(rid, "xiu", "R07", {"revised_text": f"Revised text, version {version}",
                                            "revision_summary": "table 2 replaced", "new_version": version})

    def test_confidentiality_strict_review_and_publish(self):
        # only a proposer of the document's category may propose
        status, body = self.api("POST", "/api/v1/records", {"template": self.TPL, "type": "DOCREV",
                                                           "fields": self.PROPOSAL}, self.t["prop_reg"])
        self.assertEqual(status, 403, body)
        rec = self.propose()
        rid = rec["id"]
        self.assertEqual((rec["state"], rec["fields"]["proposed_by"]), ("PROPOSED", "prop1"))

        # confidentiality: the basis is for approvers and the document administration only
        status, body = self.api("PATCH", f"/api/v1/records/{rid}",
                                {"revision": self.get(rid)["revision"],
                                 "fields": {"confidentiality_basis": self.BASIS}}, self.t["prop1"])
        self.assertEqual(status, 403, body)
        self.patch(rid, "adm", {"confidentiality_basis": self.BASIS})
        for user in ("prop1", "rev1", "xiu", "sr1"):
            self.assertNotIn("confidentiality_basis", self.get(rid, user)["fields"], user)
            listed = self.api("GET", "/api/v1/records", token=self.t[user], expect=200)[1]["items"]
            self.assertNotIn("confidentiality_basis", [r for r in listed if r["id"] == rid][0]["fields"], user)
        for user in ("apr1", "adm"):
            self.assertEqual(self.get(rid, user)["fields"]["confidentiality_basis"], self.BASIS)

        # review and approval: the reviewer's opinion, then the approver's sign-off fires R03
        self.move(rid, "prop1", "R02")
        guards, _ = self.refused(rid, "rev1", "R03", {"review_opinion": "agreed"})
        self.assertEqual(guards, {"approval"})
        self.patch(rid, "rev1", {"review_opinion": "agreed; check section 4.3 numbering"})
        out = self.decide(rid, "apr1", "R03")
        self.assertEqual((out["fired"], out["record"]["state"]), ("R03", "APPROVED"))
        guards, _ = self.refused(rid, "adm", "R06")
        self.assertEqual(guards, {"require_fields"})
        rec = self.move(rid, "adm", "R06", {"reviser": "xiu"})
        self.assertEqual((rec["state"], rec["assignee"]), ("REVISING", "xiu"))

        # the revision: text, summary, new version and the draft itself
        guards, _ = self.refused(rid, "xiu", "R07", {"revised_text": "draft"})
        self.assertEqual(guards, {"require_fields", "require_attachments"})
        rec = self.submit_revision(rid, "2.0")
        self.assertEqual(rec["state"], "STRICT_REVIEW")
        self.assertNotIn("revised_text", self.get(rid, "rev1")["fields"])
        self.assertEqual(self.get(rid, "sr1")["fields"]["revised_text"], "Revised text, version 2.0")

        # strict review: the proposer and the reviser are excluded, two others must approve
        for user in ("prop1", "xiu"):
            status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                    {"transition": "R08", "decision": "approve"}, self.t[user])
            self.assert_forbidden(status, body, user)
        out = self.decide(rid, "sr1", "R08", comment="wording checked")
        self.assertEqual((out["quorum"]["approved"], out["quorum"]["needed"], out["quorum"]["eligible"]), (1, 2, 2))
        self.assertFalse(out["fired"])
        self.patch(rid, "sr1", {"strict_review_notes": "checked against the national regulation"})
        self.attach(rid, "adm", "published_document")
        guards, details = self.refused(rid, "adm", "R08", {"effective_date": "2026-07-01"})
        self.assertEqual(guards, {"approval"})
        self.assertIn("1 of 2", details[0]["message"])
        self.decide(rid, "sr2", "R08")
        rec = self.move(rid, "adm", "R08", {"effective_date": "2026-07-01"})
        self.assertEqual(rec["state"], "PUBLISHED")
        self.assertEqual((rec["fields"]["new_version"], rec["fields"]["effective_date"]), ("2.0", "2026-07-01"))
        self.assertTrue(rec["fields"]["published_at"])
        self.assertEqual(self.get(rid, "sr1")["fields"]["strict_review_notes"],
                         "checked against the national regulation")
        self.assertNotIn("strict_review_notes", self.get(rid, "rev1")["fields"])

        self.assert_history(rid, ["R01", "R02", "R03", "R06", "R07", "R08"], "PUBLISHED")
        # confidentiality holds in the history and the record's audit too: their field values
        # are filtered the same way
        for user in ("prop1", "rev1"):
            for h in self.history(rid, user):
                self.assertNotIn("confidentiality_basis", h.get("fields", {}), (user, h["transition"]))
            audit = self.api("GET", f"/api/v1/records/{rid}/audit", token=self.t[user], expect=200)[1]
            self.assertNotIn(self.BASIS, json.dumps(audit, ensure_ascii=False), user)
        self.assertIn(self.BASIS, json.dumps(self.api("GET", f"/api/v1/records/{rid}/audit", token=self.t["adm"],
                                                      expect=200)[1], ensure_ascii=False))
        self.assert_audit_ok()

    def test_next_version_fails_strict_review_once_then_supersedes(self):
        old = self.propose()["id"]
        self.review_and_approve(old)
        self.submit_revision(old, "2.0")
        self.decide(old, "sr1", "R08")
        self.decide(old, "sr2", "R08")
        self.attach(old, "adm", "published_document")
        self.move(old, "adm", "R08", {"effective_date": "2026-07-01"})

        new = self.create("prop1", self.TPL, "DOCREV",
                          {**self.PROPOSAL, "revision_reason": "Per-diem rates changed again in 2027"},
                          links=[{"link": "supersedes", "to": old}])["id"]
        self.review_and_approve(new)
        self.submit_revision(new, "3.0")
        # a strict reviewer fails it (a reason is required): back to the reviser
        status, body = self.api("POST", f"/api/v1/records/{new}/approvals",
                                {"transition": "R08", "decision": "reject"}, self.t["sr1"])
        self.assertError(status, body, 422, "bad_field")
        self.decide(new, "sr2", "R08")          # approved before the rejection: a new round follows
        out = self.decide(new, "sr1", "R08", "reject", comment="section 4.3 still cites the 2024 rates")
        self.assertEqual((out["fired"], out["record"]["state"]), ("R09", "REVISING"))
        self.submit_revision(new, "3.0")
        out = self.decide(new, "sr1", "R08")
        self.assertEqual(out["quorum"]["approved"], 1)   # sr2's approval belonged to the last round
        self.decide(new, "sr2", "R08")
        self.attach(new, "adm", "published_document")
        self.move(new, "adm", "R08", {"effective_date": "2027-01-01"})
        self.assert_history(new, ["R01", "R02", "R03", "R06", "R07", "R09", "R07", "R08"], "PUBLISHED")
        # publishing the new version archived the old one
        old_rec = self.get(old)
        self.assertEqual(old_rec["state"], "ARCHIVED")
        self.assertTrue(old_rec["fields"]["archived_at"])
        self.assert_history(old, ["R01", "R02", "R03", "R06", "R07", "R08", "R10"], "ARCHIVED")
        self.assert_audit_ok()


# =========================================================================================
class SoftwareDeployment(WalkCase):
    """软件部署与升级: plan → preparation (four checklists) → GO/NO-GO (ops + business, the
    preparer excluded) → rollout → post-deployment verification → observation → closed; and
    rollback, NO-GO and re-preparation."""

    TPL = "software-deployment"
    S = "@product:MES"
    USERS = {
        "rm1": (["release_mgr" + S], None),
        "zhou": (["ops" + S, "ops_lead" + S], None),   # the preparer, who also leads operations
        "ops2": (["ops" + S, "tester" + S], None),     # rolls out, so may not verify
        "lead1": (["ops_lead" + S], None),
        "bo1": (["business_owner" + S], None),
        "tes1": (["tester" + S], None),
    }
    LISTS = [("env_checklist", 16), ("hardware_checklist", 8), ("program_data_checklist", 4),
             ("docs_training_checklist", 12)]
    PACKAGE = hashlib.sha256(b"mes-5.2.0.tar.gz").hexdigest()

    def plan(self):
        rec = self.create("rm1", self.TPL, "DEPLOY", {
            "system_name": "MES", "target_version": "5.2.0", "description": "MES upgrade 5.1 -> 5.2",
            "included_requests": "REQ 41, REQ 44", "planned_window_start": "2026-12-05T22:00:00+08:00",
            "planned_window_end": "2026-12-06T02:00:00+08:00"})
        self.assertEqual(rec["state"], "PLANNED")
        for name, n in self.LISTS + [("post_verify_checklist", 4)]:
            self.assertEqual(len(rec["fields"][name]), n, name)
            self.assertFalse(any(i["done"] for i in rec["fields"][name]), name)
        return rec["id"]

    def prepare(self, rid):
        """PREPARATION -> GO_NO_GO with every checklist ticked, the last one in the request."""
        rec = self.get(rid)
        for name, _ in self.LISTS[:3]:
            self.patch(rid, "zhou", {name: self.done(rec["fields"][name])})
        last = self.LISTS[3][0]
        return self.move(rid, "zhou", "D03", {"rollback_plan": "restore the 5.1 image and the nightly DB dump",
                                             "package_hash": self.PACKAGE,
                                             last: self.done(rec["fields"][last])})

    def go(self, rid, first_approver_count=1):
        out = self.decide(rid, "lead1", "D04")
        self.assertEqual(out["quorum"]["approved"], first_approver_count)
        self.assertFalse(out["fired"])
        out = self.decide(rid, "bo1", "D04")
        self.assertEqual((out["fired"], out["record"]["state"]), ("D04", "ROLLOUT"))
        return out["record"]

    def test_preparation_go_rollout_verify_observe_close(self):
        rid = self.plan()
        rec = self.move(rid, "rm1", "D02", {"preparer": "zhou"})
        self.assertEqual((rec["state"], rec["assignee"]), ("PREPARATION", "zhou"))

        # every one of the four checklists must be complete; the 409 names each open one
        request = {"rollback_plan": "restore the 5.1 image and the nightly DB dump", "package_hash": self.PACKAGE}
        # only the preparer hands the preparation in (so that GO/NO-GO can exclude him)
        status, body = self.api("POST", f"/api/v1/records/{rid}/transitions",
                                {"transition": "D03", "revision": rec["revision"], "fields": request}, self.t["ops2"])
        self.assertEqual(status, 403, body)
        guards, details = self.refused(rid, "zhou", "D03", request)
        self.assertEqual(guards, {"checklist_complete"})
        self.assertEqual(len(details), 4, details)
        lists = rec["fields"]
        # all but one item of the environment list: still refused, for that one item
        self.patch(rid, "zhou", {"env_checklist": self.done(lists["env_checklist"], upto=15)})
        _, details = self.refused(rid, "zhou", "D03", request)
        self.assertIn("1 item(s) of env_checklist", " ".join(d["message"] for d in details))
        open_lists = [name for name, _ in self.LISTS]
        for name, _ in self.LISTS[:3]:
            self.patch(rid, "zhou", {name: self.done(lists[name])})
            open_lists.remove(name)
            guards, details = self.refused(rid, "zhou", "D03", request)
            self.assertEqual(guards, {"checklist_complete"})
            self.assertEqual([m for m in open_lists if any(m in d["message"] for d in details)], open_lists)
            self.assertEqual(len(details), len(open_lists), details)
        # the last list ticked in the transition request itself (editable in PREPARATION)
        rec = self.move(rid, "zhou", "D03", {**request, "docs_training_checklist":
                                             self.done(lists["docs_training_checklist"])})
        self.assertEqual(rec["state"], "GO_NO_GO")

        # GO/NO-GO: the preparer holds ops_lead but is excluded; one approval is not enough
        status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                {"transition": "D04", "decision": "approve"}, self.t["zhou"])
        self.assert_forbidden(status, body, "zhou")
        status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                {"transition": "D04", "decision": "approve"}, self.t["rm1"])
        self.assertEqual(status, 403, body)
        guards, _ = self.refused(rid, "lead1", "D04")
        self.assertEqual(guards, {"approval"})
        rec = self.go(rid)
        self.assertTrue(rec["fields"]["rollout_started_at"])

        # rollout, then verification by a tester who did not roll it out
        guards, _ = self.refused(rid, "ops2", "D06", {"deployed_version": "5.2.0"})
        self.assertEqual(guards, {"require_fields"})
        rec = self.move(rid, "ops2", "D06", {"deployed_version": "5.2.0",
                                            "rollout_completed_at": "2026-12-06T01:10:00+08:00"})
        self.assertEqual(rec["state"], "POST_VERIFY")
        guards, _ = self.refused(rid, "ops2", "D08", {"verification_notes": "looks fine"})
        self.assertIn("sod", guards)
        guards, details = self.refused(rid, "tes1", "D08", {"verification_notes": "functional, compatibility, "
                                                                                  "install/uninstall, security"})
        self.assertEqual(guards, {"checklist_complete", "require_attachments"})
        checks = self.get(rid)["fields"]["post_verify_checklist"]
        self.patch(rid, "tes1", {"post_verify_checklist": [{**i, "done": True, "evidence": "test run 7"}
                                                           for i in checks]})
        self.attach(rid, "tes1", "verification_report")
        rec = self.move(rid, "tes1", "D08", {"verification_notes": "functional, compatibility, "
                                                                   "install/uninstall, security: passed"})
        self.assertEqual(rec["state"], "OBSERVATION")
        guards, _ = self.refused(rid, "lead1", "D10")
        self.assertEqual(guards, {"require_fields"})
        rec = self.move(rid, "lead1", "D10", {"observation_notes": "5 days: CPU normal, no user complaints"})
        self.assertEqual(rec["state"], "CLOSED")
        self.assert_history(rid, ["D01", "D02", "D03", "D04", "D06", "D08", "D10"], "CLOSED")
        self.assert_audit_ok()

    def test_rollback_no_go_and_rolled_back(self):
        rid = self.plan()
        self.move(rid, "rm1", "D02", {"preparer": "zhou"})
        self.prepare(rid)
        self.go(rid)
        self.move(rid, "ops2", "D06", {"deployed_version": "5.2.0",
                                       "rollout_completed_at": "2026-12-06T01:10:00+08:00"})
        # verification fails: roll back, then prepare again (the rollback record is required)
        rec = self.move(rid, "tes1", "D09", {"rollback_reason": "report export broken for plant 2"})
        self.assertEqual((rec["state"], rec["fields"]["rollback_count"]), ("ROLLBACK", 1))
        guards, _ = self.refused(rid, "rm1", "D12", {"rollback_result": "5.1 restored", "preparer": "zhou"})
        self.assertEqual(guards, {"require_attachments"})
        self.attach(rid, "ops2", "rollback_record")
        rec = self.move(rid, "rm1", "D12", {"rollback_result": "5.1 restored at 02:40", "preparer": "zhou"})
        self.assertEqual((rec["state"], rec["assignee"]), ("PREPARATION", "zhou"))
        self.prepare(rid)
        # NO-GO needs a reason and sends it back to preparation
        out = self.decide(rid, "lead1", "D04")
        self.assertEqual(out["quorum"]["approved"], 1)       # the first round's approvals do not count
        out = self.decide(rid, "bo1", "D04", "reject", comment="window clashes with the month-end closing")
        self.assertEqual((out["fired"], out["record"]["state"]), ("D05", "PREPARATION"))
        self.prepare(rid)
        self.go(rid)
        rec = self.move(rid, "ops2", "D07", {"rollback_reason": "migration step 4 timed out"})
        self.assertEqual((rec["state"], rec["fields"]["rollback_count"]), ("ROLLBACK", 2))
        self.attach(rid, "ops2", "rollback_record", b"second rollback log")
        rec = self.move(rid, "ops2", "D11", {"rollback_result": "5.1 restored at 01:30"})
        self.assertEqual(rec["state"], "ROLLED_BACK")
        self.assert_history(rid, ["D01", "D02", "D03", "D04", "D06", "D09", "D12", "D03", "D05", "D03", "D04",
                                  "D07", "D11"], "ROLLED_BACK")
        self.assert_audit_ok()


# =========================================================================================
class Feedback(WalkCase):
    """用户反馈: collect → classify → assess → prioritise → track → closed, told to the user."""

    TPL = "feedback"
    USERS = {
        "cust1": (["customer@customer:acme"], "acme"),
        "cust2": (["customer@customer:globex"], "globex"),
        "sup1": (["support"], None),
        "ana1": (["analyst"], None),
        "po1": (["product_owner"], None),
    }

    def collect(self, user="cust1", **extra):
        fields = {"customer": "acme", "product": "PLC-300", "user_contact": "wang@acme.example",
                  "channel": "online_survey", "content": "The recipe editor is slow with 500 steps", **extra}
        return self.create(user, self.TPL, "FEEDBACK", fields)

    def test_collect_classify_assess_prioritise_track_close(self):
        # a customer may only give feedback for its own customer
        status, body = self.api("POST", "/api/v1/records", {"template": self.TPL, "type": "FEEDBACK", "fields": {
            "customer": "acme", "product": "PLC-300", "channel": "forum", "content": "not mine"}}, self.t["cust2"])
        self.assertEqual(status, 403, body)
        rec = self.collect()
        rid = rec["id"]
        self.assertEqual(rec["state"], "NEW")
        self.assertTrue(rec["fields"]["received_at"])       # set when collected

        guards, _ = self.refused(rid, "sup1", "F02")
        self.assertEqual(guards, {"require_fields"})
        self.assertEqual(self.move(rid, "sup1", "F02", {"category": "performance"})["state"], "CLASSIFIED")
        guards, details = self.refused(rid, "ana1", "F03", {"impact": "high"})
        self.assertEqual({d["message"] for d in details},
                         {"field frequency is required", "field assessment is required"})
        status, body = self.api("POST", f"/api/v1/records/{rid}/transitions",
                                {"transition": "F03", "revision": self.get(rid)["revision"]}, self.t["sup1"])
        self.assertEqual(status, 403, body)                  # assessing is the analyst's
        rec = self.move(rid, "ana1", "F03", {"impact": "high", "frequency": "frequent",
                                             "assessment": "editor re-renders every step on each key press"})
        self.assertEqual(rec["state"], "ASSESSED")
        rec = self.move(rid, "po1", "F04", {"priority": "p2"})
        self.assertEqual(rec["state"], "PRIORITISED")
        guards, _ = self.refused(rid, "po1", "F05")
        self.assertEqual(guards, {"require_fields"})
        rec = self.move(rid, "po1", "F05", {"tracking_ref": "F-2026-0042"})
        self.assertEqual((rec["state"], rec["state_category"]), ("TRACKING", "waiting"))
        guards, _ = self.refused(rid, "sup1", "F06", {"resolution": "fixed"})
        self.assertEqual(guards, {"require_fields"})
        rec = self.move(rid, "sup1", "F06", {"resolution": "fixed",
                                             "result_notes": "Fixed in 2.4.0: the editor renders lazily"})
        self.assertEqual(rec["state"], "CLOSED")

        # the user sees the outcome and the priority, not the internal assessment
        seen = self.get(rid, "cust1")
        self.assertEqual((seen["state"], seen["fields"]["resolution"], seen["fields"]["priority"]),
                         ("CLOSED", "fixed", "p2"))
        self.assertEqual(seen["fields"]["result_notes"], "Fixed in 2.4.0: the editor renders lazily")
        for internal in ("impact", "frequency", "assessment"):
            self.assertNotIn(internal, seen["fields"])
        status, body = self.api("GET", f"/api/v1/records/{rid}", token=self.t["cust2"])
        self.assertError(status, body, 404, "not_found")
        self.assertTrue(all("fields" not in h for h in self.history(rid, "cust1")))
        self.assert_history(rid, ["F01", "F02", "F03", "F04", "F05", "F06"], "CLOSED")

        # feedback that needs no change is closed at once, with the answer for the user
        other = self.collect("sup1", channel="phone", content="How do I export recipes?")["id"]
        self.move(other, "sup1", "F02", {"category": "consultation"})
        rec = self.move(other, "sup1", "F07", {"resolution": "answered",
                                               "result_notes": "Menu File > Export; see manual 5.2"})
        self.assertEqual(rec["state"], "CLOSED")
        self.assert_history(other, ["F01", "F02", "F07"], "CLOSED")
        self.assert_audit_ok()

    def test_a_customer_can_not_move_its_feedback_to_another_customer(self):
        rec = self.collect()
        rid = rec["id"]
        status, body = self.api("PATCH", f"/api/v1/records/{rid}",
                                {"revision": rec["revision"], "fields": {"customer": "globex"}}, self.t["cust1"])
        self.assertEqual(status, 403, body)
        self.move(rid, "sup1", "F02", {"category": "performance"})
        self.assertEqual(self.get(rid, "cust1")["customer"], "acme")
        status, body = self.api("GET", f"/api/v1/records/{rid}", token=self.t["cust2"])
        self.assertError(status, body, 404, "not_found")


# =========================================================================================
class UrbanRenewal(WalkCase):
    """城市更新单元计划申报: every rights holder consents (in person or by proxy with the
    signed form) → single applicant → street office → district → city, in that order; returns
    for 补正 and resubmission."""

    TPL = "urban-renewal"
    UNIT = "UR-2026-001"
    C = "@customer:" + UNIT
    D = "@product:futian"
    USERS = {
        "agent1": (["applicant_agent" + D], None),
        "rh1": (["rights_holder" + C], UNIT),
        "rh2": (["rights_holder" + C], UNIT),
        "rh3": (["rights_holder" + C], UNIT),           # signs on paper; recorded by proxy
        "street1": (["street_office" + D], None),
        "dist1": (["district_office" + D], None),
        "city1": (["city_authority" + D], None),
        "res1": ([], UNIT),                             # a resident's account, no role
    }

    def test_consent_levels_supplement_and_approval(self):
        rec = self.create("agent1", self.TPL, "URBAN", {
            "renewal_unit_id": self.UNIT, "project_name": "Shawei old village renewal", "district": "futian",
            "street": "Shatou", "site_area_m2": 48200, "rights_holder_count": 3})
        rid = rec["id"]
        self.assertEqual(rec["state"], "CONSENT_COLLECTION")
        self.assertEqual(self.get(rid, "rh1")["fields"]["project_name"], "Shawei old village renewal")
        # the consents are given for one applicant entity: it is named first
        self.patch(rid, "agent1", {"applicant_entity": "Shenzhen Shawei Renewal Co., Ltd."})
        self.attach(rid, "agent1", "entrustment_letter")

        # consent of all rights holders: with three, two are not enough
        out = self.decide(rid, "rh1", "U02", comment="同意")
        self.assertEqual((out["quorum"]["approved"], out["quorum"]["needed"], out["fired"]), (1, 3, False))
        out = self.decide(rid, "rh2", "U02")
        self.assertEqual((out["quorum"]["approved"], out["quorum"]["needed"], out["fired"]), (2, 3, False))
        guards, details = self.refused(rid, "agent1", "U02")
        self.assertEqual(guards, {"approval"})
        self.assertIn("2 of 3", details[0]["message"])
        # rh3 signed on paper: the agent records it by proxy, only with the signed form as evidence
        status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                {"transition": "U02", "decision": "approve", "on_behalf_of": "rh3"},
                                self.t["agent1"])
        self.assertEqual(status, 409, body)
        letter = self.api("GET", f"/api/v1/records/{rid}/attachments", token=self.t["agent1"],
                          expect=200)[1]["items"][0]
        status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                {"transition": "U02", "decision": "approve", "on_behalf_of": "rh3",
                                 "evidence": letter["id"]}, self.t["agent1"])
        self.assertEqual(status, 409, body)                 # evidence of the wrong kind
        status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                {"transition": "U02", "decision": "approve", "on_behalf_of": "street1"},
                                self.t["agent1"])
        self.assertIn(status, (403, 409), body)             # not a rights holder
        self.assertEqual(self.get(rid)["state"], "CONSENT_COLLECTION")
        signed = self.attach(rid, "agent1", "consent_signed", b"rh3 signed consent form scan")
        out = self.decide(rid, "agent1", "U02", on_behalf_of="rh3", evidence=signed["id"])
        self.assertEqual((out["quorum"]["approved"], out["fired"]), (3, "U02"))
        self.assertEqual(out["record"]["state"], "APPLICANT_DESIGNATED")
        approvals = self.api("GET", f"/api/v1/records/{rid}/approvals", token=self.t["agent1"], expect=200)[1]
        proxy = [a for a in approvals["items"] if a["approver"] == "rh3"][0]
        self.assertEqual((proxy["recorded_by"], proxy["evidence"]), ("agent1", signed["id"]))

        # the application goes to the street office
        guards, _ = self.refused(rid, "agent1", "U03", {"land_and_building_info": "48 buildings, 1990s"})
        self.assertEqual(guards, {"require_attachments"})
        self.attach(rid, "agent1", "application_materials")
        rec = self.move(rid, "agent1", "U03", {"land_and_building_info": "48 buildings built 1985-1998; "
                                                                         "collective land 31 000 m²"})
        self.assertEqual(rec["state"], "SUBMITTED")

        # a later level can not approve before the earlier one
        for user, tr in (("dist1", "U06"), ("city1", "U09")):
            status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                    {"transition": tr, "decision": "approve"}, self.t[user])
            self.assertError(status, body, 409, "conflict")
        # the street office returns it once to the applicant (a reason the applicant sees)
        out = self.decide(rid, "street1", "U04", "reject", comment="请补充权利主体身份证明材料 add the holders' IDs")
        self.assertEqual((out["fired"], out["record"]["state"]), ("U05", "APPLICANT_DESIGNATED"))
        self.assertIn("请补充权利主体身份证明材料 add the holders' IDs",
                      [c["body"] for c in self.comments(rid, "rh1")])
        self.attach(rid, "agent1", "application_materials", b"ID copies of the rights holders")
        self.move(rid, "agent1", "U03", {"land_and_building_info": "48 buildings built 1985-1998; "
                                                                   "collective land 31 000 m²; IDs attached"})
        # the street office agrees (its opinion is required)
        out = self.decide(rid, "street1", "U04")
        self.assertFalse(out["fired"])
        self.assertIn("require_fields", {u["guard"] for u in out["unmet"]})
        self.patch(rid, "street1", {"street_opinion": "同意申报 agreed"})
        out = self.decide(rid, "street1", "U04")
        self.assertEqual((out["fired"], out["record"]["state"]), ("U04", "DISTRICT_REVIEW"))
        status, body = self.api("POST", f"/api/v1/records/{rid}/approvals",
                                {"transition": "U09", "decision": "approve"}, self.t["city1"])
        self.assertError(status, body, 409, "conflict")

        # the district returns it for 补正: back to SUBMITTED, then resubmitted through the levels
        guards, _ = self.refused(rid, "dist1", "U07", comment="补正")
        self.assertEqual(guards, {"require_comment"})
        rec = self.move(rid, "dist1", "U07", comment="补正: 现场踏勘发现范围图与实际不符 the site plan does not match")
        self.assertEqual((rec["state"], rec["fields"]["supplement_count"]), ("SUBMITTED", 2))
        self.attach(rid, "agent1", "application_materials", b"corrected site plan")
        self.patch(rid, "agent1", {"land_and_building_info": "48 buildings built 1985-1998; collective land "
                                                             "31 000 m²; corrected site plan"})
        out = self.decide(rid, "street1", "U04")               # a new round at the street office
        self.assertEqual((out["fired"], out["record"]["state"]), ("U04", "DISTRICT_REVIEW"))
        self.patch(rid, "dist1", {"district_opinion": "初步核查通过，报市审批 forwarded",
                                  "site_survey_notes": "surveyed 2026-05-12"})
        out = self.decide(rid, "dist1", "U06")
        self.assertEqual((out["fired"], out["record"]["state"]), ("U06", "CITY_APPROVAL"))
        out = self.decide(rid, "city1", "U09")
        self.assertFalse(out["fired"])                         # the decision number is required
        self.patch(rid, "city1", {"city_decision_no": "深规划资源〔2026〕118号"})
        out = self.decide(rid, "city1", "U09")
        self.assertEqual((out["fired"], out["record"]["state"]), ("U09", "APPROVED"))
        rec = self.get(rid, "rh2")
        self.assertTrue(rec["fields"]["approved_at"])
        self.assertEqual(rec["fields"]["city_decision_no"], "深规划资源〔2026〕118号")
        self.assertNotIn("site_survey_notes", rec["fields"])

        hist = self.assert_history(rid, ["U01", "U02", "U03", "U05", "U03", "U04", "U07", "U04", "U06", "U09"],
                                   "APPROVED")
        self.assertEqual((hist[1]["actor"], hist[1]["on_behalf_of"]), ("agent1", "rh3"))
        self.assert_audit_ok()

    def test_only_each_authority_writes_its_own_opinion(self):
        rid = self.create("agent1", self.TPL, "URBAN", {
            "renewal_unit_id": self.UNIT, "project_name": "Shawei old village renewal", "district": "futian",
            "street": "Shatou"})["id"]
        official = {"street_opinion": "street1", "district_opinion": "dist1", "city_decision_no": "city1"}
        # rights holders, a resident of the unit without any role, the applicant and the other
        # authorities may not write an authority's opinion or decision number
        for field, owner in official.items():
            for user in ["rh1", "res1", "agent1", *[u for u in official.values() if u != owner]]:
                status, body = self.api("PATCH", f"/api/v1/records/{rid}",
                                        {"revision": self.get(rid)["revision"], "fields": {field: "同意 forged"}},
                                        self.t[user])
                self.assertEqual(status, 403, (user, field, body))
            self.patch(rid, owner, {field: "同意"})
        # nor may a rights holder rewrite what the others consent to
        status, body = self.api("PATCH", f"/api/v1/records/{rid}",
                                {"revision": self.get(rid)["revision"], "fields": {"applicant_entity": "Other Co."}},
                                self.t["rh1"])
        self.assertEqual(status, 403, body)
        self.assertEqual(self.get(rid)["revision"], 4)
        self.assert_audit_ok()

if __name__ == "__main__":
    unittest.main()
