#!/usr/bin/env bash
# The LocalizeVideos example: the allowed release through the deploy, verify
# and complete gates, then one case per forbidden action, freeze rule,
# emergency path, verification failure and flag strategy; then a real
# release of the example app on PM2 (release.sh).
#
# What the real release needs beyond Go is installed first when missing
# (scripts/install-deps.sh lists it). What cannot be installed is skipped,
# and the end of the output says what and why; the exit code is that of the
# parts that ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=$(mktemp)
trap 'rm -f "$missing"' EXIT
scripts/install-deps.sh --report "$missing" demo
[ -x bin/shipgate ] || CGO_ENABLED=0 go build -o bin/shipgate .
# The case gallery and the story of lv-2026-11-26.1 need only Go. Their
# evidence is dated 2026-11-26/27: every gate gets the --now of its case.
go run ./examples/localizevideos/demo -shipgate bin/shipgate
if grep -qE '^(node|npm|git|curl|app):' "$missing"; then
	printf '\n\033[1m# Skipped: the real release of the example app on PM2 (release.sh)\033[0m\n'
	echo "It needs Node.js, npm, git, curl and the app's packages; missing here:"
	grep -E '^(node|npm|git|curl|app):' "$missing" | sed 's/^/  /'
	echo "Everything above ran; its ledger is in .demo/ (cd .demo && ../bin/shipgate audit verify --checkpoint checkpoint.json)."
	exit 0
fi
LV_MISSING=$missing bash examples/localizevideos/release.sh
