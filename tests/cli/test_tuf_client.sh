#!/usr/bin/env bash
# upflow-tuf-client driven the way tuf-conformance drives a client (tuf.md §13): init,
# refresh, download, and a second download that fetches nothing, against the shipped vectors
# served by `python3 -m http.server` on 127.0.0.1; checks exit codes, the exact request
# sequence of tuf.md §15.4, the stored bytes, and refusals of a substituted target.
# Usage: test_tuf_client.sh UPFLOW_TUF_CLIENT VECTORS_DIR
set -uo pipefail
client=$1 vectors=$2
tmp=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
failures=0 passes=0

check() { # NAME CONDITION...
  local name=$1; shift
  if "$@"; then passes=$((passes + 1)); else echo "FAIL: $name"; failures=$((failures + 1)); fi
}
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }

mkdir -p "$tmp/repo"
cp -r "$vectors/metadata" "$vectors/targets" "$tmp/repo/"
python3 -u -m http.server --bind 127.0.0.1 --directory "$tmp/repo" 0 >"$tmp/server.out" \
  2>"$tmp/server.log" &
server_pid=$!
port=
for _ in $(seq 50); do
  port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$tmp/server.out" | head -n 1)
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then echo "FAIL: http.server did not start"; exit 1; fi
base="http://127.0.0.1:$port"
md="$tmp/metadata" td="$tmp/targets"

# the requests logged since the last call, as "PATH STATUS" lines (the count of those
# already seen lives in a file: callers run this in a command substitution)
echo 0 >"$tmp/seen"
requests() {
  local seen
  seen=$(cat "$tmp/seen")
  sed -n 's/.*"GET \([^ ]*\) HTTP[^"]*" \([0-9]*\).*/\1 \2/p' "$tmp/server.log" >"$tmp/all"
  tail -n +"$((seen + 1))" "$tmp/all"
  wc -l <"$tmp/all" >"$tmp/seen"
}

run "$client" --version
check "--version exits 0" [ "$rc" -eq 0 ]
run "$client" --help
check "--help exits 0" [ "$rc" -eq 0 ]
run "$client" refresh
check "missing --metadata-dir is a usage error" [ "$rc" -eq 2 ]

run "$client" --metadata-dir "$md" init "$vectors/metadata/1.root.json"
check "init exits 0" [ "$rc" -eq 0 ]
check "init stores root.json byte for byte" cmp -s "$md/root.json" "$vectors/metadata/1.root.json"
check "init makes no request" [ -z "$(requests)" ]

run "$client" --metadata-url "$base/metadata" --metadata-dir "$md" refresh
check "refresh exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$tmp/err"
expected="/metadata/2.root.json 404
/metadata/timestamp.json 200
/metadata/1.snapshot.json 200
/metadata/1.targets.json 200"
got=$(requests)
check "refresh request sequence (tuf.md §15.4)" [ "$got" = "$expected" ]
check "timestamp.json stored as received" cmp -s "$md/timestamp.json" "$vectors/metadata/timestamp.json"
check "snapshot.json stored as received" cmp -s "$md/snapshot.json" "$vectors/metadata/1.snapshot.json"
check "targets.json stored as received" cmp -s "$md/targets.json" "$vectors/metadata/1.targets.json"

download() {
  run "$client" --metadata-dir "$md" --metadata-url "$base/metadata" --target-name file1.txt \
    --target-dir "$td" --target-base-url "$base/targets" download
}
target=/targets/a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447.file1.txt
download
check "download exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$tmp/err"
expected="/metadata/2.root.json 404
/metadata/timestamp.json 200
$target 200"
got=$(requests)
check "download request sequence" [ "$got" = "$expected" ]
check "the target is stored" [ "$(cat "$td/file1.txt" 2>/dev/null)" = "hello world" ]

download
check "second download exits 0" [ "$rc" -eq 0 ]
got=$(requests)
check "second download fetches no target (artifact cache)" [ "$(printf '%s\n' "$got" | grep -c '^/targets/')" -eq 0 ]

# a substituted target on the server and a tampered local copy: refused, exit 1
printf 'hello WORLD\n' >"$tmp/repo$target"
printf 'tampered\n' >"$td/file1.txt"
download
check "substituted target exits 1" [ "$rc" -eq 1 ]
check "substituted target names the hash check" grep -q 'file1.txt: sha256 .* does not match' "$tmp/err"

# an unreachable repository
run "$client" --metadata-dir "$md" --metadata-url "http://127.0.0.1:1/metadata" refresh
check "unreachable repository exits 1" [ "$rc" -eq 1 ]

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
