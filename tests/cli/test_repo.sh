#!/usr/bin/env bash
# `upflow repo` and `upflow release` offline, as a release team runs them: init with the
# online keys from a file, releases of images and plain files (entries checked against
# sha256sum and stat), refusals, delegation to a product team, root rotation with a revoked
# key and a staged root completed by `repo sign`, targets and delegated key rotation,
# sign --replace; `repo verify` checks every signature and a tampered file fails it.
# Usage: test_repo.sh UPFLOW
set -uo pipefail
upflow=$(realpath "$1")
. "$(dirname "$0")/testlib.sh"
ws=$tmp/ws
cd "$tmp" || exit 1

# JSON checks: py FILE 'python statements using d (the parsed FILE)'
py() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); $2" "$1"; }
signed() { echo "$ws/metadata/$1"; }

# The server's online keys, made here instead.
"$upflow" key generate --out snap.key >snap.json
"$upflow" key generate --out ts.key >ts.json
python3 -c '
import json
s, t = json.load(open("snap.json")), json.load(open("ts.json"))
json.dump({"snapshot": [s["key"]], "timestamp": [t["key"]]}, open("online.json", "w"))'
snap_id=$(py snap.json 'print(d["keyid"])')

run "$upflow" repo init --help
check "repo init --help exits 0" [ "$rc" -eq 0 ]
run "$upflow" repo init --dir "$ws" --online-keys online.json --root-threshold 4
check "threshold above the key count is a usage error" [ "$rc" -eq 2 ]

# ---- init: 2 of 3 root keys, one targets key ----
run "$upflow" repo init --dir "$ws" --tenant acme --online-keys online.json
check "repo init exits 0 ($err)" [ "$rc" -eq 0 ]
check "three root keys and a targets key, mode 0600" \
  [ "$(stat -c %a "$ws"/keys/root-1.key "$ws"/keys/root-2.key "$ws"/keys/root-3.key \
       "$ws"/keys/targets.key | sort -u)" = 600 ]
check "1.root.json and root.json are the same" cmp -s "$(signed 1.root.json)" "$(signed root.json)"
root_ids=$(for i in 1 2 3; do "$upflow" key show "$ws/keys/root-$i.key" | py /dev/stdin 'print(d["keyid"])'; done)
targets_id=$("$upflow" key show "$ws/keys/targets.key" | py /dev/stdin 'print(d["keyid"])')
check "root lists the root keys, threshold 2, signed by all three" py "$(signed root.json)" "
s = d['signed']; r = s['roles']
assert sorted(r['root']['keyids']) == sorted('''$root_ids'''.split()), r
assert r['root']['threshold'] == 2 and s['version'] == 1 and s['consistent_snapshot'] is True
assert r['targets'] == {'keyids': ['$targets_id'], 'threshold': 1}
assert r['snapshot']['keyids'] == ['$snap_id']
assert sorted(x['keyid'] for x in d['signatures']) == sorted('''$root_ids'''.split())"
check "targets.json v1 is empty" py "$(signed targets.json)" "
assert d['signed']['version'] == 1 and d['signed']['targets'] == {}"
check "config names the tenant" py "$ws/upflow-repo.json" "assert d['tenant'] == 'acme'"
run "$upflow" repo verify --dir "$ws"
check "repo verify of a new workspace exits 0 ($out)" [ "$rc" -eq 0 ]
run "$upflow" repo init --dir "$ws" --online-keys online.json
check "init refuses an existing workspace" [ "$rc" -eq 1 ]
check "  and says so" grep -q "already a repository workspace" "$tmp/err"

# ---- release add ----
head -c 400000 /dev/urandom >fw.img
"$upflow" image create --level 1 fw.img >/dev/null
run "$upflow" release add --dir "$ws" fw.img.upfidx --product product-x --version 2.3.0 \
  --hardware rev1,rev2 --from-version 2.2.0 --from-version 2.1.0,2.0.0 --install-type raw \
  --notes "fixes the boot loop"
