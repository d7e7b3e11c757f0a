#!/usr/bin/env bash
# A real LocalizeVideos release on real PM2, governed by shipgate:
#
#   plan -> shipgate run build -- npm run build -> approval
#     -> shipgate run deploy -- pm2 restart localizevideos-app --update-env
#     -> shipgate verify -> status
#
# then a short watch of its first minutes on Prometheus that completes it,
# a deploy denied during an open SEV-1, a deploy with the wrong command
# refused (the command never runs), a broken release whose failed /api/me
# check rolls back automatically (verify --rollback-on-fail), a release whose
# error spike during the watch rolls it back automatically (watch
# --auto-rollback, after a human hold was placed and lifted), and reconcile
# catching a hand-edited file and a restart done by hand.
#
# The app's git copy, its own short PM2_HOME and Prometheus' data live in a
# scratch directory under /tmp, removed on exit; every process it starts is
# stopped on exit. The ledger, its checkpoint, the policy data and the audit
# reports stay in .demo/release/ (emptied first), so the reports can be
# checked again against the ledger they describe: the last lines say how.
#
# Without Prometheus (scripts/install-deps.sh cannot install it without
# root), the two watches are skipped, and the end says so.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
app_src=$root/examples/localizevideos/app
sg=$root/bin/shipgate
[ -x "$sg" ] || (cd "$root" && CGO_ENABLED=0 go build -o bin/shipgate .)
# What this needs beyond Go, installed when missing (the app's packages, pm2
# included, locally: nothing global). make demo has run the installer
# already and passes what it could not install in $LV_MISSING.
missing=${LV_MISSING:-}
if [ -z "$missing" ]; then
  missing=$(mktemp)
  "$root/scripts/install-deps.sh" --report "$missing" demo
fi
no_prometheus=$(sed -n 's/^prometheus: //p' "$missing")
cannot=$(grep -E '^(node|npm|git|curl|app):' "$missing" || true)
[ -n "${LV_MISSING:-}" ] || rm -f "$missing"
if [ -n "$cannot" ]; then
  echo "release.sh: cannot run without:" >&2
  while IFS= read -r line; do echo "  $line"; done <<<"$cannot" >&2
  exit 2
fi
skipped=()
pm2=$app_src/node_modules/.bin/pm2
# The approved deploy command is `pm2 restart ...`, an exact argv: the local
# pm2 goes first on PATH.
export PATH=$app_src/node_modules/.bin:$PATH

# A short scratch path: PM2's socket paths must stay under ~108 bytes.
work=$(mktemp -d /tmp/lv-XXXX)
export PM2_HOME=$work/pm2
cleanup() {
  "$pm2" kill >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shipgate runs from .demo/release, laid out as shipgate init lays out a
# repository: shipgate.yaml, the ledger and the checkpoint key in .shipgate/
# (the key also signs what shipgate records), and the artifacts kept for
# rollback in .shipgate/artifacts/.
out=$root/.demo/release
rm -rf "$out"
mkdir -p "$out"
cd "$out"
# alice approves and carol holds with keys of their own (shipgate init
# --approver): an approval or a hold counts only signed by its author.
"$sg" init --service localizevideos-app --approver alice --approver carol >/dev/null

export PORT=${LV_PORT:-$((20000 + RANDOM % 20000))}
export SHIPGATE_ACTOR=dave
repo=$work/app
base=http://127.0.0.1:$PORT

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
at() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
# sg runs shipgate with the scratch config; its exit code is printed and
# returned to the caller, who says which one it expects.
sg() {
  local rc=0
  "$sg" --config "$out/shipgate.yaml" "$@" || rc=$?
  echo "[exit $rc]"
  return $rc
}
expect() {
  local want=$1 rc=0
  shift
  "$@" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "release.sh: expected exit $want from: $*, got $rc" >&2
    exit 1
  fi
}
restarts() { "$pm2" jlist | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const a=JSON.parse(s.slice(s.indexOf("[{"))).find(p=>p.name==="localizevideos-app");console.log(a?a.pm2_env.restart_time:"none")})'; }
git_() { git -C "$repo" -c user.name="LocalizeVideos Dev" -c user.email=dev@localizevideos.com "$@"; }

