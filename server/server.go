package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/server/web"
	"github.com/localizevideos/shipgate/store"
)

// Store is the store contract (store.Store) the server is built on.
type Store = store.Store

// DefaultMaxBody is the largest request body accepted: 1 MiB.
const DefaultMaxBody = 1 << 20

// Config is what a Server is built from.
type Config struct {
	Store     Store
	Engine    *engine.Engine
	Validator *evidence.Validator
	// Signer signs the approvals, overrides and holds the server records
	// from approver tokens; the Engine must know its key as a server's
	// (engine.Options.ServerKeys), or none of them would count. The
	// Validator is made to trust it.
	Signer *evidence.Signer
	// Logger receives one JSON line per request; nil discards.
	Logger *slog.Logger
	// Registry receives the server's metrics and is what /metrics serves;
	// nil makes one.
	Registry *prometheus.Registry
	// Clock stamps decisions and entries; nil is time.Now.
	Clock func() time.Time
	// MaxBody limits request bodies; 0 is DefaultMaxBody.
	MaxBody int64
	// Dashboard, when set, serves every path the API does not; nil serves
	// the web dashboard (package server/web) there.
	Dashboard http.Handler
	// SecureCookies marks the dashboard's cookies Secure on plain HTTP too:
	// for a server behind a proxy that terminates TLS.
	SecureCookies bool
	// SessionKey seals the dashboard's session cookies (32 bytes or more,
	// the same on every replica); nil makes a random key per process.
	SessionKey []byte
	// Version is reported by /healthz.
	Version string
	// SweepInterval is how often Serve sweeps the ledger for deploys whose
	// smoke tests were skipped (Server.Sweep), the first time at once; 0
	// never.
	SweepInterval time.Duration
}

// Server is the HTTP API over one store.
type Server struct {
	cfg     Config
	store   Store
	gate    *gate.Gate
	tokens  *auth.Tokens
	log     *slog.Logger
	metrics *metrics
	routes  []Route
	handler http.Handler
}

// Route is one API route: who may call it and what it does.
type Route struct {
	Method string
	Path   string
	// Permission is what the caller's role must hold (auth.Permission);
	// the dashboard's pages ask the same ones.
	Permission auth.Permission
	// Roles are the roles that hold Permission.
	Roles []string
	h     func(w http.ResponseWriter, r *http.Request, p auth.Principal) error
}

// Pattern is the route's net/http ServeMux pattern.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// New builds a server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Engine == nil || cfg.Validator == nil || cfg.Signer == nil {
		return nil, errors.New("server: a store, an engine, a validator and a signer are required")
	}
	if id, _ := cfg.Signer.KeyID(); !cfg.Engine.ServerKey(id) {
		return nil, fmt.Errorf("server: the policy engine does not take key %s for a shipgate server's (engine.Options.ServerKeys or signing.servers): no approval the server records would count", id)
	}
	cfg.Validator = cfg.Validator.Trusting(cfg.Signer.Public())
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	s := &Server{cfg: cfg, store: cfg.Store, log: cfg.Logger}
	s.tokens = &auth.Tokens{Store: cfg.Store, Clock: cfg.Clock}
	s.gate = &gate.Gate{Engine: cfg.Engine, Validator: cfg.Validator, Store: cfg.Store, Clock: cfg.Clock,
		Concurrency: runtime.GOMAXPROCS(0)}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.routes = s.apiRoutes()
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.Pattern(), s.route(rt))
	}
	mux.Handle("GET /metrics", s.public("/metrics", m.handler(cfg.Registry).ServeHTTP))
	mux.Handle("GET /healthz", s.public("/healthz", s.healthz))
	mux.Handle("GET /readyz", s.public("/readyz", s.readyz))
	mux.Handle("/v1/", s.public("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("no API route %s %s", r.Method, r.URL.Path))
	}))
	dash := cfg.Dashboard
	if dash == nil {
		if dash, err = s.dashboard(); err != nil {
			return nil, err
		}
	}
	mux.Handle("/", s.public("/", dash.ServeHTTP))
	s.handler = s.observe(mux)
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes returns every API route with the roles it admits.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Tokens returns the server's token checker, for the dashboard's sign-in.
func (s *Server) Tokens() *auth.Tokens { return s.tokens }

func (s *Server) now() time.Time {
	if s.cfg.Clock != nil {
		return s.cfg.Clock()
	}
	return time.Now()
}

// reqInfo is what the outer middleware logs, filled in by the inner ones.
type reqInfo struct {
	id        string
	route     string
	principal string
	cause     error
}

type infoKey struct{}

