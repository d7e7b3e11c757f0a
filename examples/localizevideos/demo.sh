#!/usr/bin/env bash
# The LocalizeVideos example: the allowed release through the deploy, verify
# and complete gates, then one case per forbidden action, freeze rule,
# emergency path, verification failure and flag strategy.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x bin/shipgate ] || go build -o bin/shipgate .
go run ./examples/localizevideos/demo -shipgate bin/shipgate
# Then a real release of the example app on real PM2 (needs node and npm;
# installs the app's packages locally, stops everything it started).
bash examples/localizevideos/release.sh
