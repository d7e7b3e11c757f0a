package cmd

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/evidence"
)

func newEvidenceCmd(s Streams, g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "evidence",
		Short: "Record, check and inspect evidence documents",
	}
	c.AddCommand(newEvidenceAddCmd(s, g), newEvidenceValidateCmd(s), newEvidenceShowCmd(s), newEvidenceSignCmd(s))
	return c
}

type evidenceValidateOptions struct {
	Paths  []string
	Ev     EvidenceOptions
	Output OutputOptions
}

func newEvidenceValidateCmd(s Streams) *cobra.Command {
	o := &evidenceValidateOptions{}
	c := &cobra.Command{
		Use:   "validate FILE|DIR...",
		Short: "Validate evidence against its kind's schema; exit 2 if any is invalid",
		Example: `  shipgate evidence validate examples/localizevideos/evidence/allowed
  shipgate evidence validate examples/localizevideos/evidence/allowed/plan.json -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Paths = args
			return evidenceValidateRun(s, o)
		},
	}
	o.Ev.AddFlags(c.Flags())
	o.Output.AddFlags(c.Flags())
	return c
}

type validated struct {
	Source string                     `json:"source"`
	Kind   string                     `json:"kind,omitempty"`
	Digest string                     `json:"digest,omitempty"`
	Signed []string                   `json:"signedBy,omitempty"`
	Valid  bool                       `json:"valid"`
	Errors []evidence.ValidationError `json:"errors,omitempty"`
	Error  string                     `json:"error,omitempty"`
}

func evidenceValidateRun(s Streams, o *evidenceValidateOptions) error {
	if err := o.Output.validate(); err != nil {
		return err
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	// Each file is reported on its own, so that every invalid one in a
	// directory is named, not only the first.
	var results []validated
	bad := 0
	for _, p := range o.Paths {
		files, err := evidence.Files([]string{p})
		if err != nil {
			bad++
			results = append(results, validated{Source: p, Error: err.Error()})
			continue
		}
		for _, f := range files {
			d, err := v.LoadFile(f)
			if err == nil {
				results = append(results, validated{Source: d.Source, Kind: d.Kind, Digest: d.Digest, Signed: d.SignedBy, Valid: true})
				continue
			}
			bad++
			r := validated{Source: f}
			var ves evidence.ValidationErrors
			if errors.As(err, &ves) {
				r.Errors = ves
			} else {
				r.Error = err.Error()
			}
			results = append(results, r)
		}
	}
	if o.Output.Format == "json" {
		if err := writeJSON(s.Out, results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			switch {
			case r.Valid && len(r.Signed) > 0:
				fmt.Fprintf(s.Out, "ok      %-15s %s %s (signed by %s)\n", r.Kind, r.Digest, r.Source, strings.Join(r.Signed, ", "))
			case r.Valid:
				fmt.Fprintf(s.Out, "ok      %-15s %s %s\n", r.Kind, r.Digest, r.Source)
			case r.Errors != nil:
				for _, e := range r.Errors {
					fmt.Fprintf(s.Out, "invalid %s\n", e.Error())
				}
			default:
				fmt.Fprintf(s.Out, "invalid %s\n", r.Error)
			}
		}
	}
	if bad > 0 {
		return &exitError{code: ExitError, err: fmt.Errorf("%d of %d evidence files or paths invalid", bad, len(results)), silent: o.Output.Format == "json"}
	}
	return nil
}

type evidenceShowOptions struct {
	Path   string
	Ev     EvidenceOptions
	Output OutputOptions
}

func newEvidenceShowCmd(s Streams) *cobra.Command {
	o := &evidenceShowOptions{}
	c := &cobra.Command{
		Use:   "show FILE",
		Short: "Validate one evidence document and show its envelope, digest and data",
		Example: `  shipgate evidence show examples/localizevideos/evidence/allowed/plan.json
  shipgate evidence show examples/localizevideos/evidence/allowed/build.json -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Path = args[0]
			return evidenceShowRun(s, o)
		},
	}
	o.Ev.AddFlags(c.Flags())
	o.Output.AddFlags(c.Flags())
	return c
}

func evidenceShowRun(s Streams, o *evidenceShowOptions) error {
	if err := o.Output.validate(); err != nil {
		return err
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	d, err := v.LoadFile(o.Path)
	if err != nil {
		return err
	}
	if o.Output.Format == "json" {
		return writeJSON(s.Out, map[string]any{"source": d.Source, "digest": d.Digest, "signedBy": nonNilStrings(d.SignedBy), "document": d.Value})
	}
	fmt.Fprintf(s.Out, "kind:        %s\n", d.Kind)
	fmt.Fprintf(s.Out, "digest:      %s\n", d.Digest)
	fmt.Fprintf(s.Out, "release:     %s (%s/%s)\n", d.ReleaseID, d.Service, d.Environment)
	fmt.Fprintf(s.Out, "subject:     %s @ %s\n", d.Repository, d.Commit)
	fmt.Fprintf(s.Out, "collected:   %s by %s\n", d.CollectedAt.UTC().Format(time.RFC3339), d.Actor)
	if len(d.SignedBy) > 0 {
		fmt.Fprintf(s.Out, "signed by:   %s (DSSE, verified)\n", strings.Join(d.SignedBy, ", "))
	} else {
		fmt.Fprintf(s.Out, "signed by:   nobody (a bare document)\n")
	}
	fmt.Fprintf(s.Out, "data:\n")
	return writeJSON(s.Out, d.Value["data"])
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
