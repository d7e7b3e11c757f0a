package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store/postgres/pgtest"
)

// postgresEnv names the PostgreSQL server the multi-replica test runs on
// (a role that may create databases); `make pg` starts one.
const postgresEnv = pgtest.Env

// newPostgresDatabase creates an empty database, dropped when t ends, and
// returns its URL; without SHIPGATE_TEST_POSTGRES it skips t.
var newPostgresDatabase = pgtest.NewDatabase

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildShipgate builds the binary once per test run, into a temporary
// directory removed by TestMain.
func buildShipgate(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "shipgate-server-test-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		builtBin = filepath.Join(dir, "shipgate")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/localizevideos/shipgate").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// replica is one `shipgate serve` process.
type replica struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
	mu   *sync.Mutex
	// eof is closed once the process's stderr is read to the end.
	eof chan struct{}
}

// startReplica starts `shipgate serve` on a free loopback port and waits
// for it to listen.
func startReplica(t *testing.T, bin, storeURL string) *replica {
	t.Helper()
	return startReplicas(t, bin, storeURL, 1)[0]
}

// startReplicas starts n servers at once and waits for all to listen.
func startReplicas(t *testing.T, bin, storeURL string, n int) []*replica {
	t.Helper()
	rs := make([]*replica, n)
	addrs := make([]chan string, n)
	// Replicas of one store share one signing key, in a directory of the
	// test's own (serve would make one in its working directory).
	dir := t.TempDir()
	priv, pub, err := ledger.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "server.key")
	if err := os.WriteFile(key, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		rs[i], addrs[i] = launchReplica(t, bin, storeURL, dir, key)
	}
	for i, r := range rs {
		select {
		case a := <-addrs[i]:
			r.addr = a
		case <-time.After(60 * time.Second):
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("shipgate serve did not start:\n%s", r.logs)
		}
	}
	return rs
}

// launchReplica starts `shipgate serve`; the channel gets the address it
// listens on.
func launchReplica(t *testing.T, bin, storeURL, dir, key string) (*replica, chan string) {
	t.Helper()
	// The example evidence is signed with the EXAMPLE keys.
	keys, err := filepath.Abs(filepath.Join("..", "examples", "localizevideos", "keys"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--store", storeURL, "--listen", "127.0.0.1:0", "--signing-key", key, "--trusted-key", keys)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SHIPGATE_SESSION_KEY="+strings.Repeat("ab", 32))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{cmd: cmd, logs: &bytes.Buffer{}, mu: &sync.Mutex{}, eof: make(chan struct{})}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		defer close(r.eof)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			r.mu.Lock()
			r.logs.Write(line)
			r.logs.WriteByte('\n')
			r.mu.Unlock()
			var l struct{ Msg, Addr string }
			if json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
				addr <- l.Addr
			}
		}
	}()
	return r, addr
}

