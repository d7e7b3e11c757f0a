package cmd_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
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

// examplesScript runs the examples of every command's --help.
const examplesScript = "testdata/script/examples.txtar"

// notRun are the example lines examplesScript does not run, and why: each
// needs something a test cannot have.
var notRun = map[string]string{
	"shipgate collect error-budget --release lv-2026-11-26.1 --slo examples/localizevideos/slo.yaml":                                                                                                          "queries the Prometheus server slo.yaml names (127.0.0.1:9090)",
	"shipgate collect incidents --release lv-2026-11-26.1 --from https://status.localizevideos.com/api/v2/incidents.json --map examples/localizevideos/statuspage/incidents-map.yaml":                         "reads the live status page; the next example reads a saved answer of it and runs",
	"PM2_HOME=/srv/pm2 shipgate reconcile pm2 --app localizevideos-app --service localizevideos-app --environment production":                                                                                 "asks PM2 for the running app",
	"shipgate reconcile pm2 --app localizevideos-app --pm2 ./node_modules/.bin/pm2 -o json":                                                                                                                   "asks PM2 for the running app",
	"shipgate rollback --release lv-2026-11-26.2 --dir /srv/localizevideos/app":                                                                                                                               "checks out, rebuilds and restarts (PM2) the app in its production checkout",
	"shipgate rollback --release lv-2026-11-26.2 --dir /srv/localizevideos/app --emergency --flag new-session-store":                                                                                          "edits the flags of, and restarts (PM2), the app in its production checkout",
	"shipgate run build --release lv-2026-11-26.1 -- npm run build":                                                                                                                                           "builds the app with npm in its checkout at the release's commit; run.txtar runs build and deploy on a checkout made by the test",
	"shipgate run deploy --release lv-2026-11-26.1 -- pm2 restart localizevideos-app --update-env":                                                                                                            "restarts the app with PM2",
	"shipgate serve --store sqlite://ledger.db --listen 127.0.0.1:8080":                                                                                                                                       "serves until it is stopped",
	"shipgate serve --store 'postgres://shipgate@db:5432/shipgate' --listen :8080":                                                                                                                            "serves until it is stopped, from a PostgreSQL server",
	"shipgate verify --release lv-2026-11-26.1 --checks examples/localizevideos/checks.yaml":                                                                                                                  "sends the smoke checks to the running app",
	`shipgate verify --release lv-2026-11-26.1 --checks checks.yaml --base https://app.localizevideos.com --var password="$SMOKE_PASSWORD"`:                                                                   "sends the smoke checks to the live site",
	"shipgate watch --release lv-2026-11-26.1 --signals examples/localizevideos/signals.yaml":                                                                                                                 "samples Prometheus and the running app for 15 minutes",
	"shipgate watch --release lv-2026-11-26.1 --signals signals.yaml --window 15m --interval 15s --auto-rollback --rollback-arg=--dir=/srv/localizevideos/app --webhook https://hooks.slack.com/services/...": "samples Prometheus and the running app for 15 minutes, then rolls back (PM2)",
}

// TestExamplesRunAsWritten keeps --help and examplesScript together: every
// line of every command's Example must be a command of the script, exactly
// as written (shell syntax runs through `sh -c '...'`), or be in notRun.
// Change an example and the script runs the new one, or this fails.
func TestExamplesRunAsWritten(t *testing.T) {
	b, err := os.ReadFile(examplesScript)
	if err != nil {
		t.Fatal(err)
	}
	script := scriptCommands(string(txtar.Parse(b).Comment))
	examples := map[string]bool{}
	walkCommands(cmd.NewRoot(cmd.Streams{}), func(c *cobra.Command) {
		for _, line := range exampleLines(c.Example) {
			examples[line] = true
			if _, ok := notRun[line]; ok {
				continue
			}
			if !script[line] {
				t.Errorf("%s: example not run by %s:\n\t%s", c.CommandPath(), examplesScript, line)
			}
		}
		for _, line := range strings.Split(c.Example, "\n") {
			if line != "" && !strings.HasPrefix(line, "  ") {
				t.Errorf("%s: example line %q: want it indented by two spaces, as cobra shows the others", c.CommandPath(), line)
			}
		}
	})
	for line := range notRun {
		if !examples[line] {
			t.Errorf("notRun lists %q, which no example has any more", line)
		}
	}
}

// exampleLines returns the commands of a cobra Example: a line that ends in
// a backslash goes on with the next, as in the shell; blank lines and
// # comments are dropped.
func exampleLines(example string) []string {
	var lines []string
	cont := ""
	for _, l := range strings.Split(example, "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutSuffix(l, `\`); ok {
			cont += strings.TrimSpace(rest) + " "
			continue
		}
		l, cont = cont+l, ""
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

// exitPrefix is the harness's `exit N` command.
var exitPrefix = regexp.MustCompile(`^exit \d+ `)

// scriptCommands returns the commands a testscript runs, as the shell
// would read them: without testscript's conditions, negation, `exit N`
// and `exec`, and with `sh -c '...'` unquoted.
func scriptCommands(script string) map[string]bool {
	cmds := map[string]bool{}
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		for {
			switch {
			case strings.HasPrefix(l, "["):
				l = strings.TrimSpace(l[strings.Index(l, "]")+1:])
				continue
			case strings.HasPrefix(l, "! "), strings.HasPrefix(l, "? "):
				l = strings.TrimSpace(l[2:])
				continue
			case exitPrefix.MatchString(l):
				l = exitPrefix.ReplaceAllString(l, "")
				continue
			case strings.HasPrefix(l, "exec "):
				l = strings.TrimPrefix(l, "exec ")
				continue
			}
			break
		}
		if rest, ok := strings.CutPrefix(l, "sh -c '"); ok && strings.HasSuffix(rest, "'") {
			l = strings.ReplaceAll(strings.TrimSuffix(rest, "'"), "''", "'")
		}
		if l != "" && !strings.HasPrefix(l, "#") {
			cmds[l] = true
		}
	}
	return cmds
}
