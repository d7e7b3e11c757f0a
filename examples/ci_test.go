package examples_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/localizevideos/shipgate/cmd"
)

// commands returns the shipgate command lines of a CI file: lines (not
// comments) that start, after a YAML "- " or "run: ", with "shipgate ",
// joined with their backslash continuations.
func commands(src string) []string {
	var out []string
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		l = strings.TrimPrefix(l, "- ")
		l = strings.TrimPrefix(l, "run: ")
		if !strings.HasPrefix(l, "shipgate ") {
			continue
		}
		for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
			i++
			l = strings.TrimSuffix(l, "\\") + " " + strings.TrimSpace(lines[i])
		}
		out = append(out, l)
	}
	return out
}

// words splits a shell command line into words, honouring quotes; it stops
// at a pipe or a redirection.
func words(line string) []string {
	var out []string
	var cur strings.Builder
	quote := rune(0)
	in := false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		case r == '|' || r == '>':
			if in {
				out = append(out, cur.String())
			}
			return out
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// The CI examples are YAML their CI systems can read, and every shipgate
// command in them names a real subcommand with real flags.
func TestCIExamples(t *testing.T) {
	files, err := filepath.Glob("ci/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/ci/*.yml: %v", err)
	}
	root := cmd.NewRoot(cmd.Streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		n := 0
		for _, line := range commands(string(b)) {
			args := words(line)[1:]
			if i := indexOf(args, "--"); i >= 0 {
				args = args[:i]
			}
			// The CI expands its variables; flags that take a name
			// check it as they are parsed.
			for i, a := range args {
				if strings.Contains(a, "$") {
					args[i] = "lv-2026-11-26.1"
				}
			}
			c, rest, err := root.Find(args)
			if err != nil || c == root {
				t.Errorf("%s: %q: no such command (%v)", f, line, err)
				continue
			}
			if err := c.ParseFlags(rest); err != nil {
				t.Errorf("%s: %q: %v", f, line, err)
			}
			n++
		}
		if n < 5 {
			t.Errorf("%s: found only %d shipgate commands", f, n)
		}
	}
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}
