package schemas

import (
	"regexp"
	"testing"
)

// The compiler's regexp engine compiles a pattern once, gives the names'
// own regexps for their patterns, and fails as regexp.Compile does.
func TestCompilePatternOnce(t *testing.T) {
	for pattern, want := range map[string]*regexp.Regexp{NamePattern: nameRE, PersonPattern: personRE, CommitPattern: commitRE} {
		if got, err := compilePattern(pattern); err != nil || got != want {
			t.Errorf("compilePattern(%s) = %v, %v; want the names' regexp", pattern, got, err)
		}
	}
	const sha = `^sha256:[0-9a-f]{64}$`
	a, err := compilePattern(sha)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := compilePattern(sha); b != a || a.String() != sha {
		t.Errorf("compilePattern(%s) twice = %v, %v; want one regexp of that source", sha, a, b)
	}
	_, want := regexp.Compile(`a(`)
	if _, err := compilePattern(`a(`); err == nil || err.Error() != want.Error() {
		t.Errorf("compilePattern(a() = %v; want %v", err, want)
	}
}