# The policy data: the default LocalizeVideos data without its freeze
# calendar (weekends, year end), so the demo runs on any day. Production
# stays frozen by default: only a planned, documented, verified release
# goes out.
awk '/^  calendar:/{print "  calendar: []"; skip=1; next} skip && /^[^ ]/{skip=0} !skip' \
  "$root/policies/shipgate/config/data.yaml" >"$out/data.yaml"
# A passed build keeps dist/ as an artifact (.shipgate/artifacts/, named by
# its SHA-256 and recorded in the Build): the fast rollback puts the
# verified dist/ back instead of rebuilding.
cat >"$out/shipgate.yaml" <<EOF
service: localizevideos-app
environment: production
store: .shipgate/ledger.db
data: data.yaml
artifacts:
  paths: [dist]
  keep: 10
people:
  alice: [.shipgate/keys/alice.pub]
  carol: [.shipgate/keys/carol.pub]
EOF

say "The app: a git checkout at $repo, run by PM2 (PM2_HOME=$PM2_HOME) on $base"
mkdir -p "$repo"
(cd "$app_src" && tar --exclude=./node_modules --exclude=./dist --exclude=./flags.json -cf - .) | tar -xf - -C "$repo"
ln -s "$app_src/node_modules" "$repo/node_modules"
git_ init -q -b main
git_ remote add origin https://github.com/localizevideos/app.git
git_ add -A
git_ commit -q -m "LocalizeVideos app"
base_commit=$(git_ rev-parse HEAD)
(cd "$repo" && npm run -s build && "$pm2" ping >/dev/null && "$pm2" start ecosystem.config.js >/dev/null)
echo "first start (before any release): $(git_ log --oneline -1)"

# document KIND RELEASE COMMIT DATA-JSON [ACTOR]: write a hand-written
# document; its file name on stdout.
document() {
  local kind=$1 rel=$2 commit=$3 data=$4 who=${5:-dave} file
  file=$work/$rel-$kind-$RANDOM.json
  cat >"$file" <<EOF
{"apiVersion": "shipgate.dev/v1", "kind": "$kind",
 "release": {"id": "$rel", "service": "localizevideos-app", "environment": "production"},
 "subject": {"repository": "localizevideos/app", "commit": "$commit"},
 "collectedAt": "$(now)", "collector": {"name": "manual", "actor": "$who"},
 "data": $data}
EOF
  echo "$file"
}
# evidence KIND RELEASE COMMIT DATA-JSON [ACTOR]: record a hand-written document.
evidence() {
  "$sg" --config "$out/shipgate.yaml" evidence add "$(document "$@")" >/dev/null
}
plan() {
  local rel=$1 commit=$2 previous=$3 ticket=$4
  evidence Plan "$rel" "$commit" "{
    \"changeTicket\": \"$ticket\",
    \"window\": {\"start\": \"$(at '-1 hour')\", \"end\": \"$(at '+2 hours')\"},
    \"documentation\": {
      \"runbook\": {\"url\": \"https://wiki.localizevideos.com/runbooks/app-release\", \"reviewer\": \"carol\", \"reviewedAt\": \"$(at '-2 days')\"},
      \"releaseNotes\": {\"url\": \"https://github.com/localizevideos/app/releases/tag/$rel\"}},
    \"rollbackPlan\": {\"previousCommit\": \"$previous\", \"command\": [\"shipgate\", \"rollback\", \"--release\", \"$rel\"]},
    \"errorBudget\": {\"remaining\": 0.62, \"slo\": \"99.5% successful requests over 28 days\", \"measuredAt\": \"$(now)\"},
    \"ci\": {\"status\": \"passed\", \"provider\": \"generic\"},
    \"changeSize\": {\"filesChanged\": 1, \"linesAdded\": 2, \"linesDeleted\": 1}}"
}
incidents() { # RELEASE COMMIT INCIDENTS-JSON
  evidence IncidentStatus "$1" "$2" "{\"source\": \"https://status.localizevideos.com/api/incidents\", \"incidents\": $3}" shipgate
}
# approve RELEASE COMMIT: alice's approval, signed with her key.
approve() {
  local file
  file=$(document Approval "$1" "$2" "{\"approver\": \"alice\", \"decision\": \"approved\", \"gate\": \"deploy\", \"approvedAt\": \"$(now)\"}" alice)
  "$sg" --config "$out/shipgate.yaml" evidence sign "$file" --signing-key .shipgate/keys/alice.key >"$file.dsse"
  "$sg" --config "$out/shipgate.yaml" evidence add "$file.dsse" >/dev/null
}
# up waits until the app answers: pm2 restart returns once the process is
# forked, before it listens.
up() {
  for _ in $(seq 50); do
    curl -fsS -o /dev/null "$base/api/version" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "release.sh: the app does not answer on $base" >&2
  return 1
}
# verify runs right after the deploy: smoke.yaml's ready section waits for
# the app to listen.
verify() { # RELEASE [FLAGS...]
  local rel=$1
  shift
  sg verify --release "$rel" --checks "$app_src/smoke.yaml" --base "$base" --var password=smoke-password --dir "$repo" "$@"
}

