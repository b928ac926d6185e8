"""`upflow` as a person and a pipeline use it against a real upflowd: login and the
credentials file, creating, listing and showing records, a refused transition that lists every
unmet guard, attachments checked by SHA-256, approvals, comments, the audit chain, usage
errors and a server that is down.

The workflow is a small template written here (NEW -> REVIEW -> DONE), so the test does not
depend on the production templates.
"""
import hashlib
import json
import os
import pty
import select
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import unittest

from upflow_test import PASSWORD, UPFLOW, ServerTestCase

TEMPLATE = {
    "id": "cli-test",
    "version": 1,
    "name": "CLI test",
    "roles": ["requester", "director"],
    "record_types": {
        "REQ": {
            "label": "change request",
            "fields": {
                "title": {"type": "string"},
                "priority": {"type": "integer"},
                "build_id": {"type": "string"},
            },
            "states": {
                "NEW": {"label": "New", "category": "new"},
                "REVIEW": {"label": "In review", "category": "approval"},
                "DONE": {"label": "Done", "category": "done"},
            },
            "transitions": [
                {"id": "T01", "name": "create", "from": [], "to": "NEW",
                 "actors": {"roles": ["requester"]}, "require_fields": ["title"]},
                {"id": "T02", "name": "submit", "from": ["NEW"], "to": "REVIEW",
                 "actors": {"roles": ["requester"]}, "input": ["build_id"],
                 "require_fields": ["build_id"], "require_comment": {"min_length": 5},
                 "require_attachments": [{"kind": "test_report", "min": 1}]},
                {"id": "T03", "name": "approve", "from": ["REVIEW"], "to": "DONE",
                 "approval": {"roles": ["director"], "quorum": {"count": 1},
                              "exclude": ["creator"], "auto_fire": True, "on_reject": "T04",
                              "reject_requires_comment": True}},
                {"id": "T04", "name": "send back", "from": ["REVIEW"], "to": "NEW",
                 "system_only": True},
            ],
        }
    },
}


