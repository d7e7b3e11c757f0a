// Package auth is who may call shipgate's server: API tokens and the roles
// they carry.
//
// A token is 32 random bytes, shown once when created ("sgt_" and 43
// base64url characters) and stored only as its SHA-256. A presented token is
// hashed and looked up by that hash, and the stored hash compared in
// constant time, so neither the store nor the timing of an answer reveals a
// secret.
//
// Roles are exact and none implies another (separation of duties):
// pipeline ingests evidence and asks gates; approver approves and
// overrides releases and reads; auditor reads, exports and verifies the
// ledger; admin manages tokens and nothing else. Whoever needs two roles
// holds two tokens.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
)

// Roles.
const (
	RolePipeline = "pipeline"
	RoleApprover = "approver"
	RoleAuditor  = "auditor"
	RoleAdmin    = "admin"
)

// Roles lists every role.
var Roles = []string{RolePipeline, RoleApprover, RoleAuditor, RoleAdmin}

// Principal is who a token speaks for: its name (the person or pipeline,
// compared with evidence actors, as in a four-eyes check) and role.
type Principal struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	TokenID string `json:"tokenId"`
}

// Has reports whether p holds one of roles.
func (p Principal) Has(roles ...string) bool { return slices.Contains(roles, p.Role) }

// Errors callers branch on.
var (
	// ErrUnauthenticated: no token, an unknown one, or a revoked one.
	ErrUnauthenticated = errors.New("invalid or revoked token")
	// ErrForbidden: a valid token whose role may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid: a role or name that cannot be given to a token.
	ErrInvalid = errors.New("invalid")
)

// Store keeps tokens; store/sqlite and store/postgres provide it.
type Store interface {
	CreateToken(ctx context.Context, t store.Token) error
	TokenByHash(ctx context.Context, hash string) (store.Token, error)
	Tokens(ctx context.Context) ([]store.Token, error)
	RevokeToken(ctx context.Context, id, by string, at time.Time) (store.Token, error)
}

// Tokens creates, checks and revokes tokens in one store.
type Tokens struct {
	Store Store
	// Clock stamps creation and revocation; nil is time.Now.
	Clock func() time.Time
	// NewID names a new token ("tok" is the prefix); nil is "tok_" and 16
	// random hex digits.
	NewID func(prefix string, now time.Time) string
}

// New returns Tokens over s.
func New(s Store) *Tokens { return &Tokens{Store: s} }

func (t *Tokens) now() time.Time {
	if t.Clock != nil {
		return t.Clock()
	}
	return time.Now()
}

func (t *Tokens) newID(now time.Time) (string, error) {
	if t.NewID != nil {
		return t.NewID("tok", now), nil
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	return "tok_" + hex.EncodeToString(id[:]), nil
}

// secretPrefix marks shipgate tokens, so that secret scanners can find them.
const secretPrefix = "sgt_"

// Hash returns the stored form of a secret: "sha256:" and 64 hex digits.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckRole returns an error naming the roles unless role is one.
func CheckRole(role string) error {
	if !slices.Contains(Roles, role) {
		return fmt.Errorf("%w role %q: want one of %s", ErrInvalid, role, strings.Join(Roles, ", "))
	}
	return nil
}

// Create makes a token for name with role, recorded as created by by, and
// returns the secret (shown this once; only its hash is stored) and the
// token as stored.
func (t *Tokens) Create(ctx context.Context, name, role, by string) (string, store.Token, error) {
	if err := CheckRole(role); err != nil {
		return "", store.Token{}, err
	}
	// A token's name is who acts: the grammar of a person in evidence.
	if err := schemas.CheckPerson("name", name); err != nil {
		return "", store.Token{}, fmt.Errorf("%w %v", ErrInvalid, err)
	}
	if by == "" {
		return "", store.Token{}, errors.New("create token: no creator")
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", store.Token{}, fmt.Errorf("create token: %w", err)
	}
	secret := secretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	now := t.now().UTC()
	id, err := t.newID(now)
	if err != nil {
		return "", store.Token{}, fmt.Errorf("create token: %w", err)
	}
	tok := store.Token{ID: id, Name: name, Role: role, Hash: Hash(secret), CreatedAt: now, CreatedBy: by}
	if err := t.Store.CreateToken(ctx, tok); err != nil {
		return "", store.Token{}, err
	}
	return secret, tok, nil
}

// Authenticate returns the principal an active token speaks for. An empty,
// unknown or revoked token is ErrUnauthenticated; a store that cannot be
// read is another error, which must not be read as success either.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if secret == "" {
		return Principal{}, ErrUnauthenticated
	}
	h := Hash(secret)
	tok, err := t.Store.TokenByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(h)) != 1 || !tok.Active() {
		return Principal{}, ErrUnauthenticated
	}
	if err := CheckRole(tok.Role); err != nil {
		return Principal{}, fmt.Errorf("token %s: %w", tok.ID, err)
	}
	return Principal{Name: tok.Name, Role: tok.Role, TokenID: tok.ID}, nil
}

// List returns every token, revoked ones included.
func (t *Tokens) List(ctx context.Context) ([]store.Token, error) { return t.Store.Tokens(ctx) }

// Revoke revokes the token id, by the principal named by.
func (t *Tokens) Revoke(ctx context.Context, id, by string) (store.Token, error) {
	return t.Store.RevokeToken(ctx, id, by, t.now().UTC())
}

// StoreOf is db's token table: db must keep tokens (Store).
func StoreOf(db any) (Store, error) {
	ts, ok := db.(Store)
	if !ok {
		return nil, fmt.Errorf("the store %T keeps no tokens", db)
	}
	return ts, nil
}
