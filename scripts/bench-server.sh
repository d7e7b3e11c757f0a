#!/usr/bin/env bash
# Gate decisions through the HTTP API of shipgate serve: 32 concurrent
# clients, each decision authenticated, evaluated and recorded in the ledger
# before it is answered. Reports decisions/s and p50/p99 latency on SQLite
# and, when SHIPGATE_TEST_POSTGRES is set (eval "$(make -s pg)"), on
# PostgreSQL, with the CPU time per decision (server and clients: on a
# shared machine the rate says as much about the other work as about
# shipgate). N decisions per store (default 2000). Then the store alone:
# 32 goroutines recording decisions at once through one handle, each
# answered once durable (their writes share commits).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
if [ -z "${SHIPGATE_TEST_POSTGRES:-}" ]; then
	echo "SHIPGATE_TEST_POSTGRES is not set: PostgreSQL is skipped (eval \"\$(make -s pg)\" to include it)" >&2
fi
echo "deploy gate through the API, 32 concurrent clients, $N recorded decisions per store"
go test -run '^$' -bench 'BenchmarkGateAPI' -benchtime "${N}x" -count 1 ./server/ |
	awk '/^BenchmarkGateAPI\// {
		split($1, name, "/"); sub(/-[0-9]+$/, "", name[2])
		for (i = 3; i < NF; i += 2) m[$(i + 1)] = $i
		printf "%-10s %8.1f decisions/s   p50 %7.1f ms   p99 %7.1f ms   %5.2f ms CPU per decision\n",
			name[2], m["decisions/s"], m["p50-ms"], m["p99-ms"], m["cpu-ms"]
	} /^(FAIL|---)/ { print; bad = 1 } END { exit bad }'
echo "the store alone, 32 concurrent writers, $N recorded decisions per store"
go test -run '^$' -bench 'BenchmarkRecordDecisionConcurrent' -benchtime "${N}x" -count 1 ./store/sqlite/ ./store/postgres/ |
	awk '/^pkg: / { n = split($2, p, "/"); store = p[n] }
	/^BenchmarkRecordDecisionConcurrent/ { printf "%-10s %8.1f decisions/s\n", store, $5 }
	/^(FAIL|--- FAIL)/ { print; bad = 1 } END { exit bad }'