def free_port():
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CliTestCase(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.templates_dir = tempfile.mkdtemp(prefix="upflow-cli-tpl-")
        with open(os.path.join(cls.templates_dir, "cli-test.json"), "w") as f:
            json.dump(TEMPLATE, f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.templates_dir, ignore_errors=True)

    def setUpUsers(self):
        self.srv.add_user("root", "admin")
        self.srv.add_user("alice", "requester", "director")
        self.srv.add_user("bob", "director")

    def setUp(self):
        super().setUp()
        self.homes = tempfile.mkdtemp(prefix="upflow-cli-home-")
        self.addCleanup(shutil.rmtree, self.homes, True)

    # ---- helpers ----------------------------------------------------------------------

    def env(self, user, **extra):
        """Each user gets a home of its own; UPFLOW_* from the outside never leak in."""
        home = os.path.join(self.homes, user)
        os.makedirs(home, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("UPFLOW_")}
        env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"), TZ="UTC")
        env.update(extra)
        return env

    def cli(self, *args, user="alice", stdin=None, expect=0, env=None):
        r = subprocess.run([UPFLOW, *args], input=stdin, capture_output=True, text=True,
                           env=env or self.env(user), timeout=60)
        if expect is not None and r.returncode != expect:
            self.fail(f"upflow {' '.join(args)}: exit {r.returncode}, expected {expect}\n"
                      f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def credentials_path(self, user):
        return os.path.join(self.homes, user, "config", "upflow", "credentials.json")

    def login(self, user):
        return self.cli("login", "--server", self.srv.url, "--username", user,
                        "--password-file", "-", user=user, stdin=PASSWORD + "\n")

    def create(self, title="Replace the pump", user="alice"):
        r = self.cli("request", "create", "--template", "cli-test", "--type", "REQ",
                     "--field", "title=" + title, "--json", user=user)
        return json.loads(r.stdout)

    def record(self, rid):
        token = self.srv.login("root")
        return self.api("GET", f"/api/v1/records/{rid}", token=token, expect=200)[1]

    def to_review(self, rid):
        """Attach the report and submit: the record waits for its director."""
        report = os.path.join(self.homes, "report.txt")
        with open(report, "w") as f:
            f.write("all tests pass\n")
        self.cli("request", "attach", str(rid), report, "--kind", "test_report")
        self.cli("request", "move", str(rid), "T02", "--field", "build_id=b-1",
                 "--comment", "ready for review")
        self.assertEqual(self.record(rid)["state"], "REVIEW")

    def assertUsage(self, r, command):
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn(f"Try '{command} --help' for more information.", r.stderr)


class Login(CliTestCase):
    def test_login_stores_a_private_token_and_logout_revokes_it(self):
        r = self.login("alice")
        self.assertIn(f"signed in to {self.srv.url} as alice", r.stdout)
        path = self.credentials_path("alice")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        with open(path) as f:
            cred = json.load(f)
        self.assertEqual(cred["server"], self.srv.url)
        self.assertEqual(cred["username"], "alice")
        self.assertGreater(cred["expires_at"], 0)
        self.assertEqual(os.listdir(os.path.dirname(path)), ["credentials.json"])  # no temp left
        me = self.api("GET", "/api/v1/me", token=cred["token"], expect=200)[1]
        self.assertEqual(me["username"], "alice")

        r = self.cli("logout")
        self.assertIn("signed out", r.stdout)
        self.assertFalse(os.path.exists(path))
        status, body = self.api("GET", "/api/v1/me", token=cred["token"])
        self.assertError(status, body, 401, "unauthorized")
        r = self.cli("request", "show", "1", expect=1)
        self.assertIn("not signed in", r.stderr)

    def test_default_location_is_home_config(self):
        env = self.env("alice")
        del env["XDG_CONFIG_HOME"]
        self.cli("login", "--server", self.srv.url + "/", "--username", "alice",
                 "--password-file", "-", stdin=PASSWORD + "\n", env=env)
        path = os.path.join(env["HOME"], ".config", "upflow", "credentials.json")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            self.assertEqual(json.load(f)["server"], self.srv.url)  # trailing slash dropped

    def test_password_from_a_file(self):
        pw = os.path.join(self.homes, "pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.cli("login", "--server", self.srv.url, "--username", "bob", "--password-file", pw,
                 user="bob")
        self.assertTrue(os.path.exists(self.credentials_path("bob")))

    def test_password_prompt_on_the_terminal_does_not_echo(self):
        pid, fd = pty.fork()
        if pid == 0:  # the child: upflow with the pty as its terminal
            try:
                os.execve(UPFLOW, [UPFLOW, "login", "--server", self.srv.url, "--username",
                                   "alice"], self.env("alice"))
            finally:
                os._exit(127)
        seen = b""

        def read_until(marker):
            nonlocal seen
            deadline = time.time() + 20
            while marker not in seen and time.time() < deadline:
                if select.select([fd], [], [], 0.2)[0]:
                    try:
                        seen += os.read(fd, 4096)
                    except OSError:  # the child is gone
                        return
        try:
            read_until(b"Password for alice at ")
            os.write(fd, (PASSWORD + "\n").encode())
            read_until(b"signed in")
            read_until(b"(never)")  # drain to the end
        finally:
            status = None
            for _ in range(100):  # never wait forever for a child stuck at its prompt
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, 9)
                _, status = os.waitpid(pid, 0)
            os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, seen)
        self.assertIn(b"signed in to", seen)
        self.assertNotIn(PASSWORD.encode(), seen)
        self.assertTrue(os.path.exists(self.credentials_path("alice")))

    def test_wrong_password_stores_nothing(self):
        r = self.cli("login", "--server", self.srv.url, "--username", "alice",
                     "--password-file", "-", stdin="not the password\n", expect=1)
        self.assertRegex(r.stderr, r"^upflow login: .*\(unauthorized\)\n")
        self.assertFalse(os.path.exists(self.credentials_path("alice")))

    def test_environment_and_options_override_the_login(self):
        self.login("alice")
        token = self.srv.login("bob")
        env = self.env("carol", UPFLOW_SERVER=self.srv.url, UPFLOW_TOKEN=token)
        rid = self.create()["id"]
        r = self.cli("request", "show", str(rid), "--json", env=env)
        self.assertEqual(json.loads(r.stdout)["id"], rid)
        # --token beats a bad UPFLOW_TOKEN; --server beats a dead UPFLOW_SERVER
        env = self.env("carol", UPFLOW_SERVER=f"http://127.0.0.1:{free_port()}",
                       UPFLOW_TOKEN="ufs_bogus")
        self.cli("request", "show", str(rid), "--server", self.srv.url, "--token", token, env=env)
        r = self.cli("request", "show", str(rid), "--server", self.srv.url, env=env, expect=1)
        self.assertIn("(unauthorized)", r.stderr)

    def test_stored_token_is_not_sent_to_another_server(self):
        self.login("alice")
        other = f"http://localhost:{self.srv.port}"
        r = self.cli("request", "show", "1", "--server", other, expect=1)
        self.assertIn(f"not signed in to {other}", r.stderr)

    def test_expired_session_says_so(self):
        self.login("alice")
        path = self.credentials_path("alice")
        with open(path) as f:
            cred = json.load(f)
        cred["expires_at"] = 1000
        with open(path, "w") as f:
            json.dump(cred, f)
        r = self.cli("request", "show", "1", expect=1)
        self.assertIn("expired", r.stderr)
        self.assertIn("upflow login", r.stderr)


