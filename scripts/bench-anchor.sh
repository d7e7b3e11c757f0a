#!/usr/bin/env bash
# The whole command and the server, side by side with an anchor commit in
# one run, alternating, so that both see the same machine:
#
#   - `shipgate gate deploy` on the allowed LocalizeVideos release, ROUNDS
#     runs of each tree's own binary (default 20): median wall time, CPU
#     time and peak RSS;
#   - BenchmarkGateAPI (32 clients, N recorded decisions, default 2000),
#     SERVE_ROUNDS runs of each tree's own benchmark (default 3): on SQLite,
#     and on PostgreSQL when SHIPGATE_TEST_POSTGRES is set.
#
#   scripts/bench-anchor.sh [ANCHOR]
#
# ANCHOR (default e1e477c, main before the no-false-allow rules of #14) is
# checked out in a temporary worktree and built as it shipped (with its
# default.pgo when it has one). Each tree runs the gate on its own example
# evidence; a tree whose example has signing keys and a data overlay
# (examples/localizevideos/keys, example-data.yaml) is given them, as
# scripts/bench-commands.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
anchor=${1:-e1e477c}
rounds=${ROUNDS:-20}
serve_rounds=${SERVE_ROUNDS:-3}
n=${N:-2000}
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/anchor" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add --detach -q "$tmp/anchor" "$anchor"
declare -A dir=([anchor]="$tmp/anchor" [now]="$PWD") label=([anchor]="$anchor" [now]="$(git rev-parse --short HEAD)")

# build TREE NAME: TREE's shipgate binary and its server benchmark, as TREE's build makes them.
build() {
	local pgo=off
	[ -f "$1/default.pgo" ] && pgo="$1/default.pgo"
	(cd "$1" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -pgo="$pgo" -o "$tmp/$2.shipgate" . &&
		CGO_ENABLED=0 GOFLAGS=-buildvcs=false go test -pgo="$pgo" -c -o "$tmp/$2.server.test" ./server/)
}

# gate TREE NAME [WRAPPER...]: one deploy gate of TREE's allowed example
# release on a new ledger, run under WRAPPER when given.
gate() {
	local dir=$1 name=$2 ev=examples/localizevideos/evidence/allowed extra=()
	shift 2
	if [ -d "$dir/examples/localizevideos/keys" ] && [ -f "$dir/examples/localizevideos/example-data.yaml" ]; then
		extra=(--trusted-key examples/localizevideos/keys --data +examples/localizevideos/example-data.yaml)
	fi
	rm -f "$tmp/$name.db" "$tmp/$name.db-wal" "$tmp/$name.db-shm"
	(cd "$dir" && "$@" "$tmp/$name.shipgate" gate deploy --release lv-2026-11-26.1 \
		--evidence $ev/plan.json --evidence $ev/incidents.json --evidence $ev/build.json \
		--evidence $ev/deploy-requested.json --evidence $ev/approval.json "${extra[@]}" \
		--now 2026-11-26T10:05:00Z --store "$tmp/$name.db" --output json)
}

# median: the middle of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for t in anchor now; do
	build "${dir[$t]}" $t
done
# A binary just written sits in the page cache as the writer left it, and
# this shapes how much of it a run maps: drop both from the cache, so that
# both are read back (by the check below) alike.
for t in anchor now; do
	dd if="$tmp/$t.shipgate" iflag=nocache count=0 status=none
done
for t in anchor now; do
	gate "${dir[$t]}" $t >/dev/null || { echo "bench-anchor: the $t tree's gate does not allow its example release" >&2; exit 1; }
done

echo "shipgate gate deploy, allowed LocalizeVideos release, $rounds alternating runs each (medians)"
for _ in $(seq "$rounds"); do
	for t in anchor now; do
		start=$(date +%s%N)
		gate "${dir[$t]}" $t /usr/bin/time -f '%U %S %M' -o "$tmp/time" >/dev/null 2>&1
		end=$(date +%s%N)
		read -r user sys rss < <(tail -1 "$tmp/time")
		echo "$(( (end - start) / 1000 )) $(echo "($user + $sys) * 1000" | bc) $rss" >> "$tmp/$t.gate"
	done
done
printf '%-10s %10s %10s %12s\n' tree "wall ms" "CPU ms" "peak MiB"
for t in anchor now; do
	printf '%-10s %10.1f %10.0f %12.1f\n' "${label[$t]}" \
		"$(awk '{ print $1 / 1000 }' "$tmp/$t.gate" | median)" \
		"$(awk '{ print $2 }' "$tmp/$t.gate" | median)" \
		"$(awk '{ print $3 / 1024 }' "$tmp/$t.gate" | median)"
done

stores=sqlite
if [ -n "${SHIPGATE_TEST_POSTGRES:-}" ]; then
	stores="sqlite postgres"
else
	echo "SHIPGATE_TEST_POSTGRES is not set: the server on PostgreSQL is skipped (eval \"\$(make -s pg)\" to include it)" >&2
fi
echo "deploy gate through the API, 32 clients, $n recorded decisions, $serve_rounds alternating runs each"
for store in $stores; do
	for _ in $(seq "$serve_rounds"); do
		for t in anchor now; do
			(cd "${dir[$t]}/server" && "$tmp/$t.server.test" -test.run '^$' -test.bench "BenchmarkGateAPI/$store\$" -test.benchtime "${n}x" -test.count 1) |
				awk -v name="${label[$t]}" -v store="$store" '/^BenchmarkGateAPI\// {
					for (i = 3; i < NF; i += 2) m[$(i + 1)] = $i
					printf "%-10s %-10s %8.1f decisions/s   p50 %7.1f ms   p99 %7.1f ms\n", name, store, m["decisions/s"], m["p50-ms"], m["p99-ms"]
					ok = 1
				} /^(FAIL|--- FAIL)/ { print; bad = 1 } END { exit bad || !ok }'
		done
	done
done
