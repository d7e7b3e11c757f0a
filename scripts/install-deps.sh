#!/usr/bin/env bash
# Installs what `make demo` and the tests need beyond Go, on a fresh Debian
# machine, and says plainly what it could not install and why.
#
#   scripts/install-deps.sh [--report FILE] PART...
#
# What each PART needs (command, the Debian package that provides it, why):
#
#   demo  node        nodejs           the example app and PM2 run on Node.js
#         npm         npm              installs the app's packages
#         prometheus  prometheus       shipgate watch reads the app's signals from it
#         git         git              the release ships a git checkout of the app
#         curl        curl             release.sh waits for the app and sends it traffic
#         app         (npm ci)         PM2 and prom-client, under examples/localizevideos/app
#   test  everything demo needs, and
#         xmllint     libxml2-utils    checks the JUnit output against its XSD
#         chromium    chromium         renders the HTML audit report, drives the dashboard
#         modules     (go mod download) a cold module cache, fetched once
#
# Debian packages install with apt-get, as root or through sudo without a
# password; the app's npm packages install under the app, from its lock file
# (nothing global). Whatever cannot be installed is left out, not fatal: the
# script ends with one line per missing piece, "missing NAME: WHY", also
# written to FILE with --report (as "NAME: WHY"), and exits 0; the demo and
# the tests skip what needs it and say so. It exits 2 only on bad arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/install-deps.sh [--report FILE] demo|test..." >&2; exit 2; }
report=/dev/null
demo=false test=false
while [ $# -gt 0 ]; do
	case $1 in
	--report) [ $# -ge 2 ] || usage; report=$2; shift 2 ;;
	demo) demo=true; shift ;;
	test) demo=true test=true; shift ;;
	*) usage ;;
	esac
done
$demo || usage
: >"$report"

# COMMAND:PACKAGE, as in the table above.
needs=(node:nodejs npm:npm prometheus:prometheus git:git curl:curl)
if $test; then
	needs+=(xmllint:libxml2-utils chromium:chromium)
fi

missing=()
miss() { # NAME WHY
	missing+=("$1: $2")
	echo "$1: $2" >>"$report"
}

# as_root runs a command as root: directly, or through sudo when that needs
# no password.
as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	else
		sudo -n "$@"
	fi
}

# apt_install PACKAGE...: one apt-get for all of them; when that fails, each
# on its own, so that one package that cannot be had does not keep the
# others out. What could not be installed is explained in $why (all of
# them) or failed[PACKAGE].
why=
declare -A failed=()
apt_log=$(mktemp)
trap 'rm -f "$apt_log"' EXIT
apt_install() {
	if ! command -v apt-get >/dev/null; then
		why="no apt-get on this machine to install it with"
		return 1
	fi
	if [ "$(id -u)" != 0 ] && ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
		why="installing it needs root, and $(id -un) is not root and has no passwordless sudo"
		return 1
	fi
	echo "install-deps: apt-get install $*"
	if ! as_root apt-get update -qq >"$apt_log" 2>&1; then
		why="apt-get update failed: $(tail -n 1 "$apt_log")"
		return 1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>"$apt_log" 2>&1 && return 0
	local p
	for p in "$@"; do
		if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >"$apt_log" 2>&1; then
			failed[$p]="apt-get install $p failed: $(grep -E '^E:' "$apt_log" | tail -n 1)"
		fi
	done
}

want=()
for n in "${needs[@]}"; do
	command -v "${n%%:*}" >/dev/null || want+=("${n#*:}")
done
if [ ${#want[@]} -gt 0 ]; then
	apt_install "${want[@]}" || true
fi
for n in "${needs[@]}"; do
	cmd=${n%%:*} pkg=${n#*:}
	command -v "$cmd" >/dev/null && continue
	if [ -n "${failed[$pkg]:-}" ]; then
		miss "$cmd" "not installed; ${failed[$pkg]}"
	elif [ -n "$why" ]; then
		miss "$cmd" "not installed; $why (as root: apt-get install $pkg)"
	else
		miss "$cmd" "apt-get installed $pkg, but $cmd is not on PATH"
	fi
done

# The example app's packages (PM2 among them), from its lock file; again
# when the lock file changed since the last install.
app=examples/localizevideos/app
if ! command -v npm >/dev/null; then
	miss app "npm ci in $app needs npm"
elif [ "$app/package-lock.json" -nt "$app/node_modules/.package-lock.json" ]; then
	echo "install-deps: npm ci in $app"
	ok=false
	for i in 1 2 3; do
		(cd "$app" && npm ci --no-audit --no-fund --loglevel=error) && { ok=true; break; }
		[ $i = 3 ] || sleep 5
	done
	$ok || miss app "npm ci in $app failed three times (is the npm registry reachable?)"
fi

if $test; then
	ok=false
	for i in 1 2 3; do
		go mod download && { ok=true; break; }
		[ $i = 3 ] || sleep 5
	done
	$ok || miss modules "go mod download failed three times (is the Go module proxy reachable?)"
fi

for m in "${missing[@]}"; do
	echo "install-deps: missing $m"
done
if [ ${#missing[@]} = 0 ]; then
	echo "install-deps: everything is here"
fi