func info(ctx context.Context) *reqInfo {
	if i, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// requestIDPattern is compiled when the server first needs it, not when
// any command starts.
var requestIDPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`) })

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives every request an id, then logs it (never its token) and
// counts it once answered.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		in := &reqInfo{route: "unmatched"}
		if id := r.Header.Get("X-Request-Id"); requestIDPattern().MatchString(id) {
			in.id = id
		} else {
			var b [8]byte
			_, _ = rand.Read(b[:])
			in.id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", in.id)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey{}, in)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.request(in.route, r.Method, sw.status, d)
		level := slog.LevelInfo
		if in.cause != nil && sw.status >= 500 {
			level = slog.LevelError
		}
		if !s.log.Enabled(r.Context(), level) {
			return // a discarding logger is given nothing to discard
		}
		attrs := []any{slog.String("request_id", in.id), slog.String("method", r.Method), slog.String("route", in.route),
			slog.String("path", r.URL.Path), slog.Int("status", sw.status), slog.Float64("duration_ms", float64(d.Microseconds())/1000)}
		if in.principal != "" {
			attrs = append(attrs, slog.String("principal", in.principal))
		}
		if in.cause != nil {
			attrs = append(attrs, slog.String("error", in.cause.Error()))
		}
		s.log.Log(r.Context(), level, "request", attrs...)
	})
}

// public serves an unauthenticated route.
func (s *Server) public(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info(r.Context()).route = route
		h(w, r)
	})
}

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// route authenticates, authorizes and limits a request, then runs the
// route's handler and answers the error it returns.
func (s *Server) route(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := info(r.Context())
		in.route = rt.Path
		fail := func(e *Error) {
			in.cause = e
			writeError(w, e)
		}
		p, err := s.tokens.Authenticate(r.Context(), bearer(r))
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			fail(&Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
				Message: "a valid token is required: Authorization: Bearer <token>"})
			return
		case err != nil:
			s.metrics.storeError("authenticate")
			fail(storeError("check the token", err))
			return
		}
		in.principal = p.Name
		if err := p.Authorize(rt.Permission); err != nil {
			fail(&Error{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: fmt.Sprintf("%s %s needs the role %s; the token of %s has the role %s",
					rt.Method, rt.Path, strings.Join(rt.Roles, " or "), p.Name, p.Role)})
			return
		}
		if err := checkNames(r); err != nil {
			fail(err)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		}
		if err := rt.h(w, r, p); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error", Cause: err}
			}
			if e.Status == http.StatusServiceUnavailable {
				s.metrics.storeError(rt.Path)
			}
			fail(e)
		}
	})
}

// checkNames refuses a request whose path {id} (a release, decision,
// violation or token id) or whose release, service or environment query
// parameter is not a name (schemas.CheckName), or whose commit query
// parameter is not a commit: such an id is never looked
// up, recorded or echoed as if it could be one.
func checkNames(r *http.Request) *Error {
	if id := r.PathValue("id"); id != "" {
		if err := schemas.CheckName("path {id}", id); err != nil {
			return badRequest("%v", err)
		}
	}
	q := r.URL.Query()
	for _, k := range []string{"release", "service", "environment"} {
		for _, v := range q[k] {
			if err := schemas.CheckName("query parameter "+k, v); v != "" && err != nil {
				return badRequest("%v", err)
			}
		}
	}
	for _, v := range q["commit"] {
		if err := schemas.CheckCommit("query parameter commit", v); v != "" && err != nil {
			return badRequest("%v", err)
		}
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

// readyz answers 200 only when the store answers a real query.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.metrics.storeError("readyz")
		info(r.Context()).cause = err
		writeError(w, storeError("ready", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Timeouts of the HTTP server.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// once shutdown starts.
	ShutdownTimeout = 30 * time.Second
)

// Serve answers requests on ln until ctx is done, then stops accepting and
// waits for the requests in flight (decisions being recorded included) to
// be answered, up to ShutdownTimeout. Request contexts are not cancelled by
// ctx: a decision under way is finished, recorded and answered.
// Meanwhile, with a SweepInterval, it sweeps the ledger (Sweep) at once and
// then every interval.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if every := s.cfg.SweepInterval; every > 0 {
		sctx, stop := context.WithCancel(ctx)
		swept := make(chan struct{})
		go func() { defer close(swept); s.sweepLoop(sctx, every) }()
		// A sweep under way when Serve returns finishes its write first.
		defer func() { stop(); <-swept }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing the requests in flight", slog.Duration("limit", ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// dashboard builds the web dashboard over the server's store, with the
// server's token check and approval rules.
func (s *Server) dashboard() (http.Handler, error) {
	key := s.cfg.SessionKey
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	return web.New(web.Config{
		Store: s.store,
		Authenticate: func(ctx context.Context, token string) (web.Principal, error) {
			p, err := s.tokens.Authenticate(ctx, token)
			return web.Principal{Name: p.Name, Role: p.Role}, err
		},
		Approve: func(ctx context.Context, p web.Principal, releaseID, note string) error {
			return s.Approve(ctx, auth.Principal{Name: p.Name, Role: p.Role}, releaseID, note)
		},
		SessionKey:    key,
		Now:           s.cfg.Clock,
		Validator:     s.cfg.Validator,
		SecureCookies: s.cfg.SecureCookies,
		Logger:        s.log,
	})
}
