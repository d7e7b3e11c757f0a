package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auth"
	"github.com/localizevideos/shipgate/store/sqlite"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestCreateAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tokens := &auth.Tokens{Store: db, Clock: func() time.Time { return at }}
	secret, tok, err := tokens.Create(ctx, "alice", auth.RoleApprover, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^sgt_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
		t.Errorf("secret %q; want sgt_ and 43 base64url characters (32 bytes)", secret)
	}
	if tok.Hash != auth.Hash(secret) || strings.Contains(tok.Hash, secret) || !tok.CreatedAt.Equal(at) || tok.CreatedBy != "ops" {
		t.Errorf("stored token %+v; want the hash of the secret, never the secret", tok)
	}
	p, err := tokens.Authenticate(ctx, secret)
	if err != nil || p != (auth.Principal{Name: "alice", Role: auth.RoleApprover, TokenID: tok.ID}) {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	other, _, err := tokens.Create(ctx, "alice", auth.RoleApprover, "ops")
	if err != nil || other == secret {
		t.Fatalf("a second token: %v (same secret: %t)", err, other == secret)
	}
	for _, bad := range []string{"", "sgt_", secret + "x", secret[:len(secret)-1], strings.ToUpper(secret), auth.Hash(secret)} {
		if p, err := tokens.Authenticate(ctx, bad); !errors.Is(err, auth.ErrUnauthenticated) || p != (auth.Principal{}) {
			t.Errorf("Authenticate(%q) = %+v, %v; want ErrUnauthenticated", bad, p, err)
		}
	}
	if _, err := tokens.Revoke(ctx, tok.ID, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Authenticate(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("Authenticate(revoked) = %v; want ErrUnauthenticated", err)
	}
	if _, err := tokens.Authenticate(ctx, other); err != nil {
		t.Errorf("the other token was revoked too: %v", err)
	}
}

func TestCreateRefuses(t *testing.T) {
	tokens := auth.New(open(t))
	for _, c := range []struct{ name, role string }{
		{"x", "root"}, {"x", ""}, {"x", "Admin"}, {"", "admin"}, {" alice", "admin"}, {"alice ", "admin"}, {strings.Repeat("a", 201), "admin"},
	} {
		if _, _, err := tokens.Create(context.Background(), c.name, c.role, "ops"); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("Create(%q, %q) = %v; want ErrInvalid", c.name, c.role, err)
		}
	}
	list, err := tokens.List(context.Background())
	if err != nil || len(list) != 0 {
		t.Errorf("List = %v, %v; want nothing created", list, err)
	}
}

// A store that cannot be read is an error, never a principal, and not
// ErrUnauthenticated either (the server answers 503, not 401).
func TestAuthenticateStoreDown(t *testing.T) {
	db := open(t)
	tokens := auth.New(db)
	secret, _, err := tokens.Create(context.Background(), "ci", auth.RolePipeline, "ops")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	p, err := tokens.Authenticate(context.Background(), secret)
	if err == nil || errors.Is(err, auth.ErrUnauthenticated) || p != (auth.Principal{}) {
		t.Errorf("Authenticate with the store closed = %+v, %v; want a store error", p, err)
	}
}

func TestPrincipalHas(t *testing.T) {
	p := auth.Principal{Name: "x", Role: auth.RoleAdmin}
	if p.Has(auth.RolePipeline, auth.RoleApprover, auth.RoleAuditor) {
		t.Error("admin has another role; roles are exact")
	}
	if !p.Has(auth.RoleAdmin) || (auth.Principal{}).Has(auth.Roles...) {
		t.Error("Has is wrong")
	}
}
