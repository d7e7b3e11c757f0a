#!/usr/bin/env bash
# Whole commands side by side: `shipgate gate` against `opa eval` on the same
# policies and the same input, N runs each, with wall time and peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20}
ev=examples/localizevideos/evidence/allowed
now=2026-11-26T10:05:00Z
# The example evidence is signed with the EXAMPLE keys its data overlay trusts.
files=(--evidence $ev/plan.json --evidence $ev/incidents.json --evidence $ev/build.json --evidence $ev/deploy-requested.json --evidence $ev/approval.json
	--trusted-key examples/localizevideos/keys --data +examples/localizevideos/example-data.yaml)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A binary just written sits in the page cache as the writer left it, and
# this shapes how much of it a run maps: drop both from the cache, so that
# both are read back alike (the first run below reads shipgate).
dd if=bin/shipgate iflag=nocache count=0 status=none
dd if=bin/opa iflag=nocache count=0 status=none
bin/shipgate gate deploy --release lv-2026-11-26.1 "${files[@]}" --now $now --store "$tmp/input.db" --print-input > "$tmp/input.json"

measure() { # name, command...
	local name=$1; shift
	local start end rss=0 r
	start=$(date +%s%N)
	for _ in $(seq "$N"); do
		/usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null 2>&1 || true
		r=$(tail -1 "$tmp/rss")
		[ "$r" -gt "$rss" ] && rss=$r
	done
	end=$(date +%s%N)
	printf '%-16s %8.2f ms/run   peak RSS %6.1f MiB\n' "$name" "$(echo "($end - $start) / $N / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}

echo "deploy gate, allowed LocalizeVideos release, $N runs each"
# shipgate also validates the evidence, binds it, and records the decision
# (with fsync) in its ledger before answering; opa eval does none of that.
measure "shipgate gate" bin/shipgate gate deploy --release lv-2026-11-26.1 "${files[@]}" --now $now --store "$tmp/ledger.db" --output json
measure "opa eval" bin/opa eval --fail-defined=false -d policies/ -i "$tmp/input.json" --format json data.shipgate.gates.deploy.decision