check "release add exits 0 ($err)" [ "$rc" -eq 0 ]
idx_sha=$(sha256sum fw.img.upfidx | cut -d' ' -f1) pay_sha=$(sha256sum fw.img.upfpay | cut -d' ' -f1)
img_sha=$(sha256sum fw.img | cut -d' ' -f1)
check "targets has both entries with length, sha256 and custom" py "$(signed targets.json)" "
s = d['signed']; t = s['targets']; assert s['version'] == 2
i, p = t['product-x/2.3.0/fw.img.upfidx'], t['product-x/2.3.0/fw.img.upfpay']
assert i['length'] == $(stat -c %s fw.img.upfidx) and i['hashes'] == {'sha256': '$idx_sha'}
assert p['length'] == $(stat -c %s fw.img.upfpay) and p['hashes'] == {'sha256': '$pay_sha'}
u, v = i['custom']['upflow'], p['custom']['upflow']
assert u['kind'] == 'index' and u['payload'] == 'product-x/2.3.0/fw.img.upfpay'
assert v['kind'] == 'payload' and v['index'] == 'product-x/2.3.0/fw.img.upfidx'
for x in (u, v):
    assert x['product'] == 'product-x' and x['version'] == '2.3.0'
    assert x['hardware'] == ['rev1', 'rev2'] and x['from_versions'] == ['2.2.0', '2.1.0', '2.0.0']
    assert x['install_type'] == 'raw' and x['notes'] == 'fixes the boot loop'
    assert x['image_size'] == 400000 and x['image_sha256'] == '$img_sha'"
check "the files are staged for push" cmp -s fw.img.upfpay "$ws/targets/product-x/2.3.0/fw.img.upfpay"
run "$upflow" release add --dir "$ws" fw.img.upfidx --product product-x --version 2.3.0 --name other
check "a released version is refused" [ "$rc" -eq 1 ]
check "  as already released" grep -q "product-x version 2.3.0 is already released" "$tmp/err"
run "$upflow" release add --dir "$ws" missing.upfidx --product product-x --version 2.4.0
check "a missing index is refused" [ "$rc" -eq 1 ]
head -c 1000 /dev/urandom >garbage.upfidx
cp fw.img.upfpay garbage.upfpay
run "$upflow" release add --dir "$ws" garbage.upfidx --product product-x --version 2.4.0
check "a garbage index is refused" [ "$rc" -eq 1 ]
check "  as not an image index" grep -q "not an upflow image index" "$tmp/err"
cp fw.img.upfidx short.upfidx && head -c 1000 fw.img.upfpay >short.upfpay
run "$upflow" release add --dir "$ws" short.upfidx --product product-x --version 2.4.0
check "a payload that does not match its index is refused" [ "$rc" -eq 1 ]
run "$upflow" release add --dir "$ws" fw.img.upfidx --product product-x --version 2.4.0 --hardware ''
check "an empty --hardware is a usage error" [ "$rc" -eq 2 ]
run "$upflow" release add --dir "$ws" fw.img.upfidx --product product-x --version 2.4.0 --hardware 'a,,b'
check "an empty hardware item is a usage error" [ "$rc" -eq 2 ]
run "$upflow" release add --dir "$ws" fw.img.upfidx --product ../x --version 2.4.0
check "a product that is not a path segment is a usage error" [ "$rc" -eq 2 ]
check "refusals left targets at version 2" py "$(signed targets.json)" "assert d['signed']['version'] == 2"
echo "swupdate" >update.swu
run "$upflow" release add-file --dir "$ws" update.swu --product product-x --version 2.5.0
check "release add-file exits 0 ($err)" [ "$rc" -eq 0 ]
check "an artifact target" py "$(signed targets.json)" "
e = d['signed']['targets']['product-x/2.5.0/update.swu']
assert e['custom']['upflow']['kind'] == 'artifact' and e['length'] == $(stat -c %s update.swu)
assert e['hashes']['sha256'] == '$(sha256sum update.swu | cut -d' ' -f1)'"
# a .swu for hawkBit clients may stand beside a version's image, once
run "$upflow" release add-file --dir "$ws" update.swu --product product-x --version 2.3.0
check "an artifact beside the image of 2.3.0 ($err)" [ "$rc" -eq 0 ]
run "$upflow" release add-file --dir "$ws" update.swu --product product-x --version 2.3.0
check "the same artifact twice is refused" [ "$rc" -eq 1 ]
run "$upflow" release list --dir "$ws" --json
check "release list --json lists four targets" py "$tmp/out" "assert len(d) == 4, d"

