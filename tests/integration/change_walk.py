"""Walking a software-modification change request (REQ) through its process over HTTP, one
user per role: shared by the tests of the process itself and of rollouts, which need a REQ
approved for release (RELEASE_PENDING).

A test case using ChangeWalk sets self.t = {username: token} for the users of USERS."""
import hashlib

TPL = "software-modification"

USERS = {
    "cs1": ["cs"],
    "dir1": ["cs_director"],
    "pl1": ["product_lead"],
    "tes1": ["tester"],
    "dev1": ["developer", "tester"],   # a developer who also tests
    "ana1": ["analyst"],
    "rel1": ["release_mgr"],
}


class ChangeWalk:
    def get(self, rid, user="pl1"):
        return self.api("GET", f"/api/v1/records/{rid}", token=self.t[user], expect=200)[1]

    def move(self, rid, user, transition, fields=None, comment=None, expect=200):
        rec = self.get(rid, "pl1")
        body = {"transition": transition, "revision": rec["revision"]}
        if fields:
            body["fields"] = fields
        if comment:
            body["comment"] = comment
        return self.api("POST", f"/api/v1/records/{rid}/transitions", body, self.t[user], expect=expect)[1]

    def decide(self, rid, user, transition, decision="approve", expect=201, **kw):
        body = {"transition": transition, "decision": decision, **kw}
        return self.api("POST", f"/api/v1/records/{rid}/approvals", body, self.t[user], expect=expect)[1]

    def attach(self, rid, user, kind, data=b"scan"):
        status, att = self.srv.request(
            "POST", f"/api/v1/records/{rid}/attachments?kind={kind}&filename={kind}.pdf"
                    f"&sha256={hashlib.sha256(data).hexdigest()}", token=self.t[user], raw=data)
        self.assertEqual(status, 201, att)
        return att

    def guards(self, payload):
        self.assertEqual(payload["error"]["code"], "guard_failed", payload)
        return {d["guard"] for d in payload["error"]["details"]}

    def create_req(self, user="cs1", **extra):
        fields = {"customer": "acme", "product": "PLC-300", "contact": "Wang, +86 21 5555 0100",
                  "description": "Recipe upload times out on line 3",
                  "customer_raised_at": "2026-03-09T16:20:00+08:00", **extra}
        return self.api("POST", "/api/v1/records", {"template": TPL, "type": "REQ", "fields": fields},
                        self.t[user], expect=201)[1]

    def to_received(self, creator="cs1", **fields):
        """CS_TRIAGE -> DIRECTOR_REVIEW -> (director signs) RECEIVED."""
        rec = self.create_req(creator, **fields)
        rid = rec["id"]
        status, body = self.api("POST", f"/api/v1/records/{rid}/transitions",
                                {"transition": "T03", "revision": rec["revision"]}, self.t[creator])
        self.assertEqual(status, 409)
        self.assertEqual(self.guards(body), {"require_fields", "require_attachments", "checklist_min"})
        self.attach(rid, creator, "request_form")
        self.move(rid, creator, "T03", {
            "module": "recipe-sync", "version_found": "2.3.1", "expected_result": "upload within 10 s",
            "urgency": "high", "problem_points": [{"text": "timeout after 30 s"}, {"text": "no error shown"}]})
        out = self.decide(rid, "dir1", "T04")
        self.assertEqual(out["fired"], "T04")
        self.assertEqual(out["record"]["state"], "RECEIVED")
        return rid

    def to_unassigned(self, rid):
        self.move(rid, "pl1", "T06", {"recorder": "tes1"})
        self.move(rid, "tes1", "T07", {"form_no": f"F-2026-{rid:04d}", "classification": "defect",
                                       "priority": "p2"})
        return self.get(rid)

    def to_delivered(self, rid):
        self.move(rid, "pl1", "T08", {"analyst": "ana1"})
        fields = {"analysis_conclusion": "timeout too short", "change_scope": "recipe-sync client",
                  "developer": "dev1", "committed_date": "2026-12-31", "estimate_hours": 16}
        status, body = self.api("POST", f"/api/v1/records/{rid}/transitions",
                                {"transition": "T11", "revision": self.get(rid)["revision"], "fields": fields},
                                self.t["ana1"])
        self.assertEqual(self.guards(body), {"approval"})   # the analyst's commitment needs the lead
        self.api("PATCH", f"/api/v1/records/{rid}", {"revision": self.get(rid)["revision"], "fields": fields},
                 self.t["ana1"], expect=200)
        out = self.decide(rid, "pl1", "T11")
        self.assertEqual(out["record"]["state"], "IN_DEV")
        self.assertEqual(out["record"]["fields"]["original_committed_date"], "2026-12-31")
        self.move(rid, "dev1", "T13", {"build_id": "2.3.2-rc1", "change_notes": "timeout 120 s",
                                       "linked_commits": "abc123"})
        return self.get(rid)

    def to_release_pending(self, **fields):
        """A new REQ walked to RELEASE_PENDING: signed off, analysed, developed, tested."""
        rid = self.to_received(**fields)
        self.to_unassigned(rid)
        self.to_delivered(rid)
        self.attach(rid, "tes1", "test_report", b"all green")
        points = [dict(p, done=True) for p in self.get(rid)["fields"]["problem_points"]]
        self.api("PATCH", f"/api/v1/records/{rid}", {"revision": self.get(rid)["revision"],
                                                     "fields": {"problem_points": points}},
                 self.t["tes1"], expect=200)
        self.move(rid, "tes1", "T15")
        return rid
