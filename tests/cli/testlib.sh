# testlib.sh - what the shell tests of the programs share (source it after set -uo pipefail):
# a temporary directory removed on exit, check NAME CONDITION... counting passes and
# failures, run PROG ARGS... capturing $rc, $out and $err, and finish, which prints the
# "N passed, N failed" line and sets the exit status.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 passes=0

check() { # NAME CONDITION...
  local name=$1; shift
  if "$@"; then passes=$((passes + 1)); else echo "FAIL: $name"; failures=$((failures + 1)); fi
}
# run PROG ARGS... -> sets $rc, $out, $err
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); }

finish() {
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}