# ---- delegation to a product team ----
run "$upflow" repo delegate --dir "$ws" --name product-y --paths 'product-y/*/*'
check "repo delegate exits 0 ($err)" [ "$rc" -eq 0 ]
check "a new team key" [ -f "$ws/keys/product-y.key" ]
team_id=$("$upflow" key show "$ws/keys/product-y.key" | py /dev/stdin 'print(d["keyid"])')
check "targets delegates product-y/*/* to the team key" py "$(signed targets.json)" "
r = d['signed']['delegations']['roles'][0]
assert r['name'] == 'product-y' and r['paths'] == ['product-y/*/*'] and r['keyids'] == ['$team_id']
assert '$team_id' in d['signed']['delegations']['keys']"
check "product-y.json v1 is empty" py "$(signed product-y.json)" "
assert d['signed']['version'] == 1 and d['signed']['targets'] == {}"
run "$upflow" release add --dir "$ws" fw.img.upfidx --product product-y --version 1.0 --role product-y
check "release add --role exits 0 ($err)" [ "$rc" -eq 0 ]
check "the release went to product-y.json v2" py "$(signed product-y.json)" "
assert d['signed']['version'] == 2 and 'product-y/1.0/fw.img.upfidx' in d['signed']['targets']"
run "$upflow" release add --dir "$ws" fw.img.upfidx --product product-x --version 9 --role product-y
check "a path outside the delegation is refused" [ "$rc" -eq 1 ]
run "$upflow" repo verify --dir "$ws"
check "repo verify after releases and delegation exits 0 ($out)" [ "$rc" -eq 0 ]

# ---- tampering ----
cp "$(signed targets.json)" targets.bak
python3 - "$(signed targets.json)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["signed"]["targets"]["product-x/2.5.0/update.swu"]["length"] += 1
json.dump(d, open(sys.argv[1], "w"))
PY
run "$upflow" repo verify --dir "$ws"
check "a tampered targets.json fails repo verify" [ "$rc" -eq 1 ]
check "  naming the threshold" grep -q "FAILED  targets.json: signature threshold" "$tmp/out"
cp targets.bak "$(signed targets.json)"
echo x >>"$ws/targets/product-x/2.5.0/update.swu"
run "$upflow" repo verify --dir "$ws"
check "a changed staged file fails repo verify" [ "$rc" -eq 1 ]
echo swupdate >"$ws/targets/product-x/2.5.0/update.swu"

# ---- rotate-root: revoke root-1, add a key ----
revoked=$(echo "$root_ids" | head -n 1)
run "$upflow" repo rotate-root --dir "$ws" --revoke "${revoked:0:12}" --add-keys 1
check "rotate-root exits 0 ($err)" [ "$rc" -eq 0 ]
check "root-1.key is renamed, not deleted" [ -f "$ws/keys/root-1.key.revoked-${revoked:0:16}" ]
check "root-1.key is gone" [ ! -e "$ws/keys/root-1.key" ]
check "root-4.key is new" [ -f "$ws/keys/root-4.key" ]
check "2.root.json drops the revoked key" py "$(signed 2.root.json)" "
s = d['signed']; assert s['version'] == 2 and '$revoked' not in s['roles']['root']['keyids']
assert '$revoked' not in s['keys'] and len(s['roles']['root']['keyids']) == 3"
check "root.json is root version 2" cmp -s "$(signed 2.root.json)" "$(signed root.json)"

