#!/usr/bin/env bash
# The end-to-end demo on the embedded defaults. Installs its Debian packages, builds a
# Release tree, then runs the longest real path that exists today and says what it shows:
#
#   upflowd on SQLite in a temporary directory, one user per role of the software-modification
#   process, and a change request walked with the `upflow` CLI from the customer's problem to
#   "release pending" (the hand-off to the OTA half): director sign-off with separation of
#   duties, intake recorded within the S1 working-calendar deadline, the committed date
#   approved by the product lead, a test refused to the developer, the audit chain verified.
#
# Then the OTA half: a TUF repository with offline root (2 of 3) and targets keys, release
# 2.3.2 built as a chunked image, signed and pushed; 50 simulated devices (the real agent code)
# registering with a gateway token; a three-phase rollout gated on the approved request, in
# which one hardware revision fails its health check: the healthy devices update, the failing
# ones roll back by themselves, the rollout pauses at its error threshold, and the request goes
# back to rework with a feedback record. The server keeps running afterwards (its URL is
# printed) unless UPFLOW_DEMO_EXIT=1 or --exit is given.
set -euo pipefail
cd "$(dirname "$0")/.."
exit_after=${UPFLOW_DEMO_EXIT:-0}
[ "${1:-}" = "--exit" ] && exit_after=1

