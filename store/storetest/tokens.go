package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/store"
)

// TokenStore is the store contract, as RunTokens takes it.
type TokenStore = store.Store

// RunTokens is the token behaviour every store must have; open is as for
// Run.
func RunTokens(t *testing.T, open func(t *testing.T) TokenStore) {
	ctx := context.Background()
	hash := func(c byte) string {
		b := make([]byte, 64)
		for i := range b {
			b[i] = c
		}
		return "sha256:" + string(b)
	}
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		a := store.Token{ID: "tok_a", Name: "ci-bot", Role: "pipeline", Hash: hash('a'), CreatedAt: T0, CreatedBy: "root"}
		b := store.Token{ID: "tok_b", Name: "alice", Role: "approver", Hash: hash('b'), CreatedAt: T0.Add(time.Second), CreatedBy: "root"}
		for _, tok := range []store.Token{a, b} {
			if err := s.CreateToken(ctx, tok); err != nil {
				t.Fatalf("CreateToken(%s) = %v", tok.ID, err)
			}
		}
		got, err := s.TokenByHash(ctx, hash('b'))
		if err != nil {
			t.Fatalf("TokenByHash = %v", err)
		}
		if d := cmp.Diff(b, got); d != "" {
			t.Errorf("TokenByHash (-want +got):\n%s", d)
		}
		if _, err := s.TokenByHash(ctx, hash('c')); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TokenByHash(unknown) = %v; want ErrNotFound", err)
		}
		list, err := s.Tokens(ctx)
		if err != nil {
			t.Fatalf("Tokens = %v", err)
		}
		if d := cmp.Diff([]store.Token{a, b}, list); d != "" {
			t.Errorf("Tokens (-want +got):\n%s", d)
		}
		// Tokens stay out of the ledger's chain.
		if n, err := s.Len(ctx); err != nil || n != 0 {
			t.Errorf("Len = %d, %v; want 0 entries", n, err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping = %v", err)
		}
	})
	t.Run("Duplicate", func(t *testing.T) {
		s := open(t)
		a := store.Token{ID: "tok_a", Name: "ci-bot", Role: "pipeline", Hash: hash('a'), CreatedAt: T0, CreatedBy: "root"}
		if err := s.CreateToken(ctx, a); err != nil {
			t.Fatal(err)
		}
		sameHash := a
		sameHash.ID = "tok_other"
		sameID := a
		sameID.Hash = hash('z')
		for _, tok := range []store.Token{sameHash, sameID} {
			if err := s.CreateToken(ctx, tok); !errors.Is(err, store.ErrDuplicate) {
				t.Errorf("CreateToken(%s, %s) = %v; want ErrDuplicate", tok.ID, tok.Hash, err)
			}
		}
		bad := store.Token{ID: "tok_bad", Name: "x", Role: "root", Hash: hash('r'), CreatedAt: T0, CreatedBy: "root"}
		if err := s.CreateToken(ctx, bad); err == nil {
			t.Errorf("CreateToken(role root) = nil; want the store to refuse an unknown role")
		}
	})
	t.Run("Revoke", func(t *testing.T) {
		s := open(t)
		a := store.Token{ID: "tok_a", Name: "ci-bot", Role: "pipeline", Hash: hash('a'), CreatedAt: T0, CreatedBy: "root"}
		if err := s.CreateToken(ctx, a); err != nil {
			t.Fatal(err)
		}
		at := T0.Add(time.Hour)
		got, err := s.RevokeToken(ctx, "tok_a", "admin-1", at)
		if err != nil {
			t.Fatalf("RevokeToken = %v", err)
		}
		want := a
		want.RevokedAt, want.RevokedBy = at, "admin-1"
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("RevokeToken (-want +got):\n%s", d)
		}
		if got.Active() {
			t.Errorf("revoked token is Active")
		}
		if _, err := s.RevokeToken(ctx, "tok_a", "admin-2", at.Add(time.Hour)); !errors.Is(err, store.ErrRevoked) {
			t.Errorf("RevokeToken twice = %v; want ErrRevoked", err)
		}
		if again, err := s.TokenByHash(ctx, hash('a')); err != nil || !again.RevokedAt.Equal(at) || again.RevokedBy != "admin-1" {
			t.Errorf("after a second revoke: %+v, %v; want the first revocation kept", again, err)
		}
		if _, err := s.RevokeToken(ctx, "tok_none", "admin-1", at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeToken(unknown) = %v; want ErrNotFound", err)
		}
	})
	t.Run("SharedAcrossHandles", func(t *testing.T) {
		s1 := open(t)
		s2 := open(t)
		a := store.Token{ID: "tok_a", Name: "ci-bot", Role: "pipeline", Hash: hash('a'), CreatedAt: T0, CreatedBy: "root"}
		if err := s1.CreateToken(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s2.TokenByHash(ctx, a.Hash); err != nil {
			t.Errorf("another handle: TokenByHash = %v", err)
		}
	})
}
