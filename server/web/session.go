package web

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/auth"
)

// Cookie names. The session cookie holds the token itself, sealed: the
// token is checked again on every request, so revoking it (or changing
// its role) takes effect at once, on every replica that shares the key.
const (
	sessionCookie = "shipgate_session"
	signInCookie  = "shipgate_signin"
	// signInTTL bounds how long a sign-in form stays usable.
	signInTTL = 15 * time.Minute
)

// sealer encrypts and authenticates cookie values with AES-256-GCM under a
// key derived from the configured session key.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("web: the session key has %d bytes; want at least 32 random bytes", len(key))
	}
	k, err := hkdf.Key(sha256.New, key, nil, "shipgate dashboard cookies v1", 32)
	if err != nil {
		return nil, fmt.Errorf("web: derive the cookie key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal returns v as a cookie value bound to the cookie's name.
func (s *sealer) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(name))), nil
}

// open reads a value seal made for the same cookie name; anything else,
// changed or made with another key, is an error.
func (s *sealer) open(name, value string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(b) < s.aead.NonceSize() {
		return errors.New("malformed cookie")
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(name))
	if err != nil {
		return errors.New("cookie not sealed by this server")
	}
	return json.Unmarshal(plain, v)
}

// session is what the session cookie holds.
type session struct {
	Token   string `json:"t"`
	CSRF    string `json:"c"`
	Expires int64  `json:"e"`
}

// signInState is what the sign-in form's cookie holds: the CSRF token of a
// visitor not yet signed in.
type signInState struct {
	CSRF    string `json:"c"`
	Expires int64  `json:"e"`
}

// signedIn is a request's verified session.
type signedIn struct {
	Principal
	CSRF string
}

type sessionKey struct{}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func (d *dashboard) secure(r *http.Request) bool { return r.TLS != nil || d.cfg.SecureCookies }

func (d *dashboard) setCookie(w http.ResponseWriter, r *http.Request, name, value string, expires time.Time) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: d.secure(r), SameSite: http.SameSiteStrictMode}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
		c.MaxAge = max(1, int(expires.Sub(d.now())/time.Second))
	}
	http.SetCookie(w, c)
}

