package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/internal/cputime"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/server"
	"github.com/localizevideos/shipgate/store/postgres"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// benchClients is how many clients ask at once.
const benchClients = 32

// BenchmarkGateAPI measures recorded deploy-gate decisions through the
// HTTP API (a loopback server, JSON in and out, token checked, decision
// recorded before the answer) with 32 concurrent clients, on SQLite and,
// with SHIPGATE_TEST_POSTGRES, on PostgreSQL. Every decision allows, so the
// ledger grows by one entry per decision. It reports decisions/s, the p50
// and p99 latency, and the CPU time of the process per decision (cpu-ms:
// the server and its clients, which share the process, garbage collection
// included), steadier than the rest on a machine shared with other work.
func BenchmarkGateAPI(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "ledger.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchGate(b, db)
	})
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv(postgresEnv) == "" {
			b.Skipf("%s is not set", postgresEnv)
		}
		db, err := postgres.Open(context.Background(), newPostgresDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchGate(b, db)
	})
}

func benchGate(b *testing.B, st server.Store) {
	ctx := context.Background()
	defer server.TuneGC(os.Getenv)() // as shipgate serve runs
	reg, err := schemas.Compile()
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Engine: loadEngine(b), Validator: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()), Signer: serverSigner(),
		Clock: func() time.Time { return deployAt }})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	token, _, err := auth.New(st).Create(ctx, "bench", auth.RolePipeline, "bench")
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	post := func(path string, body []byte) ([]byte, error) {
		req, _ := http.NewRequest("POST", hs.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %d %s", path, resp.StatusCode, out)
		}
		return out, err
	}
	ev, _ := json.Marshal(docs(b, "plan.json", "incidents.json", "build.json", "deploy-requested.json"))
	if _, err := post("/v1/evidence", ev); err != nil {
		b.Fatal(err)
	}
	// An approval counts only from an approver (a pipeline cannot post one).
	if err := srv.Approve(ctx, auth.Principal{Name: "bob", Role: auth.RoleApprover}, releaseID, "CHG-1042 reviewed"); err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"release": map[string]string{"id": releaseID}})
	// Warm up the connections and the policy.
	if out, err := post("/v1/gates/deploy", body); err != nil || !bytes.Contains(out, []byte(`"allow": true`)) {
		b.Fatalf("warm-up decision: %s %v", out, err)
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	start, cpu := time.Now(), cputime.Process()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if _, err := post("/v1/gates/deploy", body); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cputime.Process()-cpu
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms")
	}
	b.ReportMetric(0, "ns/op")
}