// Three servers on one PostgreSQL database, 30 clients making 3,000
// decisions, one server killed (SIGKILL) in the middle: clients retry on
// another server with the same decision id, and in the end the ledger
// verifies and holds every answered decision exactly once.
func TestReplicasKeepOneLedger(t *testing.T) {
	if testing.Short() {
		t.Skip("the multi-replica test starts three servers")
	}
	storeURL := newPostgresDatabase(t)
	bin := buildShipgate(t)
	out, err := exec.Command(bin, "token", "create", "--store", storeURL, "--role", "pipeline", "--name", "ci-bot", "--output", "json").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := decode[struct{ Token string }](t, out).Token

	replicas := startReplicas(t, bin, storeURL, 3)
	client := &http.Client{Timeout: 60 * time.Second}
	post := func(addr, path string, body []byte) (int, []byte, error) {
		req, _ := http.NewRequest("POST", "http://"+addr+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	evidence, _ := json.Marshal(docs(t, "plan.json", "incidents.json", "build.json", "deploy-requested.json"))
	if code, b, err := post(replicas[0].addr, "/v1/evidence", evidence); err != nil || code != http.StatusOK {
		t.Fatalf("add evidence: %d %s %v", code, b, err)
	}

	const clients, each = 30, 100
	var answered atomic.Int64
	var killed atomic.Bool
	var retries atomic.Int64
	dead := make([]atomic.Bool, len(replicas))
	results := make([][]engine.Decision, clients)
	errs := make(chan error, clients)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range each {
				id := fmt.Sprintf("rep-%02d-%03d", c, n)
				body, _ := json.Marshal(map[string]any{"id": id, "release": map[string]string{"id": releaseID}, "dryRun": true})
				var d engine.Decision
				for attempt := 0; ; attempt++ {
					if attempt > 20 {
						errs <- fmt.Errorf("decision %s: no server answered in %d attempts", id, attempt)
						return
					}
					r := (c + n + attempt) % len(replicas)
					if dead[r].Load() {
						continue
					}
					code, b, err := post(replicas[r].addr, "/v1/gates/deploy", body)
					if err != nil || code >= 500 {
						// The server died (or could not record): another one
						// is asked the same decision id.
						retries.Add(1)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					if code != http.StatusOK {
						errs <- fmt.Errorf("decision %s: %d %s", id, code, b)
						return
					}
					if err := json.Unmarshal(b, &d); err != nil || d.ID != id {
						errs <- fmt.Errorf("decision %s: answered %s (%v)", id, b, err)
						return
					}
					break
				}
				results[c] = append(results[c], d)
				if answered.Add(1) == clients*each/3 && killed.CompareAndSwap(false, true) {
					dead[0].Store(true)
					if err := replicas[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	elapsed := time.Since(start)
	if t.Failed() {
		t.FailNow()
	}
	if !killed.Load() {
		t.Fatal("no server was killed")
	}
	t.Logf("%d decisions through 3 servers (one killed after %d) in %s: %.0f/s, %d retries",
		answered.Load(), clients*each/3, elapsed.Round(time.Millisecond), float64(answered.Load())/elapsed.Seconds(), retries.Load())

	// The ledger verifies: one linear chain.
	if out, err := exec.Command(bin, "audit", "verify", "--store", storeURL).CombinedOutput(); err != nil {
		t.Fatalf("shipgate audit verify: %v\n%s", err, out)
	}
	// Every answered decision is recorded exactly once, none lost, none
	// added.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT key FROM entries WHERE type = 'decision'")
	if err != nil {
		t.Fatal(err)
	}
	inLedger := map[string]int{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		inLedger[k]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for c := range results {
		for _, d := range results[c] {
			total++
			if inLedger[d.ID] != 1 {
				t.Errorf("decision %s is in the ledger %d times; want once", d.ID, inLedger[d.ID])
			}
		}
	}
	if total != clients*each || len(inLedger) != total {
		t.Errorf("%d decisions answered, %d in the ledger; want %d and %d", total, len(inLedger), clients*each, clients*each)
	}
	// The surviving servers still answer.
	for _, r := range replicas[1:] {
		resp, err := client.Get("http://" + r.addr + "/readyz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("replica %s not ready after the test: %v", r.addr, err)
		} else {
			resp.Body.Close()
		}
	}
}

// shipgate serve, a real process: SIGTERM stops it cleanly (exit 0) after
// it logged that it finishes the requests in flight.
func TestServeStopsOnSIGTERM(t *testing.T) {
	bin := buildShipgate(t)
	store := "sqlite://" + filepath.Join(t.TempDir(), "ledger.db")
	out, err := exec.Command(bin, "token", "create", "--store", store, "--role", "auditor", "--name", "audra").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	r := startReplica(t, bin, store)
	req, _ := http.NewRequest("GET", "http://"+r.addr+"/v1/ledger/verify", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(out)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/ledger/verify = %d", resp.StatusCode)
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		<-r.eof // every log line read before Wait closes the pipe
		done <- r.cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shipgate serve after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shipgate serve did not stop within 30 s of SIGTERM")
	}
	r.mu.Lock()
	logs := r.logs.String()
	r.mu.Unlock()
	for _, want := range []string{`"msg":"shutting down: finishing the requests in flight"`, `"msg":"stopped"`, `"principal":"audra"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
}
