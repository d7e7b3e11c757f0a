package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/localizevideos/shipgate/gate"
)

// SweepActor is who the server's periodic sweeps are recorded as.
const SweepActor = "shipgate-server"

// Sweep sweeps every service's deploys once (gate.Sweep), at the server's
// clock, and logs each violation it opens, and any error, before
// returning them. Several servers sharing a store may sweep at once: each
// deploy's violation is still opened once.
func (s *Server) Sweep(ctx context.Context) ([]gate.Skipped, error) {
	found, err := s.gate.Sweep(ctx, gate.SweepRequest{Actor: SweepActor, Now: s.now()})
	for _, k := range found {
		s.log.Warn("sweep opened a violation", slog.String("violation", k.Violation), slog.String("rule", gate.RuleSkippedSmokeTests),
			slog.String("release", k.Release.ID), slog.String("service", k.Release.Service), slog.String("environment", k.Release.Environment),
			slog.String("deploy", k.Deploy), slog.String("decision", k.Decision), slog.String("message", k.Message))
	}
	if err != nil {
		s.metrics.storeError("sweep")
		s.log.Error("sweep", slog.String("error", err.Error()))
	}
	return found, err
}

// sweepLoop sweeps at once, then every interval, until ctx is done. A
// sweep under way then is finished (its writes are short transactions), not
// cut off half recorded.
func (s *Server) sweepLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_, _ = s.Sweep(context.WithoutCancel(ctx))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
