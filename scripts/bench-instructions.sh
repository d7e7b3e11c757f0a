#!/usr/bin/env bash
# Instructions per gate evaluation, side by side with an anchor commit: the
# figure that does not move with the load of a shared machine (CPU time
# does). For each tree, BenchmarkEvaluate's allowed and denied deploy
# decisions run under callgrind twice, 20 and 420 iterations, in one
# thread without garbage collection; the difference over 400 is one
# evaluation's instructions, start-up and policy load left out. Repeatable
# to about ±15k (0.7%).
#
#   scripts/bench-instructions.sh [ANCHOR]
#
# ANCHOR (default e1e477c, main before the no-false-allow rules of #14) is
# checked out in a temporary worktree. Each tree is built as it ships: with
# its default.pgo when it has one. Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
anchor=${1:-e1e477c}
command -v valgrind >/dev/null || { echo "bench-instructions: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/anchor" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add --detach -q "$tmp/anchor" "$anchor"

# build TREE OUT: the engine's test binary of TREE, as TREE's build would make it.
build() {
	local pgo=off
	[ -f "$1/default.pgo" ] && pgo="$1/default.pgo"
	(cd "$1" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go test -pgo="$pgo" -c -o "$2" ./engine/)
}

# count BINARY DIR CASE N: the instructions callgrind counts for N evaluations of CASE, and the rest of the run.
count() {
	local out="$tmp/cg.out"
	(cd "$2" && GOMAXPROCS=1 GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$1" -test.run '^$' -test.bench "BenchmarkEvaluate\$/$3\$" -test.benchtime="$4x" -test.count=1 >/dev/null 2>&1)
	awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

build "$PWD" "$tmp/now.test"
build "$tmp/anchor" "$tmp/anchor.test"
printf '%-28s %14s %14s %8s\n' "BenchmarkEvaluate, deploy" "$anchor" "$(git rev-parse --short HEAD)" "change"
for c in allowed denied; do
	a=$(( ($(count "$tmp/anchor.test" "$tmp/anchor/engine" $c 420) - $(count "$tmp/anchor.test" "$tmp/anchor/engine" $c 20)) / 400 ))
	n=$(( ($(count "$tmp/now.test" "$PWD/engine" $c 420) - $(count "$tmp/now.test" "$PWD/engine" $c 20)) / 400 ))
	printf '%-28s %14d %14d %+7.1f%%\n' "$c, instructions/op" "$a" "$n" "$(echo "($n - $a) * 100 / $a" | bc -l)"
done
