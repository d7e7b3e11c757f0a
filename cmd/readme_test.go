package cmd_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeWalkthrough keeps the README's walkthrough and the script that
// runs it equal: each command of the README's block, its comment cut off,
// is a line of testdata/script/quickstart.txtar (after `exit N`), in order.
func TestReadmeWalkthrough(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("testdata/script/quickstart.txtar")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "<!-- walkthrough:")
	if !ok {
		t.Fatal("README.md has no walkthrough block")
	}
	_, block, _ = strings.Cut(block, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	comment := regexp.MustCompile(`\s+#.*$`)
	var ran []string
	for _, l := range strings.Split(string(script), "\n") {
		if m := regexp.MustCompile(`^exit \d (shipgate .*)$`).FindStringSubmatch(l); m != nil {
			ran = append(ran, m[1])
		}
	}
	next := 0
	for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd := comment.ReplaceAllString(l, "")
		found := false
		for ; next < len(ran); next++ {
			if ran[next] == cmd {
				found, next = true, next+1
				break
			}
		}
		if !found {
			t.Errorf("README walkthrough line %q is not run, in this order, by quickstart.txtar", cmd)
		}
	}
}