# ---------------------------------------------------------------- release 1
say "Release lv-demo.1: a new tagline, planned in CHG-2001"
sed -i 's|Videos in every language.|Your videos, in every language.|' "$repo/public/index.html"
git_ commit -q -am "Home: new tagline"
c1=$(git_ rev-parse HEAD)
plan lv-demo.1 "$c1" "$base_commit" CHG-2001
incidents lv-demo.1 "$c1" '[]'
echo "recorded Plan and IncidentStatus (no open incident) for $c1"

say "shipgate run build -- npm run build"
expect 0 sg run build --release lv-demo.1 --dir "$repo" -- npm run build
say "alice approves the deploy"
approve lv-demo.1 "$c1"
say "shipgate run deploy -- pm2 restart localizevideos-app --update-env"
expect 0 sg run deploy --release lv-demo.1 --dir "$repo" -- pm2 restart localizevideos-app --update-env
say "shipgate verify: home, login, /api/me, logout, error spike"
expect 0 verify lv-demo.1
say "shipgate status"
expect 0 sg status --release lv-demo.1

# ---------------------------------------------------------------- the first minutes
if [ -n "$no_prometheus" ]; then
  skipped+=("the watch of lv-demo.1's first minutes and its complete gate")
else
  say "Prometheus scrapes the app every second; users browse and log in"
  prom_port=$((20000 + RANDOM % 20000))
  cat >"$work/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: localizevideos-app
    static_configs: [{targets: ["127.0.0.1:$PORT"]}]
EOF
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
  prom_pid=$!
  (while :; do
    curl -s -o /dev/null "$base/" || true
    curl -s -o /dev/null -H 'content-type: application/json' \
      -d '{"email":"alice@localizevideos.com","password":"alice-password"}' "$base/login" || true
    sleep 0.05
  done) &
  traffic_pid=$!
  trap 'kill $traffic_pid $prom_pid 2>/dev/null; wait $prom_pid 2>/dev/null; cleanup' EXIT
  sed -e "s#http://127.0.0.1:9090#http://127.0.0.1:$prom_port#" -e 's/\[1m\]/[10s]/g' \
    "$root/examples/localizevideos/signals.yaml" >"$work/signals.yaml"
  sed -e 's/^  min_window_minutes: 15$/  min_window_minutes: 0.25/' \
    -e 's/^    capabilities: {}$/    capabilities:\n      auto-rollback: {metrics: true, alerts: true, human_override: true}/' \
    "$out/data.yaml" >"$out/watch-data.yaml"
  sleep 12 # ten seconds of scrapes before the baseline
  say "shipgate watch lv-demo.1: 20 seconds of safety signals (15 minutes in production), then the complete gate"
  expect 0 sg watch --release lv-demo.1 --signals "$work/signals.yaml" --window 20s --interval 2s --baseline-offset 5s --data "$out/watch-data.yaml"