# ---- rotate-root with keys missing: staged, then completed by repo sign ----
mkdir -m 700 usb && mv "$ws/keys/root-3.key" "$ws/keys/root-4.key" usb/
run "$upflow" repo rotate-root --dir "$ws" --threshold 3
check "rotate-root short of keys exits 0 ($err)" [ "$rc" -eq 0 ]
check "  stages 3.root.json" [ -f "$ws/metadata/staged/3.root.json" ] && [ ! -e "$(signed 3.root.json)" ]
check "  and names the missing keys" grep -q "no signature by" "$tmp/out"
run "$upflow" repo verify --dir "$ws"
check "repo verify with a staged root exits 0" [ "$rc" -eq 0 ]
check "  and says it waits" grep -q "^staged  root version 3" "$tmp/out"
run "$upflow" repo sign --dir "$ws" "$ws/metadata/staged/3.root.json" --key usb/root-3.key
check "repo sign exits 0 ($err)" [ "$rc" -eq 0 ]
check "  one more signature is not enough" grep -q "still staged" "$tmp/out"
run "$upflow" repo sign --dir "$ws" "$ws/metadata/staged/3.root.json" --key usb/root-4.key
check "the last signature completes root 3" grep -q "root version 3 is complete" "$tmp/out"
check "3.root.json joined the chain" cmp -s "$(signed 3.root.json)" "$(signed root.json)"
check "  with threshold 3" py "$(signed 3.root.json)" "assert d['signed']['roles']['root']['threshold'] == 3"
run "$upflow" repo verify --dir "$ws"
check "repo verify after the ceremony exits 0 ($out)" [ "$rc" -eq 0 ]

# ---- rotate-key targets (root keys from elsewhere with --key) ----
run "$upflow" repo rotate-key --dir "$ws" --role targets --key usb/root-3.key --key usb/root-4.key
check "rotate-key targets exits 0 ($err)" [ "$rc" -eq 0 ]
check "the old targets key is renamed" [ -f "$ws/keys/targets.key.revoked-${targets_id:0:16}" ]
new_targets=$("$upflow" key show "$ws/keys/targets.key" | py /dev/stdin 'print(d["keyid"])')
check "root 4 lists only the new targets key" py "$(signed 4.root.json)" "
assert d['signed']['roles']['targets']['keyids'] == ['$new_targets']
assert '$targets_id' not in d['signed']['keys']"
check "targets.json is signed by the new key only" py "$(signed targets.json)" "
assert [s['keyid'] for s in d['signatures']] == ['$new_targets']"

# ---- rotate-key of a delegated role ----
run "$upflow" repo rotate-key --dir "$ws" --role product-y
check "rotate-key product-y exits 0 ($err)" [ "$rc" -eq 0 ]
check "the old team key is renamed" [ -f "$ws/keys/product-y.key.revoked-${team_id:0:16}" ]
check "the delegation names the new team key" py "$(signed targets.json)" "
assert d['signed']['delegations']['roles'][0]['keyids'] != ['$team_id']
assert '$team_id' not in d['signed']['delegations']['keys']"
run "$upflow" repo verify --dir "$ws"
check "repo verify after key rotations exits 0 ($out)" [ "$rc" -eq 0 ]

# ---- sign --replace, resign, status ----
cp "$(signed targets.json)" targets.bak
run "$upflow" repo sign "$(signed targets.json)" --key usb/root-3.key
check "sign adds a second signature" py "$(signed targets.json)" "assert len(d['signatures']) == 2"
run "$upflow" repo sign "$(signed targets.json)" --key usb/root-3.key --replace
check "sign --replace leaves one signature" py "$(signed targets.json)" "
assert len(d['signatures']) == 1 and d['signatures'][0]['keyid'] != '$new_targets'"
run "$upflow" repo verify --dir "$ws"
check "a targets.json signed by the wrong key fails repo verify" [ "$rc" -eq 1 ]
cp targets.bak "$(signed targets.json)"
run "$upflow" repo resign --dir "$ws" --role targets
check "repo resign exits 0 ($err)" [ "$rc" -eq 0 ]
run "$upflow" repo status --dir "$ws" --local --json
check "repo status --local --json shows the local versions" py "$tmp/out" "
l = d['local']; assert l['root']['version'] == 4 and l['product-y']['version'] == 3
assert d['server'] is None and d['warnings'] == []"
run "$upflow" repo verify --dir "$ws"
check "repo verify at the end exits 0 ($out)" [ "$rc" -eq 0 ]
run "$upflow" repo push --dir "$tmp/nowhere"
check "a directory that is no workspace fails" [ "$rc" -eq 1 ]
run "$upflow" repo rotate-key --dir "$ws"
check "rotate-key without --role is a usage error" [ "$rc" -eq 2 ]

finish