class Records(CliTestCase):
    def setUp(self):
        super().setUp()
        self.login("alice")
        self.login("bob")

    def test_create_list_show(self):
        r = self.cli("request", "create", "--template", "cli-test", "--type", "REQ",
                     "--field", "title=Replace the pump", "--field", "priority=2")
        self.assertRegex(r.stdout, r"^created record \d+: REQ in state NEW \(New\)\n$")
        first = int(r.stdout.split()[2].rstrip(":"))
        fields_file = os.path.join(self.homes, "fields.json")
        with open(fields_file, "w") as f:
            json.dump({"title": "from the file", "build_id": "b-7", "priority": 9}, f)
        second = json.loads(self.cli("request", "create", "--template", "cli-test", "--type",
                                     "REQ", "--json-fields", fields_file, "--field", "priority=3",
                                     "--field", 'build_id="42"', "--json").stdout)
        # --field wins over the file; a quoted value stays a string
        self.assertEqual(second["fields"], {"title": "from the file", "build_id": "42",
                                            "priority": 3})
        rec = self.record(first)
        self.assertEqual(rec["fields"], {"title": "Replace the pump", "priority": 2})

        r = self.cli("request", "list")
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "TYPE", "STATE", "ASSIGNEE", "UPDATED", "TITLE"])
        self.assertEqual(len(lines), 3)
        self.assertTrue(lines[1].startswith(str(second["id"])))  # newest first
        self.assertIn("Replace the pump", lines[2])
        self.assertIn("NEW", lines[2])

        page = json.loads(self.cli("request", "list", "--limit", "1", "--json").stdout)
        self.assertEqual(len(page["items"]), 1)
        self.assertIn("next_cursor", page)
        r = self.cli("request", "list", "--limit", "1")
        self.assertIn("more records", r.stderr)
        everything = json.loads(self.cli("request", "list", "--limit", "1", "--all",
                                         "--json").stdout)
        self.assertEqual([i["id"] for i in everything["items"]], [second["id"], first])
        none = self.cli("request", "list", "--state", "DONE")
        self.assertEqual(none.stdout, "no records\n")
        # a value that needs percent-encoding reaches the server intact, as one value
        odd = self.cli("request", "list", "--state", "NEW&state=NEW ?#", "--json")
        self.assertEqual(json.loads(odd.stdout)["items"], [])

        r = self.cli("request", "show", str(first))
        self.assertIn(f"record {first}: REQ of cli-test v1", r.stdout)
        self.assertIn("state:     NEW (New)", r.stdout)
        self.assertRegex(r.stdout, r"\n  priority  2\n  title     Replace the pump\n")
        self.assertIn("  T02  submit -> REVIEW", r.stdout)
        shown = json.loads(self.cli("request", "show", str(first), "--json").stdout)
        self.assertEqual(shown["revision"], 1)
        self.assertEqual(shown["fields"], rec["fields"])

    def test_create_refused_and_unknown_record(self):
        r = self.cli("request", "create", "--template", "cli-test", "--type", "REQ", expect=1)
        self.assertIn("upflow request create: ", r.stderr)
        self.assertIn("(guard_failed)", r.stderr)
        self.assertIn("  require_fields: field title is required", r.stderr)
        r = self.cli("request", "show", "9999", expect=1)
        self.assertRegex(r.stderr, r"^upflow request show: .*\(not_found\)\n$")

    def test_move_lists_every_unmet_guard_then_succeeds(self):
        rid = self.create()["id"]
        r = self.cli("request", "move", str(rid), "T02", expect=1)
        lines = r.stderr.splitlines()
        self.assertRegex(lines[0], r"^upflow request move: .*\(guard_failed\)$")
        guards = sorted(line.split(":")[0].strip() for line in lines[1:])
        self.assertEqual(guards, ["require_attachments", "require_comment", "require_fields"])
        self.assertEqual(self.record(rid)["state"], "NEW")

        self.to_review(rid)
        # a stale revision is a conflict, and says so
        r = self.cli("request", "move", str(rid), "T02", "--revision", "1", expect=1)
        self.assertIn("(conflict)", r.stderr)

    def test_edit_changes_fields_outside_a_transition(self):
        rid = self.create()["id"]
        r = self.cli("request", "edit", str(rid), "--field", "build_id=b-9", "--field", "priority=5")
        self.assertEqual(r.stdout, f"record {rid} changed, revision 2\n")
        rec = self.record(rid)
        self.assertEqual((rec["fields"]["build_id"], rec["fields"]["priority"], rec["state"]), ("b-9", 5, "NEW"))
        r = self.cli("request", "edit", str(rid), "--field", "priority=6", "--revision", "1", expect=1)
        self.assertIn("(conflict)", r.stderr)
        r = self.cli("request", "edit", str(rid), "--field", "nope=1", expect=1)
        self.assertIn("(bad_field)", r.stderr)
        self.cli("request", "edit", str(rid), expect=2)
        self.assertEqual(self.record(rid)["revision"], 2)

    def test_attach_sends_the_hash_and_streams_the_file(self):
        rid = self.create()["id"]
        small = os.path.join(self.homes, "report.txt")
        with open(small, "wb") as f:
            f.write(b"all tests pass\n")
        r = self.cli("request", "attach", str(rid), small, "--kind", "test_report")
        want = hashlib.sha256(b"all tests pass\n").hexdigest()
        self.assertRegex(r.stdout, rf"^attachment \d+ on record {rid}: report.txt, 15 bytes, "
                                   rf"sha256 {want}\n$")
        big = os.path.join(self.homes, "image.bin")
        data = os.urandom(3 << 20)
        with open(big, "wb") as f:
            f.write(data)
        out = json.loads(self.cli("request", "attach", str(rid), big, "--kind", "image",
                                  "--name", "firmware v2.bin", "--json").stdout)
        self.assertEqual(out["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(out["size"], len(data))
        self.assertEqual(out["filename"], "firmware v2.bin")
        r = self.cli("request", "attach", str(rid), os.path.join(self.homes, "missing"),
                     "--kind", "x", expect=1)
        self.assertIn("missing", r.stderr)

    def test_approve_fires_and_reject_needs_a_comment(self):
        rid = self.create()["id"]
        self.to_review(rid)
        # the creator holds the director role but may not approve her own request
        r = self.cli("request", "approve", str(rid), "T03", expect=1)
        self.assertIn("(forbidden)", r.stderr)
        # a rejection without a reason is refused before anything is sent
        r = self.cli("request", "reject", str(rid), "T03", user="bob", expect=2)
        self.assertIn("--comment", r.stderr)
        self.assertEqual(self.record(rid)["state"], "REVIEW")
        r = self.cli("request", "reject", str(rid), "T03", "--comment", "the build is missing",
                     user="bob")
        self.assertIn("rejected T03", r.stdout)
        self.assertIn("T04 fired: the record is now in state NEW (New)", r.stdout)
        self.assertEqual(self.record(rid)["state"], "NEW")

        self.to_review(rid)
        r = self.cli("request", "approve", str(rid), "T03", "--comment", "fine", user="bob")
        self.assertIn(f"approved T03 on record {rid} (quorum 1 of 1)", r.stdout)
        self.assertIn("T03 fired: the record is now in state DONE (Done)", r.stdout)
        self.assertEqual(self.record(rid)["state"], "DONE")

    def test_comment(self):
        rid = self.create()["id"]
        r = self.cli("request", "comment", str(rid), "checked on site", "--customer-visible")
        self.assertRegex(r.stdout, rf"^comment \d+ added to record {rid} \(customer-visible\)\n$")
        out = json.loads(self.cli("request", "comment", str(rid), "internal note",
                                  "--json").stdout)
        self.assertFalse(out["customer_visible"])
        token = self.srv.login("root")
        items = self.api("GET", f"/api/v1/records/{rid}/comments", token=token, expect=200)[1]
        self.assertEqual([(c["body"], c["customer_visible"]) for c in items["items"]],
                         [("checked on site", True), ("internal note", False)])


class Audit(CliTestCase):
    def test_verify_intact_then_broken(self):
        self.login("root")
        self.login("alice")
        self.create()
        r = self.cli("audit", "verify", user="root")
        self.assertRegex(r.stdout, r"^audit chain intact: \d+ records\n$")
        report = json.loads(self.cli("audit", "verify", "--json", user="root").stdout)
        self.assertTrue(report["ok"])
        r = self.cli("audit", "verify", user="alice", expect=1)
        self.assertIn("(forbidden)", r.stderr)

        self.srv.sqlite("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
        r = self.cli("audit", "verify", user="root", expect=1)
        self.assertRegex(r.stdout, r"^audit chain BROKEN at record 2: .+\n$")


class Errors(CliTestCase):
    def test_usage_errors_exit_2(self):
        cases = [
            (["request", "move", "1"], "upflow request move"),
            (["request", "show", "abc"], "upflow request show"),
            (["request", "show"], "upflow request show"),
            (["request", "list", "--sla", "soon"], "upflow request list"),
            (["request", "list", "--limit", "0"], "upflow request list"),
            (["request", "list", "--bogus"], "upflow request list"),
            (["request", "create", "--type", "REQ"], "upflow request create"),
            (["request", "create", "--template", "cli-test", "--type", "REQ", "--field", "x"],
             "upflow request create"),
            (["request", "create", "--template", "cli-test", "--type", "REQ", "--link", "p=x"],
             "upflow request create"),
            (["request", "reject", "1", "T03"], "upflow request reject"),
            (["request", "approve", "1", "T03", "--on-behalf-of", "bob"], "upflow request approve"),
            (["request", "attach", "1", "file"], "upflow request attach"),
            (["request", "comment", "1"], "upflow request comment"),
            (["request", "frobnicate"], "upflow request"),
            (["request", "list", "--server", "ftp://example.com"], "upflow request list"),
            (["login", "--server", "http://127.0.0.1:1"], "upflow login"),
            (["login", "--server", "http://127.0.0.1:1", "--username", "alice"], "upflow login"),
            (["audit", "verify", "extra"], "upflow audit verify"),
        ]
        for args, command in cases:
            with self.subTest(args=args):
                # stdin is not a terminal here, so login without --password-file is a usage error
                self.assertUsage(self.cli(*args, stdin="", expect=None), command)

    def test_help(self):
        for args in (["request", "--help"], ["request", "move", "--help"], ["login", "--help"],
                     ["audit", "verify", "--help"], ["--help"]):
            with self.subTest(args=args):
                r = self.cli(*args)
                self.assertTrue(r.stdout.startswith("Usage: upflow"), r.stdout)

    def test_server_down_names_the_url(self):
        dead = f"http://127.0.0.1:{free_port()}"
        r = self.cli("request", "list", "--server", dead, "--token", "ufs_x", expect=1)
        self.assertRegex(r.stderr, rf"^upflow request list: cannot reach {dead}: ")
        r = self.cli("login", "--server", dead, "--username", "alice", "--password-file", "-",
                     stdin=PASSWORD + "\n", expect=1)
        self.assertIn(dead, r.stderr)
        # signed in, then the server goes away
        self.login("alice")
        url = self.srv.url
        self.srv.stop()
        r = self.cli("request", "show", "1", expect=1)
        self.assertIn(f"cannot reach {url}", r.stderr)
        r = self.cli("audit", "verify", expect=1)
        self.assertIn(url, r.stderr)


if __name__ == "__main__":
    unittest.main()