fi

# ---------------------------------------------------------------- release 2
say "Release lv-demo.2: \"use the new session store\" (CHG-2002), during SEV-1 INC-77"
sed -i "s|if (!flags.enabled('new-session-store')) return session.email;|if (flags.enabled('legacy-session-store')) return session.email;|" "$repo/server.js"
git_ commit -q -am "Sessions: the new session store by default"
c2=$(git_ rev-parse HEAD)
plan lv-demo.2 "$c2" "$c1" CHG-2002
incidents lv-demo.2 "$c2" "[{\"id\": \"INC-77\", \"severity\": \"SEV-1\", \"status\": \"open\", \"title\": \"Checkout errors\", \"openedAt\": \"$(at '-10 minutes')\"}]"
expect 0 sg run build --release lv-demo.2 --dir "$repo" -- npm run build
approve lv-demo.2 "$c2"
before=$(restarts)
expect 1 sg run deploy --release lv-demo.2 --dir "$repo" -- pm2 restart localizevideos-app --update-env
echo "pm2 restarts before: $before, after: $(restarts) (the denied command never ran)"

say "INC-77 is resolved; someone tries pm2 reload instead of the approved command"
# Evidence times have one-second resolution and a tie between incident
# lists counts the open one: the newer list must be stamped a second later.
sleep 1
incidents lv-demo.2 "$c2" "[{\"id\": \"INC-77\", \"severity\": \"SEV-1\", \"status\": \"resolved\", \"title\": \"Checkout errors\", \"openedAt\": \"$(at '-20 minutes')\", \"resolvedAt\": \"$(now)\"}]"
before=$(restarts)
expect 1 sg run deploy --release lv-demo.2 --dir "$repo" -- pm2 reload localizevideos-app
echo "pm2 restarts before: $before, after: $(restarts) (the denied command never ran)"

say "The approved command: allowed, deployed; verify catches /api/me answering the wrong user and rolls back"
echo "(the rollback restores lv-demo.1's verified dist/ from its artifact: no rebuild)"
expect 0 sg run deploy --release lv-demo.2 --dir "$repo" -- pm2 restart localizevideos-app --update-env
expect 1 verify lv-demo.2 --rollback-on-fail
echo "the checkout is back at $(git_ rev-parse --short HEAD) (lv-demo.1 was $(git -C "$repo" rev-parse --short "$c1"))"
up && curl -fsS "$base/api/version" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log("the app now runs commit "+JSON.parse(s).commit.slice(0,7)))'
sg status --release lv-demo.2 || true

# ---------------------------------------------------------------- release 3
if [ -n "$no_prometheus" ]; then
  skipped+=("release lv-demo.3, whose error spike shipgate watch --auto-rollback rolls back")
