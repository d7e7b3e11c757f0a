# Every target is one command that people and CI run the same way.
GO       ?= go
BIN      ?= bin
SHIPGATE := $(BIN)/shipgate
OPA      := $(BIN)/opa
FUZZTIME ?= 20s
# make pg: a throwaway PostgreSQL for the store/postgres tests.
PGPORT   ?= 55432
PGDIR    ?= $(or $(TMPDIR),/tmp)/shipgate-pg-$(PGPORT)
# make build stamps the version and commit from git; without git (or outside
# a clone) the version stays 0.1.0-dev and the commit is what go build records,
# if anything. A fresh clone without tags is versioned by its short hash.
GIT      ?= git
VERSION  ?= $(or $(shell $(GIT) describe --tags --always --dirty 2>/dev/null),0.1.0-dev)
COMMIT   ?= $(shell $(GIT) rev-parse HEAD 2>/dev/null)
MODIFIED ?= $(if $(findstring -dirty,$(VERSION)),true)
LDFLAGS  := -X github.com/localizevideos/shipgate/cmd.Version=$(VERSION) -X github.com/localizevideos/shipgate/cmd.Commit=$(COMMIT) -X github.com/localizevideos/shipgate/cmd.Modified=$(MODIFIED)
# bin/shipgate is linked statically: nothing in it needs cgo (SQLite is
# pure Go; names resolve with Go's own resolver, users from /etc/passwd),
# and without the C loader and libc each command starts with ~1.5 MiB less
# resident. CGO_ENABLED=1 builds the dynamically linked binary.
CGO_ENABLED ?= 0

.DEFAULT_GOAL := help
.PHONY: help build opa test race lint policy-test bench bench-instr pgo fuzz demo e2e pg pg-stop clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/shipgate, statically linked, stamped with the version and commit (git describe), without local paths
	CGO_ENABLED=$(CGO_ENABLED) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(SHIPGATE) .

opa: ## build the upstream opa CLI from the OPA module in go.mod
	$(GO) build -o $(OPA) github.com/open-policy-agent/opa

test: lint policy-test ## vet, policy tests (shipgate and upstream opa), then every Go test
	$(GO) test -count=1 -timeout 30m ./...

race: ## Go tests with the race detector
	$(GO) test -race -count=1 ./...

lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

policy-test: build opa ## shipgate policy test, opa test and opa check --strict on policies/; without their data the policies deny
	$(SHIPGATE) policy test policies --min-coverage 90
	$(OPA) test policies/
	$(OPA) check --strict policies/
	@out=$$($(OPA) fmt --list policies/); if [ -n "$$out" ]; then echo "opa fmt needed:"; echo "$$out"; exit 1; fi
	@d=$$(mktemp -d) && e=examples/localizevideos/evidence && \
	$(SHIPGATE) gate --trusted-key examples/localizevideos/keys --data +examples/localizevideos/example-data.yaml deploy --release lv-2026-11-26.1 --store $$d/l.db --now 2026-11-26T10:05:00Z --print-input \
	  --evidence $$e/allowed/plan.json,$$e/incident-sev1/incidents.json,$$e/allowed/build.json,$$e/allowed/deploy-requested.json,$$e/allowed/approval.json >$$d/input.json && \
	allow=$$($(OPA) eval -f raw -d policies/shipgate/lib -d policies/shipgate/rules -d policies/shipgate/gates -i $$d/input.json 'data.shipgate.gates.deploy.decision.allow'); \
	rm -rf $$d; if [ "$$allow" != false ]; then echo "without data.yaml the policies answer allow=$$allow to an open SEV-1"; exit 1; fi

# The benchmarks measure the code as bin/shipgate is built: go build of the
# main package applies default.pgo (profile-guided optimisation) by itself.
bench: export GOFLAGS := $(GOFLAGS) -pgo=$(CURDIR)/default.pgo
bench: build opa ## in-process benchmarks, whole commands side by side, the server, then the command and the server beside an anchor commit (ANCHOR=e1e477c)
	$(GO) test -run '^$$' -bench . -benchmem ./engine/ ./evidence/ ./ledger/ ./store/sqlite/ ./gate/ ./auditpack/
	$(GO) test -run '^$$' -bench 'Replay/releases=90/' -benchmem ./replay/
	$(GO) test -run '^$$' -bench BenchmarkPages -benchtime 10x ./server/web/
	./scripts/bench-commands.sh
	./scripts/bench-server.sh
	./scripts/bench-anchor.sh $(ANCHOR)

bench-instr: ## instructions per gate evaluation (callgrind), side by side with an anchor commit: ANCHOR=e1e477c
	./scripts/bench-instructions.sh $(ANCHOR)

pgo: ## refresh default.pgo, the CPU profile of gate evaluations, recorded decisions and policy loads that the build optimises with
	@d=$$(mktemp -d) && \
	$(GO) test -run '^$$' -bench 'BenchmarkEvaluate$$|BenchmarkLoad' -benchtime 3s -cpuprofile $$d/engine.pprof -o $$d/engine.test ./engine/ && \
	$(GO) test -run '^$$' -bench BenchmarkRecordedVsEvaluate -benchtime 3s -cpuprofile $$d/gate.pprof -o $$d/gate.test ./gate/ && \
	$(GO) tool pprof -proto $$d/engine.pprof $$d/gate.pprof > default.pgo && rm -rf $$d

fuzz: ## bounded fuzzing of the evidence decoder, the ledger verifier, the audit pack reader, the time flags and every other parser of untrusted input (FUZZTIME=20s each)
	$(GO) test ./evidence -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	$(GO) test ./engine -run '^$$' -fuzz FuzzInputDigest -fuzztime $(FUZZTIME)
	$(GO) test ./evidence -run '^$$' -fuzz FuzzEnvelope -fuzztime $(FUZZTIME)
	$(GO) test ./evidence -run '^$$' -fuzz FuzzFastParse -fuzztime $(FUZZTIME)
	$(GO) test ./evidence -run '^$$' -fuzz FuzzCanonicalWriter -fuzztime $(FUZZTIME)
	$(GO) test ./ledger -run '^$$' -fuzz FuzzVerify -fuzztime $(FUZZTIME)
	$(GO) test ./auditpack -run '^$$' -fuzz FuzzRead -fuzztime $(FUZZTIME)
	$(GO) test ./artifact -run '^$$' -fuzz FuzzRestore -fuzztime $(FUZZTIME)
	$(GO) test ./signals -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzCheckDepth -fuzztime $(FUZZTIME)
	$(GO) test ./server/web -run '^$$' -fuzz FuzzSessionCookie -fuzztime $(FUZZTIME)
	$(GO) test ./internal/timespec -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)

demo: build ## the LocalizeVideos release through every gate and each denial, then a real one on PM2 (installs what it needs: scripts/install-deps.sh)
	./examples/localizevideos/demo.sh

e2e: ## the LocalizeVideos end-to-end tests on real node, PM2 and git (part of make test)
	$(GO) test -count=1 ./examples/localizevideos/e2e/

pg: ## start a throwaway PostgreSQL 15 for the store/postgres tests: eval "$(make -s pg)"
	@url=$$(.ci/postgres start $(PGDIR) $(PGPORT)) && echo "export SHIPGATE_TEST_POSTGRES='$$url'"

pg-stop: ## stop the server make pg started and remove its files
	.ci/postgres stop $(PGDIR)

clean: ## remove build output
	rm -rf $(BIN)