scripts/setup-debian.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" >/dev/null
bin=$PWD/build/release/src
work=$(mktemp -d /tmp/upflow-demo.XXXXXX)
data=$work/data
password="demo-password-1"
server_pid=
cleanup() {
  if [ "$exit_after" = 1 ] && [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  [ "$exit_after" = 1 ] && rm -rf "$work"
  return 0
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
as() { # as USER upflow ARGS...: run the CLI with USER's saved login
  local user=$1; shift
  XDG_CONFIG_HOME=$work/cfg-$user "$bin/upflow" "$@"
}

say "Users, one per role (upflowd admin create-user)"
for spec in "admin admin" "cs.wang cs" "dir.zhao cs_director" "pl.li product_lead@product:PLC-300" \
            "tester.chen tester" "ana.sun analyst" "dev.zhou developer,tester" "rel.qian release_mgr"; do
  set -- $spec
  roles=()
  IFS=, read -ra rs <<<"$2"
  for r in "${rs[@]}"; do roles+=(--role "$r"); done
  echo "$password" | "$bin/upflowd" -d "$data" admin create-user --username "$1" "${roles[@]}" \
    --password-file - >/dev/null
  printf '  %-12s %s\n' "$1" "$2"
done

say "upflowd on SQLite in $data"
"$bin/upflowd" -d "$data" -l 127.0.0.1:0 --port-file "$work/port" 2>"$work/upflowd.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")"
echo "  listening on $url (log: $work/upflowd.log)"
for u in cs.wang dir.zhao pl.li tester.chen ana.sun dev.zhou rel.qian admin; do
  echo "$password" | as "$u" login --server "$url" --username "$u" --password-file - >/dev/null
done

say "Customer service records the customer's problem (T01) and submits the written form (T03)"
id=$(as cs.wang request create --template software-modification --type REQ --json \
      --field customer=acme --field product=PLC-300 --field "contact=Wang, line 3" \
      --field "description=Recipe upload times out on line 3" \
      --field customer_raised_at=2026-11-24T16:20:00+08:00 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "  request #$id created"
echo "signed request form" >"$work/form.pdf"
as cs.wang request attach "$id" "$work/form.pdf" --kind request_form
echo "  without the module and problem points the submit is refused, guard by guard:"
as cs.wang request move "$id" T03 2>&1 | sed 's/^/    /' || true
as cs.wang request move "$id" T03 --field module=recipe-sync --field version_found=2.3.1 \
  --field "expected_result=upload within 10 s" --field urgency=high \
  --field 'problem_points=[{"text":"timeout after 30 s"},{"text":"no error shown"}]' >/dev/null
echo "  submitted: now DIRECTOR_REVIEW"

say "The CS director signs off (T04); the creator could not have (separation of duties)"
as dir.zhao request approve "$id" T04 | sed 's/^/  /'

say "The product group records it (T06, T07): the S1 intake clock (0.5 working day) stops"
as pl.li request move "$id" T06 --field recorder=tester.chen >/dev/null
as tester.chen request move "$id" T07 --field form_no=F-2026-0001 --field classification=defect \
  --field priority=p2 >/dev/null
curl -s -H "Authorization: Bearer $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$work/cfg-pl.li/upflow/credentials.json")" \
  "$url/api/v1/records/$id/sla" | python3 -c '
import json, sys
for c in json.load(sys.stdin)["items"]:
    print("  %s %s: %s, deadline %s" % (c["sla"], c["name"], c["stage"], c["deadline"]))'

say "Analysis (T08) and a committed date the product lead approves (T11)"
as pl.li request move "$id" T08 --field analyst=ana.sun >/dev/null
as ana.sun request edit "$id" --field "analysis_conclusion=timeout too short" \
  --field "change_scope=recipe-sync client" --field developer=dev.zhou \
  --field committed_date=2026-12-18 --field estimate_hours=16 >/dev/null
echo "  the analyst's proposal waits for the product lead:"
as ana.sun request move "$id" T11 2>&1 | sed 's/^/    /' || true
as pl.li request approve "$id" T11 | sed 's/^/  /'

say "Development (T13); the developer, though also a tester, may not pass the test (T15)"
as dev.zhou request move "$id" T13 --field build_id=2.3.2-rc1 --field "change_notes=timeout 120 s" \
  --field linked_commits=abc123 >/dev/null
as dev.zhou request move "$id" T15 2>&1 | sed 's/^/  /' || true

say "The tester verifies every problem point and passes it (T15): release pending"
echo "all green" >"$work/report.txt"
as tester.chen request attach "$id" "$work/report.txt" --kind test_report >/dev/null
as tester.chen request move "$id" T15 \
  --field 'problem_points=[{"text":"timeout after 30 s","done":true},{"text":"no error shown","done":true}]' >/dev/null
as pl.li request show "$id" | sed 's/^/  /'

say "Release owners make the TUF repository: root 2 of 3 and targets offline, snapshot and timestamp online"
as rel.qian repo init --dir "$work/repo" --root-keys 3 --root-threshold 2 | sed 's/^/  /'

say "Release 2.3.2: a chunked, compressed image, signed offline with its metadata, pushed"
python3 -c '
import hashlib, sys
out = bytearray()
block = b"PLC-300 rootfs 2.3.2"
while len(out) < 384 * 1024:
    block = hashlib.sha256(block).digest()
    out += block * 4 + b"\0" * 96
sys.stdout.buffer.write(bytes(out[:384 * 1024]))' >"$work/plc-300-2.3.2.img"
as rel.qian image create --min 4K --avg 16K --max 64K "$work/plc-300-2.3.2.img" | sed 's/^/  /'
as rel.qian release add --dir "$work/repo" "$work/plc-300-2.3.2.img.upfidx" --product PLC-300 \
  --version 2.3.2 --name rootfs --hardware rev1,rev2,rev3 \
  --notes "recipe upload timeout raised to 120 s (request #$id)" | sed 's/^/  /'
as rel.qian repo push --dir "$work/repo" | sed 's/^/  /'

say "50 simulated devices (the real agent, sim bootloader, file slots) register with a gateway token"
as admin device gateway-token >"$work/gateway-token"
"$bin/upflow" sim fleet --server "$url" --gateway-token-file "$work/gateway-token" --devices 50 \
  --repo "$url/tuf/default" --root "$work/repo/metadata/1.root.json" --dir "$work/fleet" \
  --hardware-mix rev1:40,rev2:40,rev3:20 --fail-hardware rev3 --until-idle 8 --json \
  >"$work/fleet.json" 2>"$work/fleet.log" &
fleet_pid=$!
for _ in $(seq 120); do
  n=$(as rel.qian device list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
  [ "$n" -ge 50 ] && break
  sleep 0.5
done
echo "  $n devices registered (rev1 40 %, rev2 40 %, rev3 20 %: rev3's pump controller self-test fails)"

say "The rollout: pilot 10 %, then 50 %, then all; paused at 10 % errors; gated on request #$id"
other=$(as cs.wang request create --template software-modification --type REQ --json \
  --field customer=acme --field product=PLC-300 --field "contact=Li" --field "description=not approved yet" \
  --field customer_raised_at=2026-11-25T09:00:00+08:00 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "  a change that is not approved (request #$other, just created) opens no rollout:"
as rel.qian rollout create --release PLC-300/2.3.2/rootfs.upfidx --name "not approved" \
  --change "$other" 2>&1 | sed 's/^/    /' || true
rollout=$(as rel.qian rollout create --release PLC-300/2.3.2/rootfs.upfidx --name "PLC-300 2.3.2" \
  --change "$id" --phase pilot:10 --phase early:50 --phase all:100 --success-threshold 80 \
  --error-threshold 10 --start auto --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "  rollout #$rollout started: it delivered request #$id (T16 by the system, decision A6)"
echo "  devices update; waiting until the fleet has nothing left to do..."
wait "$fleet_pid" || true
python3 - "$work/fleet.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
st = s["states"]
print(f"  updated: {st['updated']}, rolled back by themselves: {st['rolled_back']}, "
      f"not reached: {st['untouched']}")
for hw, counts in sorted(s.get("by_hardware", {}).items()):
    print(f"    {hw}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v))
PY
as rel.qian rollout show "$rollout" | sed 's/^/  /'
echo "  request #$id is now $(as pl.li request show "$id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])') (已返工, rework), with a feedback record naming the failures:"
fb=$(sqlite3 "$data/upflow.db" "SELECT id FROM records WHERE record_type = 'FB' ORDER BY id DESC LIMIT 1")
as pl.li request show "$fb" --json | python3 -c '
import json, sys
for line in json.load(sys.stdin)["fields"]["description"].splitlines()[:4]:
    print("    " + line)'

say "The audit log: every step hash-chained"
as admin audit verify | sed 's/^/  /'

if [ "$exit_after" = 1 ]; then
  echo; echo "Stopping the server (--exit)."
else
  echo; echo "upflowd keeps running at $url (pid $server_pid; data in $data)."
  echo "Sign in as any user above with password '$password'. Stop it with: kill $server_pid"
fi
