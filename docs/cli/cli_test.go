package cli

import (
	"os"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, text string
		want       Page
	}{
		{"summary only", "# shipgate token\n\nManage tokens\n",
			Page{Path: "shipgate token", Short: "Manage tokens"}},
		{"description kept verbatim", "# shipgate token\n\nManage tokens\n\n  role  what it may do\n\nExit codes: 0.\n",
			Page{Path: "shipgate token", Short: "Manage tokens", Long: "  role  what it may do\n\nExit codes: 0."}},
		{"examples", "# shipgate token list\n\nList tokens\n\n## Examples\n\n```sh\n  shipgate token list\n  shipgate token list -o json\n```\n",
			Page{Path: "shipgate token list", Short: "List tokens", Example: "  shipgate token list\n  shipgate token list -o json"}},
		{"all three", "# shipgate x\n\nDo x\n\nLonger.\n\n## Examples\n\n```sh\n  shipgate x\n```\n",
			Page{Path: "shipgate x", Short: "Do x", Long: "Longer.", Example: "  shipgate x"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.text)
		if err != nil || got != tt.want {
			t.Errorf("%s: Parse(%q) = %+v, %v; want %+v", tt.name, tt.text, got, err, tt.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, text := range []string{
		"",
		"shipgate x\n\nDo x\n", // no title
		"# shipgate x\n\n\n",   // no summary
		"# shipgate x\n\nDo x\n\n## Examples\n\n  shipgate x\n", // no code block
		"# shipgate x\n\nDo x\n\n## Examples\n\n```sh\n  shipgate x\n```\nmore\n",
	} {
		if p, err := Parse(text); err == nil {
			t.Errorf("Parse(%q) = %+v; want an error", text, p)
		}
	}
}

// TestPages reads every embedded page: each parses, its file is named
// after its title, and no two pages share a title.
func TestPages(t *testing.T) {
	ps, err := Pages()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 {
		t.Fatal("no pages")
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if !strings.HasPrefix(p.Path, "shipgate") || seen[p.Path] {
			t.Errorf("page %q: want a unique title starting with shipgate", p.Path)
		}
		seen[p.Path] = true
		if got, ok, err := Lookup(p.Path); !ok || err != nil || got != p {
			t.Errorf("Lookup(%q) = %+v, %v, %v; want %+v", p.Path, got, ok, err, p)
		}
	}
}

// TestReadmeListsEveryPage keeps the index of the reference complete.
func TestReadmeListsEveryPage(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Pages()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if link := "(" + FileName(p.Path) + ")"; !strings.Contains(string(readme), link) {
			t.Errorf("README.md does not link %s", FileName(p.Path))
		}
	}
}