// authenticate checks a token and its role: a role the dashboard does not
// know is refused like an unknown token. Errors wrapping
// auth.ErrUnauthenticated are the token's fault; others, the store's.
func (d *dashboard) authenticate(ctx context.Context, token string) (Principal, error) {
	p, err := d.cfg.Authenticate(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	if !slices.Contains(auth.Roles, p.Role) || p.Name == "" {
		return Principal{}, fmt.Errorf("token for %q has role %q: %w", p.Name, p.Role, auth.ErrUnauthenticated)
	}
	return p, nil
}

// session reads and checks the request's session: sealed by this server,
// not expired, its token still valid. No session is (nil, nil).
func (d *dashboard) session(r *http.Request) (*signedIn, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	var s session
	if err := d.seal.open(sessionCookie, c.Value, &s); err != nil {
		return nil, nil
	}
	if !d.now().Before(time.Unix(s.Expires, 0)) || s.CSRF == "" {
		return nil, nil
	}
	p, err := d.authenticate(r.Context(), s.Token)
	if errors.Is(err, auth.ErrUnauthenticated) {
		return nil, nil
	}
	if err != nil {
		return nil, &pageError{Status: http.StatusServiceUnavailable, Message: "Your sign-in could not be checked, so nothing is shown; the cause is in the server's log.", Err: err}
	}
	return &signedIn{Principal: p, CSRF: s.CSRF}, nil
}

// signedIn wraps a page that needs a session and, unless perm is empty,
// a role that holds perm (auth.Permission.Allows, as the API asks it).
// Without a session, a GET goes to the sign-in page and anything else is
// refused; without the permission, the page is a 403 that says why. A
// POST must carry the session's CSRF token.
func (d *dashboard) signedIn(perm auth.Permission, h func(http.ResponseWriter, *http.Request, *signedIn) error) http.Handler {
	return d.handle(func(w http.ResponseWriter, r *http.Request) error {
		s, err := d.session(r)
		if err != nil {
			return err
		}
		if s == nil {
			if _, err := r.Cookie(sessionCookie); err == nil {
				d.setCookie(w, r, sessionCookie, "", time.Time{})
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return nil
			}
			return &pageError{Status: http.StatusUnauthorized, Message: "You are not signed in, or your sign-in has ended: nothing was done. Sign in and try again."}
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
		if perm != "" && !perm.Allows(s.Role) {
			msg := fmt.Sprintf("You are signed in as %s with the %s role, which may not %s: that needs the role %s, here as in the API.",
				s.Name, s.Role, perm, strings.Join(perm.Roles(), " or "))
			if r.Method == http.MethodPost {
				msg += " Nothing was recorded."
			}
			// Failed here, with the session in r, so the page still
			// offers to sign out.
			d.fail(w, r, forbidden(msg, auth.ErrForbidden))
			return nil
		}
		if r.Method == http.MethodPost {
			if err := readForm(w, r); err != nil {
				return err
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.CSRF)) != 1 {
				return forbidden("This form is out of date or did not come from this dashboard, so nothing was done. Reload the page and try again.", errors.New("CSRF token missing or wrong"))
			}
		}
		return h(w, r, s)
	})
}

type signInView struct {
	Next    string
	Problem string
}

// signInPage shows the token form, with a fresh CSRF token bound to a
// short-lived cookie.
func (d *dashboard) signInPage(w http.ResponseWriter, r *http.Request) error {
	return d.showSignIn(w, r, http.StatusOK, localPath(r.URL.Query().Get("next")), "")
}

func (d *dashboard) showSignIn(w http.ResponseWriter, r *http.Request, status int, next, problem string) error {
	csrf, err := randomToken()
	if err != nil {
		return err
	}
	exp := d.now().Add(signInTTL)
	val, err := d.seal.seal(signInCookie, signInState{CSRF: csrf, Expires: exp.Unix()})
	if err != nil {
		return err
	}
	d.setCookie(w, r, signInCookie, val, exp)
	d.render(w, r, status, "signin.html", &view{Title: "Sign in", CSRF: csrf, Data: signInView{Next: next, Problem: problem}})
	return nil
}

// signIn checks the form's CSRF token against its cookie, then the token,
// and starts a session.
func (d *dashboard) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	next := localPath(r.PostForm.Get("next"))
	var st signInState
	c, err := r.Cookie(signInCookie)
	if err != nil || d.seal.open(signInCookie, c.Value, &st) != nil || !d.now().Before(time.Unix(st.Expires, 0)) ||
		subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(st.CSRF)) != 1 || st.CSRF == "" {
		d.log.Info("dashboard sign-in refused", "reason", "CSRF token missing, wrong or expired")
		return d.showSignIn(w, r, http.StatusForbidden, next, "The sign-in form had expired or did not come from this page. Enter your token again.")
	}
	token := r.PostForm.Get("token")
	if token == "" || len(token) > maxTokenLen {
		return d.showSignIn(w, r, http.StatusUnauthorized, next, "Enter an API token.")
	}
	p, err := d.authenticate(r.Context(), token)
	if errors.Is(err, auth.ErrUnauthenticated) {
		d.log.Info("dashboard sign-in refused", "reason", err)
		return d.showSignIn(w, r, http.StatusUnauthorized, next, "That token was not accepted: it is unknown or revoked.")
	}
	if err != nil {
		d.log.Error("dashboard sign-in failed", "error", err)
		return d.showSignIn(w, r, http.StatusServiceUnavailable, next, "Tokens cannot be checked right now, so nobody can sign in; the cause is in the server's log.")
	}
	csrf, err := randomToken()
	if err != nil {
		return err
	}
	exp := d.now().Add(d.ttl)
	val, err := d.seal.seal(sessionCookie, session{Token: token, CSRF: csrf, Expires: exp.Unix()})
	if err != nil {
		return err
	}
	d.setCookie(w, r, signInCookie, "", time.Time{})
	d.setCookie(w, r, sessionCookie, val, exp)
	d.log.Info("dashboard sign-in", "name", p.Name, "role", p.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// signOut ends the session in this browser.
func (d *dashboard) signOut(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	d.setCookie(w, r, sessionCookie, "", time.Time{})
	d.log.Info("dashboard sign-out", "name", s.Name)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}
