package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/schemas"
)

// leafOptions are the options of a command a user runs (one without
// subcommands): they bind the command's flags, then run it with its
// arguments.
type leafOptions interface {
	// flags binds the options to c's flags and marks the required ones.
	flags(c *cobra.Command, g *options.Globals)
	// run runs the command with its positional arguments, checked by the
	// command's Args.
	run(ctx context.Context, s Streams, g *options.Globals, args []string) error
}

// leaf builds the command use that takes args, parses its flags into o
// and runs o.
func leaf(s Streams, g *options.Globals, use string, args cobra.PositionalArgs, o leafOptions) *cobra.Command {
	c := &cobra.Command{
		Use:  use,
		Args: args,
		RunE: func(c *cobra.Command, args []string) error {
			return o.run(c.Context(), s, g, args)
		},
	}
	o.flags(c, g)
	return c
}

// group is a command that only holds its subcommands (shipgate audit,
// shipgate token, ...).
func group(use string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use}
	c.AddCommand(subs...)
	return c
}

// required marks the flags of c that a command line must give.
func required(c *cobra.Command, names ...string) {
	for _, n := range names {
		_ = c.MarkFlagRequired(n)
	}
}

// nameArgs takes exactly one argument, a name (what it is names it in the
// error).
func nameArgs(what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(1)(c, args); err != nil {
			return err
		}
		return schemas.CheckName(what, args[0])
	}
}

// optionalDir sets *dir to the optional [DIR] argument, when given.
func optionalDir(dir *string, args []string) {
	if len(args) == 1 {
		*dir = args[0]
	}
}
