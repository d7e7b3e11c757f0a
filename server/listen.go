package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
)

// ParseSessionKey reads a session key (Config.SessionKey) given in hex, as
// $SHIPGATE_SESSION_KEY holds it: at least 64 hex digits, or nothing (nil:
// a key per process).
func ParseSessionKey(h string) ([]byte, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) < 32 {
		return nil, errors.New("$SHIPGATE_SESSION_KEY: want at least 64 hex digits (32 bytes), e.g. from openssl rand -hex 32")
	}
	return b, nil
}

// StoreOf is db as a Store the server can serve from: one that keeps
// tokens besides the ledger.
func StoreOf(db any) (Store, error) {
	st, ok := db.(Store)
	if !ok {
		return nil, fmt.Errorf("the store %T cannot serve: it keeps no tokens", db)
	}
	return st, nil
}

// ListenAndServe listens on addr (host:port; port 0 picks a free one),
// logs the address it got with the policy set it serves (named policy)
// and the server's signing key id, and serves until ctx ends (Serve).
func (s *Server) ListenAndServe(ctx context.Context, addr, policy, signingKey string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("policy", policy),
		slog.String("policyRevision", s.cfg.Engine.Revision()), slog.String("version", s.cfg.Version),
		slog.Duration("sweepInterval", s.cfg.SweepInterval), slog.String("signingKey", signingKey))
	return s.Serve(ctx, ln)
}
