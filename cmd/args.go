package cmd

import (
	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/schemas"
)

// group is a command that only holds its subcommands (shipgate audit,
// shipgate token, ...).
func group(use string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use}
	c.AddCommand(subs...)
	return c
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
