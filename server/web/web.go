package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
)

// Store is the read side of the ledger the dashboard shows; store/sqlite
// and store/postgres provide it.
type Store interface {
	// Evidence and Decisions return a release's records ("" for all), in
	// ledger order, bodies included.
	Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error)
	Decisions(ctx context.Context, releaseID string) ([]store.Decision, error)
	Decision(ctx context.Context, id string) (store.Decision, error)
	// EvidenceOfKinds returns a release's documents of the kinds given.
	EvidenceOfKinds(ctx context.Context, releaseID string, kinds ...string) ([]store.Evidence, error)
	Violations(ctx context.Context, f store.Filter) ([]store.Violation, error)
	// Releases summarizes every release for the lists, overdue at now.
	Releases(ctx context.Context, now time.Time) ([]store.ReleaseSummary, error)
}

// Principal is who a signed-in token speaks for.
type Principal struct {
	Name string
	Role string
}

// Config is what the dashboard needs. Store, Authenticate, Approve and
// SessionKey are required.
type Config struct {
	Store Store
	// Authenticate returns the principal an API token speaks for. An
	// unknown or revoked token is an error wrapping auth.ErrUnauthenticated;
	// any other error is a fault, and lets nobody in either.
	Authenticate func(ctx context.Context, token string) (Principal, error)
	// Approve records p's approval of the release's deploy, with note. A
	// refusal (p may not approve this release, e.g. they deployed it) is an
	// error wrapping auth.ErrForbidden, whose text is shown to p; an unknown
	// release wraps store.ErrNotFound. The dashboard itself lets only the
	// approver role ask.
	Approve func(ctx context.Context, p Principal, releaseID, note string) error
	// SessionKey seals the session cookies: at least 32 random bytes, the
	// same on every replica behind one address.
	SessionKey []byte
	// SessionTTL is how long a sign-in lasts; zero is 8 hours.
	SessionTTL time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Validator decodes recorded evidence for the checklist; nil compiles
	// the embedded schemas.
	Validator *evidence.Validator
	// SecureCookies marks cookies Secure even on plain HTTP requests: set it
	// behind a proxy that terminates TLS. Requests that arrive over TLS
	// always get Secure cookies.
	SecureCookies bool
	// Logger receives the causes of the errors pages show in short; nil
	// discards them.
	Logger *slog.Logger
}

// ContentSecurityPolicy is sent with every answer: nothing but this
// origin's stylesheet and images, no script at all, no framing, forms that
// post only here.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Limits on what a browser may send.
const (
	maxFormBytes = 64 << 10
	maxNoteRunes = 2000
	maxTokenLen  = 512
)

//go:embed templates static
var files embed.FS

// dashboard is the handler New returns.
type dashboard struct {
	cfg      Config
	seal     *sealer
	pages    map[string]*template.Template
	static   fs.FS
	mux      *http.ServeMux
	protect  *http.CrossOriginProtection
	guarded  http.Handler // mux behind protect
	log      *slog.Logger
	ttl      time.Duration
	validate *evidence.Validator
}

// New returns the dashboard's handler, to be mounted at "/".
func New(cfg Config) (http.Handler, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("web: no store")
	case cfg.Authenticate == nil:
		return nil, errors.New("web: no Authenticate")
	case cfg.Approve == nil:
		return nil, errors.New("web: no Approve")
	}
	seal, err := newSealer(cfg.SessionKey)
	if err != nil {
		return nil, err
	}
	d := &dashboard{cfg: cfg, seal: seal, log: cfg.Logger, ttl: cfg.SessionTTL, validate: cfg.Validator}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.ttl <= 0 {
		d.ttl = 8 * time.Hour
	}
	if d.validate == nil {
		reg, err := schemas.Compile()
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		d.validate = evidence.NewValidator(reg, evidence.DefaultLimits)
	}
	if d.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if d.static, err = fs.Sub(files, "static"); err != nil {
		return nil, err
	}
	d.protect = http.NewCrossOriginProtection()
	d.protect.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.fail(w, r, forbidden("This form was sent from another site, so it was refused.", nil))
	}))
	d.routes()
	d.guarded = d.protect.Handler(d.mux)
	return d, nil
}

func (d *dashboard) now() time.Time {
	if d.cfg.Now != nil {
		return d.cfg.Now()
	}
	return time.Now()
}

