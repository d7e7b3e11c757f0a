package cmd_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/cmd"
)

// commandTree is the whole command tree as a user meets it: cobra adds its
// help and completion commands and the --help and --version flags only
// when the command line is executed, so they are added here too.
func commandTree() *cobra.Command {
	root := cmd.NewRoot(cmd.Streams{})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.InitDefaultVersionFlag()
	walkCommands(root, func(c *cobra.Command) { c.InitDefaultHelpFlag() })
	return root
}

// walkCommands calls fn on c and every command below it.
func walkCommands(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walkCommands(sub, fn)
	}
}

// TestShorthandsMeanOneThing lists every flag of every command and fails
// when a one-letter shorthand stands for two different flags anywhere in
// the tree: -x must mean the same in every command a user types it in.
func TestShorthandsMeanOneThing(t *testing.T) {
	type use struct{ flag, command string }
	uses := map[string][]use{}
	walkCommands(commandTree(), func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			if f.Shorthand != "" {
				uses[f.Shorthand] = append(uses[f.Shorthand], use{f.Name, c.CommandPath()})
			}
		}
		c.LocalFlags().VisitAll(visit)
		c.InheritedFlags().VisitAll(visit)
	})
	for short, us := range uses {
		names := map[string][]string{}
		for _, u := range us {
			names[u.flag] = append(names[u.flag], u.command)
		}
		if len(names) > 1 {
			var meanings []string
			for name, cmds := range names {
				meanings = append(meanings, fmt.Sprintf("--%s in %s", name, strings.Join(cmds, ", ")))
			}
			slices.Sort(meanings)
			t.Errorf("-%s has %d meanings: %s", short, len(meanings), strings.Join(meanings, "; "))
		}
	}
	// The choice made: -v is --verbose (as in opa test -v); --version has
	// no shorthand, so cobra cannot give it -v back.
	for _, u := range uses["v"] {
		if u.flag != "verbose" {
			t.Errorf("-v is --%s in %s; want --verbose only", u.flag, u.command)
		}
	}
	if f := commandTree().Flags().Lookup("version"); f == nil || f.Shorthand != "" {
		t.Errorf("shipgate --version = %+v; want a flag without a shorthand", f)
	}
}

// TestEveryLeafHasExample fails for a command a user runs (one without
// subcommands) whose --help shows no example. cobra's own help and
// completion commands are not shipgate's to document.
func TestEveryLeafHasExample(t *testing.T) {
	walkCommands(cmd.NewRoot(cmd.Streams{}), func(c *cobra.Command) {
		if !c.HasSubCommands() && strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no Example", c.CommandPath())
		}
	})
}
