package ledger

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Checkpoint is a signed statement of the ledger's head. Kept outside the
// database, it lets Verify detect a truncated tail or a restored older copy,
// which a hash chain alone cannot.
type Checkpoint struct {
	Origin    string    `json:"origin"`
	Size      int64     `json:"size"`
	Root      string    `json:"root"`
	Head      string    `json:"head"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"keyId"`
	Signature string    `json:"signature"`
}

func (c Checkpoint) signed() []byte {
	return []byte("shipgate-checkpoint/v1\n" + c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" +
		c.Root + "\n" + c.Head + "\n" + c.Time.UTC().Format(time.RFC3339Nano) + "\n")
}

// NewCheckpoint signs h for the ledger named origin.
func NewCheckpoint(origin string, h Head, at time.Time, key ed25519.PrivateKey) Checkpoint {
	c := Checkpoint{Origin: origin, Size: h.Size, Root: h.Root, Head: h.Hash, Time: at.UTC(),
		KeyID: KeyID(key.Public().(ed25519.PublicKey))}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.signed()))
	return c
}

// ErrBadSignature means a checkpoint was not signed by the given key.
var ErrBadSignature = errors.New("checkpoint signature does not verify")

// Verify checks the signature with pub.
func (c Checkpoint) Verify(pub ed25519.PublicKey) error {
	if c.KeyID != KeyID(pub) {
		return fmt.Errorf("%w: signed by key %s, not %s", ErrBadSignature, c.KeyID, KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(pub, c.signed(), sig) {
		return ErrBadSignature
	}
	return nil
}

// KeyID names a public key: "ed25519:" and the first 16 hex characters of
// the SHA-256 of the key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// GenerateKey returns a new key pair as PEM: PKCS #8 private, PKIX public.
func GenerateKey() (privPEM, pubPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	px, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: px}), nil
}

// ParsePrivateKey reads a PEM PKCS #8 ed25519 private key.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("private key: want a PEM \"PRIVATE KEY\" block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key: want ed25519, got %T", k)
	}
	return ek, nil
}

// ParsePublicKey reads a PEM PKIX ed25519 public key; a private key is
// accepted too and its public half returned.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("public key: want a PEM block")
	}
	if blk.Type == "PRIVATE KEY" {
		k, err := ParsePrivateKey(b)
		if err != nil {
			return nil, err
		}
		return k.Public().(ed25519.PublicKey), nil
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key: want ed25519, got %T", k)
	}
	return ek, nil
}
