package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/internal/project"
)

func newInitCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &project.InitOptions{}
	c := &cobra.Command{
		Use:  "init",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := initRun(s, g, o); err != nil {
				return err
			}
			db, err := project.OpenStore(c.Context(), project.DefaultStore)
			if err != nil {
				return err
			}
			return db.Close()
		},
	}
	options.NameVar(c.Flags(), &o.Service, "service", "", "the service this repository releases")
	options.NameVar(c.Flags(), &o.Environment, "environment", "production", "the environment it releases to")
	c.Flags().StringSliceVar(&o.Approvers, "approver", nil, "make a signing key for this approver and bind it to them in shipgate.yaml (repeatable)")
	c.Flags().BoolVar(&o.Force, "force", false, "overwrite an existing configuration and keys")
	c.Flags().StringVar(&o.KeyDir, "key-dir", "", "write the checkpoint key pair to DIR (default: "+project.KeyDir+"); shipgate.yaml names it")
	return c
}

// initRun writes the keys and shipgate.yaml.
func initRun(s Streams, g *options.Globals, o *project.InitOptions) error {
	o.Config = g.ConfigPath
	done, err := project.Init(*o)
	if err != nil {
		return err
	}
	var approvers string
	if len(o.Approvers) > 0 {
		approvers = fmt.Sprintf(", and a signing key for %s", strings.Join(o.Approvers, ", "))
	}
	_, err = fmt.Fprintf(s.Out, "wrote %s, %s, %s and %s, the evidence signing key %s%s\n",
		done.Config, project.DefaultStore, done.CheckpointKey, done.CheckpointPublicKey, project.EvidenceKey, approvers)
	return err
}