else
  say "Release lv-demo.3: revert the session store, plus a change whose errors start 15s after start (CHG-2003)"
  git_ checkout -q main
  git_ revert --no-edit "$c2" >/dev/null
  sed -i 's|^function errorInjected() {$|const bootedAt = Date.now();\nfunction errorInjected() {\n  if (Date.now() - bootedAt > 15000 \&\& served++ % 3 === 0) return true;|' "$repo/server.js"
  git_ commit -q -am "Uploads: the new thumbnail cache"
  c3=$(git_ rev-parse HEAD)
  plan lv-demo.3 "$c3" "$c1" CHG-2003
  incidents lv-demo.3 "$c3" '[]'
  expect 0 sg run build --release lv-demo.3 --dir "$repo" -- npm run build
  approve lv-demo.3 "$c3"
  expect 0 sg run deploy --release lv-demo.3 --dir "$repo" -- pm2 restart localizevideos-app --update-env
  expect 0 verify lv-demo.3
  say "carol holds automated rollback while she looks at a traffic spike: a breach would only alert"
  expect 0 sg hold --release lv-demo.3 --by carol --signing-key .shipgate/keys/carol.key --reason "marketing campaign traffic starts now"
  expect 0 sg hold --release lv-demo.3 --release-hold --by carol --signing-key .shipgate/keys/carol.key
  say "shipgate watch lv-demo.3 --auto-rollback: the error spike rolls the release back"
  expect 1 sg watch --release lv-demo.3 --signals "$work/signals.yaml" --window 40s --interval 2s --baseline-offset 5s \
    --data "$out/watch-data.yaml" --auto-rollback --rollback-arg=--dir="$repo"
  echo "the checkout is back at $(git_ rev-parse --short HEAD) (lv-demo.1 was $(git -C "$repo" rev-parse --short "$c1"))"
  sg status --release lv-demo.3 || true
fi

# ---------------------------------------------------------------- drift
say "shipgate reconcile pm2: the app as the ledger left it"
expect 0 sg reconcile pm2 --app localizevideos-app
say "Someone hot-patches server.js on the server"
echo "// hot fix: log more" >>"$repo/server.js"
expect 1 sg reconcile pm2 --app localizevideos-app
git_ checkout -q -- server.js
say "Someone restarts the app by hand: pm2 restart localizevideos-app"
sleep 3 # past the rollback's tolerance window, as a later hand restart would be
"$pm2" restart localizevideos-app >/dev/null
expect 1 sg reconcile pm2 --app localizevideos-app
say "The open violations: each waits for its postmortem"
expect 0 sg violations list --service localizevideos-app

# ---------------------------------------------------------------- the audit
say "The auditor's view: the ledger verified and checkpointed, a report of these releases, and a replay pack checked offline"
expect 0 sg audit verify
# The checkpoint, signed with shipgate init's key, pins the ledger's head:
# the reports are verified against it, and so is any later check.
expect 0 sg audit checkpoint --out checkpoint.json
since=$(date -u -d '-1 day' +%F)
until=$(date -u -d '+1 day' +%F)
report() { # FORMAT
  sg audit report --since "$since" --until "$until" --checkpoint checkpoint.json --format "$1" --out "release-report.$1"
}
expect 0 report md
expect 0 report html
# The auditor pins the checkpoint key's public half: the pack is proved
# against a checkpoint of the ledger's head signed with it.
expect 0 sg audit export --format pack --out releases.pack.tar.gz
expect 0 sg audit replay releases.pack.tar.gz --key .shipgate/keys/checkpoint.pub
echo "reports: $out/release-report.md and $out/release-report.html (one self-contained file: open it in a browser, print it to PDF)"

say "Done: stopping PM2 ($PM2_HOME) and removing $work"
if [ ${#skipped[@]} -gt 0 ]; then
  echo "Skipped, because prometheus is missing ($no_prometheus):"
  printf '  %s\n' "${skipped[@]}"
  echo "Everything else ran."
fi
say "Kept in ${out#"$root"/}/: the ledger these reports describe (.shipgate/ledger.db) and its checkpoint. Check them again:"
echo "  cd $out"
echo "  ../../bin/shipgate audit verify --checkpoint checkpoint.json"
echo "  ../../bin/shipgate audit report --since $since --until $until --checkpoint checkpoint.json --format html --out release-report.html"
echo "  ../../bin/shipgate audit replay releases.pack.tar.gz --key .shipgate/keys/checkpoint.pub"