func (d *dashboard) routes() {
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", d.staticFiles()))
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, d.static, "favicon.svg")
	})
	m.Handle("GET /signin", d.handle(d.signInPage))
	m.Handle("POST /signin", d.handle(d.signIn))
	// Each page needs the permission of the API routes that answer the
	// same data (package auth), so a role sees here exactly what the API
	// shows it.
	m.Handle("POST /signout", d.signedIn("", d.signOut))
	m.Handle("GET /{$}", d.signedIn(auth.ReadLedger, d.releasesPage))
	m.Handle("GET /releases/{id}", d.signedIn(auth.ReadLedger, d.releasePage))
	m.Handle("POST /releases/{id}/approve", d.signedIn(auth.Approve, d.approve))
	m.Handle("GET /approvals", d.signedIn(auth.ReadLedger, d.approvalsPage))
	m.Handle("GET /violations", d.signedIn(auth.ReadLedger, d.violationsPage))
	m.Handle("GET /trends", d.signedIn(auth.ReadLedger, d.trendsPage))
	m.Handle("/", d.handle(func(w http.ResponseWriter, r *http.Request) error {
		return &pageError{Status: http.StatusNotFound, Message: "There is no such page."}
	}))
	d.mux = m
}

// ServeHTTP sets the security headers of every answer, then refuses a
// cross-origin request that changes state, then routes.
func (d *dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	// Pages show what one principal may see; only the static files are
	// cached (they say so themselves).
	h.Set("Cache-Control", "no-store")
	if d.secure(r) {
		h.Set("Strict-Transport-Security", "max-age=63072000")
	}
	d.guarded.ServeHTTP(w, r)
}

// staticFiles serves the embedded stylesheet and icon, never a directory
// listing.
func (d *dashboard) staticFiles() http.Handler {
	files := http.FileServerFS(d.static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			d.fail(w, r, &pageError{Status: http.StatusNotFound, Message: "There is no such page."})
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// pageError is a failure with what the browser is told; Err, the cause, is
// only logged.
type pageError struct {
	Status  int
	Message string
	Err     error
}

func (e *pageError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *pageError) Unwrap() error { return e.Err }

func forbidden(msg string, err error) *pageError {
	return &pageError{Status: http.StatusForbidden, Message: msg, Err: err}
}

func badRequest(msg string) *pageError {
	return &pageError{Status: http.StatusBadRequest, Message: msg}
}

// handle adapts a handler that returns an error.
func (d *dashboard) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			d.fail(w, r, err)
		}
	})
}

// fail answers with the error page: the status and message of a
// pageError, 500 and a generic message for anything else.
func (d *dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	pe := &pageError{}
	if !errors.As(err, &pe) {
		pe = &pageError{Status: http.StatusInternalServerError, Message: "Something went wrong reading the ledger; the cause is in the server's log.", Err: err}
	}
	level := slog.LevelInfo
	if pe.Status >= 500 {
		level = slog.LevelError
	}
	d.log.Log(r.Context(), level, "dashboard request failed", "method", r.Method, "path", r.URL.Path, "status", pe.Status, "error", err)
	v := &view{Title: http.StatusText(pe.Status), Data: pe}
	if s, ok := r.Context().Value(sessionKey{}).(*signedIn); ok {
		v.Principal, v.CSRF = &s.Principal, s.CSRF
	}
	d.render(w, r, pe.Status, "error.html", v)
}

// view is what every page template gets.
type view struct {
	Title     string
	Nav       string
	Principal *Principal
	CSRF      string
	Now       time.Time
	Flash     string
	Data      any
}

// render executes a page into a buffer first, so that a template error
// gives an error page, not half a page.
func (d *dashboard) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	if v.Now.IsZero() {
		v.Now = d.now().UTC()
	}
	var buf bytes.Buffer
	if err := d.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		d.log.Error("render dashboard page", "page", page, "error", err)
		buf.Reset()
		status = http.StatusInternalServerError
		buf.WriteString("<!doctype html><title>Error</title><p>The page could not be drawn; the cause is in the server's log.</p>")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// readForm parses a bounded urlencoded form.
func readForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &pageError{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("The form is larger than %d bytes.", maxFormBytes)}
		}
		return badRequest("The form could not be read.")
	}
	return nil
}

// localPath returns next when it is a path on this site, "/" otherwise, so
// that a sign-in link cannot send anyone elsewhere.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// cleanNote checks an approval note.
func cleanNote(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", badRequest("The note is not valid UTF-8.")
	}
	if n := utf8.RuneCountInString(s); n > maxNoteRunes {
		return "", badRequest(fmt.Sprintf("The note has %d characters; at most %d are kept.", n, maxNoteRunes))
	}
	return s, nil
}
