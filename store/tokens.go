package store

import (
	"errors"
	"fmt"
	"time"
)

// Token is an API token as a store keeps it: never the secret, only its
// SHA-256 (Hash, "sha256:" and 64 hex digits). A token is never deleted:
// revoking it stamps RevokedAt and RevokedBy, so the table answers who
// could act, with which role, and when.
type Token struct {
	ID        string
	Name      string
	Role      string
	Hash      string
	CreatedAt time.Time
	CreatedBy string
	// RevokedAt is zero while the token is active.
	RevokedAt time.Time
	RevokedBy string
}

// Active reports whether t has not been revoked.
func (t Token) Active() bool { return t.RevokedAt.IsZero() }

// CheckNew reports what keeps t from being created: every field but the
// revocation is required, and a token is created active.
func (t Token) CheckNew() error {
	if t.ID == "" || t.Name == "" || t.Role == "" || t.Hash == "" || t.CreatedAt.IsZero() || t.CreatedBy == "" {
		return fmt.Errorf("create token %q: id, name, role, hash, creation time and creator are required", t.ID)
	}
	if !t.Active() {
		return fmt.Errorf("create token %s: a token is created active", t.ID)
	}
	return nil
}

// ErrRevoked is returned when revoking a token that is revoked already.
var ErrRevoked = errors.New("already revoked")
