package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/internal/timespec"
	"github.com/localizevideos/shipgate/report"
)

// auditReportOptions are the flags of `shipgate audit report`.
type auditReportOptions struct {
	Since, Until         timespec.Value
	Service, Environment string
	Format               string
	Out                  string
	Checkpoint           string
	PublicKey            string
	Store                options.Store
	Policy               options.Policy
	Ev                   options.Evidence
}

func (o *auditReportOptions) flags(c *cobra.Command, g *options.Globals) {
	f := c.Flags()
	timespec.Var(f, &o.Since, "since", "the start of the period, included (required): "+timespec.Help)
	timespec.Var(f, &o.Until, "until", "the end of the period; a date includes that day, any other time is excluded (required): "+timespec.Help)
	options.NameVar(f, &o.Service, "service", "", "only this service's releases")
	options.NameVar(f, &o.Environment, "environment", "", "only this environment's releases")
	f.StringVar(&o.Format, "format", "", "report format: "+strings.Join(report.Formats, ", ")+" (required)")
	f.StringVar(&o.Out, "out", "", "write the report to FILE instead of stdout")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "signed checkpoint file to verify the ledger against")
	f.StringVar(&o.PublicKey, "public-key", "", "checkpoint public key (default: the config's, or "+project.CheckpointPublicKey+")")
	required(c, "since", "until", "format")
	o.Store.AddFlags(f, g)
	o.Policy.AddFlags(f, g)
	o.Ev.AddFlags(f)
}

func (o *auditReportOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	now := g.Clock()
	since, err := o.Since.Time(now)
	if err != nil {
		return err
	}
	until, err := o.Until.End(now)
	if err != nil {
		return err
	}
	if !until.After(since) {
		return fmt.Errorf("the period is empty: --until %s is not after --since %s", &o.Until, &o.Since)
	}
	if !slices.Contains(report.Formats, o.Format) {
		return fmt.Errorf("--format %q: want one of %s", o.Format, strings.Join(report.Formats, ", "))
	}
	rep, err := project.AuditReport{Options: report.Options{Since: since, Until: until, Service: o.Service, Environment: o.Environment, Now: now},
		CheckpointFile: o.Checkpoint, PublicKey: o.PublicKey, Policy: &o.Policy.Policy, Ev: &o.Ev.Evidence, Store: &o.Store.Store}.Build(ctx)
	if err != nil {
		return err
	}
	err = writeOut(s, o.Out, func(w io.Writer) error { return report.Write(w, rep, o.Format) },
		func() string {
			return fmt.Sprintf("audit report of %d releases written to %s", len(rep.Releases), o.Out)
		})
	if err != nil {
		return err
	}
	if ierr := rep.Integrity.Err; ierr != nil {
		return ledgerExit(fmt.Errorf("the report states it at the top: %w", ierr))
	}
	return nil
}
