// Package cli is shipgate's command-line reference: one Markdown page per
// command, named like cobra's generated docs (shipgate_policy_diff.md for
// shipgate policy diff), embedded so that the pages users read in the
// repository are what --help shows.
//
// A page is the command's title, its one-line summary (cobra's Short), the
// description (Long), and an optional "## Examples" section holding one sh
// code block (Example):
//
//	# shipgate policy diff
//
//	Replay the recorded decisions through two policy sets ...
//
//	Replay the gate inputs recorded in the ledger ...
//
//	## Examples
//
//	```sh
//	  shipgate policy diff --base main
//	```
//
// The text between the markers is taken verbatim, so --help shows it as
// written.
package cli

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed shipgate*.md
var pages embed.FS

// Page is the help of one command.
type Page struct {
	// Path is the command path of the title, e.g. "shipgate policy diff".
	Path string
	// Short is the one-line summary, Long the description (may be empty),
	// Example the examples, each line indented as --help shows it.
	Short, Long, Example string
}

// FileName is the name of the page of the command path:
// "shipgate policy diff" is shipgate_policy_diff.md.
func FileName(path string) string {
	return strings.ReplaceAll(path, " ", "_") + ".md"
}

// Lookup returns the page of the command path; ok is false when there is
// none.
func Lookup(path string) (p Page, ok bool, err error) {
	b, err := fs.ReadFile(pages, FileName(path))
	if err != nil {
		return Page{}, false, nil
	}
	p, err = Parse(string(b))
	if err == nil && p.Path != path {
		err = fmt.Errorf("%s: titled %q, want %q", FileName(path), p.Path, path)
	}
	return p, err == nil, err
}

// Pages returns every page, in file name order.
func Pages() ([]Page, error) {
	names, err := fs.Glob(pages, "shipgate*.md")
	if err != nil {
		return nil, err
	}
	ps := make([]Page, 0, len(names))
	for _, name := range names {
		b, err := fs.ReadFile(pages, name)
		if err != nil {
			return nil, err
		}
		p, err := Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// examplesHeading starts the examples; the code block under it is the
// Example.
const (
	examplesHeading = "\n## Examples\n"
	fenceOpen       = "```sh\n"
	fenceClose      = "\n```\n"
)

// Parse reads one page (see the package documentation).
func Parse(text string) (Page, error) {
	head, rest, ok := strings.Cut(text, "\n\n")
	title, isTitle := strings.CutPrefix(head, "# ")
	if !ok || !isTitle || title == "" {
		return Page{}, fmt.Errorf("want a first line \"# shipgate COMMAND\" and a blank line")
	}
	p := Page{Path: title}
	body, examples, hasExamples := strings.Cut(rest, examplesHeading)
	if hasExamples {
		code, ok := strings.CutPrefix(strings.TrimLeft(examples, "\n"), fenceOpen)
		if ok {
			code, ok = strings.CutSuffix(code, fenceClose)
		}
		if !ok || strings.Contains(code, fenceClose) {
			return Page{}, fmt.Errorf("## Examples: want one ```sh code block and nothing after it")
		}
		p.Example = code
	}
	short, long, _ := strings.Cut(strings.TrimRight(body, "\n"), "\n\n")
	if short == "" || strings.Contains(short, "\n") {
		return Page{}, fmt.Errorf("want a one-line summary after the title")
	}
	p.Short, p.Long = short, strings.Trim(long, "\n")
	return p, nil
}
