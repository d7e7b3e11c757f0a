package cmd_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd"
	"github.com/localizevideos/shipgate/docs/cli"
)

// TestEveryCommandHasPage keeps the command-line reference (docs/cli) and
// the command tree together: every command has its page, every page names
// a command, and `shipgate CMD --help` shows the page's text.
func TestEveryCommandHasPage(t *testing.T) {
	pages, err := cli.Pages()
	if err != nil {
		t.Fatalf("cli.Pages() error: %v", err)
	}
	unused := map[string]bool{}
	for _, p := range pages {
		unused[p.Path] = true
	}
	walkCommands(cmd.NewRoot(cmd.Streams{}), func(c *cobra.Command) {
		path := c.CommandPath()
		p, ok, err := cli.Lookup(path)
		if err != nil || !ok {
			t.Errorf("%s: no page docs/cli/%s (%v)", path, cli.FileName(path), err)
			return
		}
		delete(unused, path)
		var out bytes.Buffer
		root := cmd.NewRoot(cmd.Streams{Out: &out, Err: &out})
		root.SetArgs(append(strings.Fields(path)[1:], "--help"))
		if err := root.Execute(); err != nil {
			t.Fatalf("%s --help: %v", path, err)
		}
		help := out.String()
		want := p.Long
		if want == "" {
			want = p.Short
		}
		if !strings.HasPrefix(help, want+"\n") {
			t.Errorf("%s --help starts %q; want the page's description %q", path, help[:min(len(help), 80)], want[:min(len(want), 80)])
		}
		if p.Example != "" && !strings.Contains(help, "Examples:\n"+p.Example+"\n") {
			t.Errorf("%s --help does not show the page's examples:\n%s", path, help)
		}
	})
	for path := range unused {
		t.Errorf("docs/cli/%s: no command %s", cli.FileName(path), path)
	}
}
