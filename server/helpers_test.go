package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/server"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// deployAt is when the example release's deploy gate allows.
var deployAt = time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// env is a server on a real SQLite ledger behind a real loopback HTTP
// server, with one token per role.
type env struct {
	t      *testing.T
	db     *sqlite.DB
	path   string
	srv    *server.Server
	http   *httptest.Server
	clock  *clock
	tokens map[string]string // role → secret
}

type envOptions struct {
	engine *engine.Engine
	store  server.Store // wraps db when set
	logger *slog.Logger
}

func newEnv(t *testing.T, opts ...func(*envOptions)) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var o envOptions
	for _, f := range opts {
		f(&o)
	}
	if o.engine == nil {
		o.engine = loadEngine(t)
	}
	var st server.Store = db
	if o.store != nil {
		st = o.store
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: deployAt}
	// The example evidence is signed with the EXAMPLE keys; the server
	// signs what it records with serverKey.
	srv, err := server.New(server.Config{Store: st, Engine: o.engine, Validator: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring()),
		Signer: serverSigner(), Clock: c.Now, Version: "test", Logger: o.logger})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &env{t: t, db: db, path: path, srv: srv, http: hs, clock: c, tokens: map[string]string{}}
	tokens := auth.New(db)
	for _, role := range auth.Roles {
		name := role + "-1"
		if role == auth.RoleApprover {
			name = "bob"
		}
		secret, _, err := tokens.Create(ctx, name, role, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[role] = secret
	}
	return e
}

var (
	engineOnce sync.Once
	defaultEng *engine.Engine
	engineErr  error
)

// serverSigner is the key the test servers sign with: the same for every
// test, so that one engine serves them all.
func serverSigner() *evidence.Signer {
	seed := sha256.Sum256([]byte("shipgate test server"))
	return evidence.NewSigner(ed25519.NewKeyFromSeed(seed[:]))
}

// engineOptions are the options of the test servers' engines: the default
// policy set, the test server's key a server key, alice and bob bound to
// their EXAMPLE keys.
func engineOptions() engine.Options {
	id, _ := serverSigner().KeyID()
	return engine.Options{Policies: policies.FS, ServerKeys: map[string]string{id: "test server"}, People: keys.People()}
}

func loadEngine(t testing.TB) *engine.Engine {
	engineOnce.Do(func() {
		defaultEng, engineErr = engine.Load(context.Background(), engineOptions())
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return defaultEng
}

// token creates a token for name with role.
func (e *env) token(name, role string) string {
	e.t.Helper()
	secret, _, err := auth.New(e.db).Create(context.Background(), name, role, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// call makes a request with the token secret ("" for none) and a JSON body
// (nil for none; []byte sent as is), and returns the status, the headers
// and the body.
func (e *env) call(method, path, secret string, body any) (int, http.Header, []byte) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.http.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// head is the ledger's size and head hash, and the token table: what must
// not change when a request is refused.
func (e *env) head() string {
	e.t.Helper()
	ctx := context.Background()
	h, err := e.db.Verify(ctx, nil)
	if err != nil {
		e.t.Fatalf("Verify() = %v", err)
	}
	ts, err := e.db.Tokens(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := json.Marshal(struct {
		H any
		T any
	}{h, ts})
	return string(b)
}

// example reads a document of the example release.
func example(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "localizevideos", "evidence", "allowed", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// apiError is the JSON of an error answer.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Source, Pointer, Keyword, Message string
		} `json:"details"`
	} `json:"error"`
	Decision *engine.Decision `json:"decision"`
}

// approve records, with the approver token (bob's), an approval of the
// example release's deploy gate: what an approver does, and the only way
// an approval counts (a pipeline cannot post one). The release's Plan
// must be recorded.
func (e *env) approve() {
	e.t.Helper()
	code, _, b := e.call("POST", "/v1/releases/"+releaseID+"/approvals", e.tokens[auth.RoleApprover], map[string]string{"note": "CHG-1042 reviewed"})
	if code != http.StatusCreated {
		e.t.Fatalf("POST approvals = %d %s", code, b)
	}
}
