package cmd

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/internal/inputfile"
)

type policyFmtOptions struct {
	Dir   string
	Check bool
	g     *globals
}

func newPolicyFmtCmd(s Streams, g *globals) *cobra.Command {
	o := &policyFmtOptions{g: g}
	c := &cobra.Command{
		Use:   "fmt [DIR] [--check]",
		Short: "Format every .rego file with OPA's formatter; --check lists those that would change and exits 1",
		Long: `Format every .rego file under DIR (default: the config's policies, or
./policies) in place with OPA's formatter (what opa fmt does), and list the
files it changed. With --check nothing is written: the files that would
change are listed and the command exits 1 if there are any.`,
		Example: `  shipgate policy fmt --check
  shipgate policy fmt policies/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Dir = args[0]
			}
			return policyFmtRun(s, o)
		},
	}
	c.Flags().BoolVar(&o.Check, "check", false, "write nothing; list the files that need formatting and exit 1 if any")
	return c
}

func policyFmtRun(s Streams, o *policyFmtOptions) error {
	dir := o.Dir
	if dir == "" {
		cfg, err := o.g.config()
		if err != nil {
			return err
		}
		if dir = cfg.Policies; dir == "" {
			dir = "policies"
		}
	}
	var changed []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		src, err := inputfile.Read(p, maxDataBytes)
		if err != nil {
			return err
		}
		out, err := format.SourceWithOpts(p, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			return fmt.Errorf("format %s: %w", p, err)
		}
		if string(out) == string(src) {
			return nil
		}
		changed = append(changed, p)
		if o.Check {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(p, out, info.Mode().Perm())
	})
	if err != nil {
		return err
	}
	for _, p := range changed {
		if _, err := fmt.Fprintln(s.Out, p); err != nil {
			return err
		}
	}
	if o.Check && len(changed) > 0 {
		return &exitError{code: ExitDeny, err: fmt.Errorf("%d policy files need formatting: run shipgate policy fmt %s", len(changed), dir)}
	}
	return nil
}
