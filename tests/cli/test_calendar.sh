#!/usr/bin/env bash
# `upflow calendar` as a person runs it, on the shipped mainland-China 2026 calendar: S1
# deadlines of the workflow.md 3.3 worked examples, the other targets, the warning for a date
# beyond the calendar's range, `check`, and exit codes (usage error 2, failure 1).
# Usage: test_calendar.sh UPFLOW CALENDARS_DIR
set -uo pipefail
upflow=$1 calendars=$2
cal=$calendars/cn-mainland-2026.json
. "$(dirname "$0")/testlib.sh"
# deadline FROM TARGET EXPECTED: exit 0, the expected line, nothing on stderr
deadline() {
  run "$upflow" calendar deadline --calendar "$cal" --from "$1" --target "$2"
  check "deadline $1 $2 exits 0" [ "$rc" -eq 0 ]
  check "deadline $1 $2 = $3 (got '$out')" [ "$out" = "$3" ]
  check "deadline $1 $2 warns nothing" [ -z "$err" ]
}

# workflow.md 3.3
deadline 2026-03-10T10:15 next-session 2026-03-10T13:30:00+08:00
deadline 2026-03-10T15:40 next-session 2026-03-11T08:30:00+08:00
deadline 2026-03-10T12:20 next-session 2026-03-11T08:30:00+08:00
deadline 2026-03-10T07:50 next-session 2026-03-10T13:30:00+08:00
deadline 2026-02-13T16:00 next-session 2026-02-14T08:30:00+08:00
deadline 2026-02-14T16:00 next-session 2026-02-24T08:30:00+08:00
deadline 2026-04-30T17:45 next-session 2026-05-06T13:30:00+08:00
deadline 2026-05-08T11:59 next-session 2026-05-08T13:30:00+08:00
# the other targets, and --from with an offset
deadline 2026-03-10T10:15 sessions:1 2026-03-10T13:30:00+08:00
deadline 2026-03-10T10:15 sessions:2 2026-03-11T08:30:00+08:00
deadline 2026-03-10T10:00 working-minutes:120 2026-03-10T12:00:00+08:00
deadline 2026-03-10T10:00 working-minutes:121 2026-03-10T13:31:00+08:00
deadline 2026-02-13T10:00 working-days:2 2026-02-24T10:00:00+08:00
deadline 2026-03-10T02:15Z next-session 2026-03-10T13:30:00+08:00
deadline 2026-03-10T10:15+08:00 next-session 2026-03-10T13:30:00+08:00
deadline 2026-03-10T10:15 date:2026-03-12 2026-03-12T17:30:00+08:00
deadline 2026-03-10T10:15 date:2026-10-03 2026-09-30T17:30:00+08:00
run "$upflow" calendar deadline --calendar "$cal" --target date:2026-03-10T17:00+08:00
check "date target without --from exits 0" [ "$rc" -eq 0 ]
check "date target with a time is that instant" [ "$out" = 2026-03-10T17:00:00+08:00 ]

# beyond the calendar's data: an answer and a warning
run "$upflow" calendar deadline --calendar "$cal" --from 2026-12-31T19:00 --target next-session
check "year boundary exits 0" [ "$rc" -eq 0 ]
check "year boundary answer" [ "$out" = 2027-01-01T13:30:00+08:00 ]
check "year boundary warns" [ "$err" = "upflow calendar deadline: warning: 2027-01-01 is outside the calendar's effective range 2026-01-01..2026-12-31" ]

# usage errors exit 2, failures 1
for args in "--from 2026-03-10T10:15 --target next-session" \
            "--calendar $cal --target next-session" \
            "--calendar $cal --from 2026-03-10T10:15" \
            "--calendar $cal --from 2026-03-10T10:15 --target next-week" \
            "--calendar $cal --from 2026-03-10T10:15 --target sessions:x" \
            "--calendar $cal --from 2026-03-10 --target next-session" \
            "--calendar $cal --from 2026-03-10T10:15 --target next-session extra" \
            "--no-such-option"; do
  run "$upflow" calendar deadline $args
  check "usage error exits 2: $args" [ "$rc" -eq 2 ]
  check "usage error ends with the hint: $args" [ "$(tail -n 1 "$tmp/err")" = "Try 'upflow calendar deadline --help' for more information." ]
  check "usage error prints nothing to stdout: $args" [ -z "$out" ]
done
run "$upflow" calendar deadline --calendar "$tmp/missing.json" --from 2026-03-10T10:15 --target next-session
check "missing calendar exits 1" [ "$rc" -eq 1 ]
run "$upflow" calendar no-such-subcommand
check "unknown calendar subcommand exits 2" [ "$rc" -eq 2 ]
run "$upflow" calendar deadline --help
check "deadline --help exits 0" [ "$rc" -eq 0 ]
check "deadline --help lists the targets" grep -q 'working-days:N' "$tmp/out"

# check: a summary for a good file, the JSON path for a bad one
run "$upflow" calendar check "$cal"
check "check exits 0" [ "$rc" -eq 0 ]
check "check prints the id" grep -qx 'id: cn-mainland-2026' "$tmp/out"
check "check prints the zone" grep -qx 'timezone: Asia/Shanghai' "$tmp/out"
check "check prints the range" grep -qx 'effective: 2026-01-01..2026-12-31' "$tmp/out"
check "check counts the overrides" grep -qx 'overrides: 7 holidays, 6 make-up workdays, 0 custom days' "$tmp/out"
check "check counts the working days" grep -q '^working days in range: 248 ' "$tmp/out"
sed 's/\["13:30", "17:30"\]/["13:30", "12:00"]/' "$cal" >"$tmp/bad.json"
run "$upflow" calendar check "$tmp/bad.json"
check "check of a bad calendar exits 1" [ "$rc" -eq 1 ]
check "check names file and path" grep -q "bad.json: week.mon\[1\]: session end 12:00 is not after start 13:30" "$tmp/err"
run "$upflow" calendar check
check "check without FILE exits 2" [ "$rc" -eq 2 ]

finish
