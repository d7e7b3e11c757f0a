package schemas

import (
	"fmt"
	"regexp"
	"unicode/utf8"
)

// Identifier grammars: one for names the system keys and files things by,
// one for people. envelope.json holds the same patterns as $defs/name and
// $defs/person (a test keeps them equal); the CLI's flags, the API's paths,
// queries and bodies, the config and the gate check values with CheckName
// and CheckPerson, so an identifier refused in a document is refused
// everywhere, before anything is read or recorded.
const (
	// NamePattern is a release id, a service, an environment, a decision
	// id or a violation id: 1 to 128 of A-Z a-z 0-9 . _ : -, the first a
	// letter or a digit. No slash, no leading dot, no space and no control
	// character: a name is safe in a file path, a URL and a log line.
	NamePattern = `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`
	// PersonPattern is a person (an actor, an approver, a token's name):
	// 1 to 200 characters, no control character, no surrounding
	// whitespace, so that "alice" and "alice " cannot pass a four-eyes
	// check as two people.
	PersonPattern = `^[^\s\p{Cc}]([^\p{Cc}]{0,198}[^\s\p{Cc}])?$`
	// CommitPattern is a git commit: 40 lower-case hex digits.
	CommitPattern = `^[0-9a-f]{40}$`
)

var (
	nameRE   = regexp.MustCompile(NamePattern)
	personRE = regexp.MustCompile(PersonPattern)
	commitRE = regexp.MustCompile(CommitPattern)
)

// NameError is a value outside its grammar.
type NameError struct {
	// What names the value: "release id", "--service", "/release/id".
	What  string
	Value string
	// Person is set for a person's name (PersonPattern), Commit for a
	// commit (CommitPattern); else the value is a name (NamePattern).
	Person, Commit bool
}

func (e *NameError) Error() string {
	want := "1 to 128 of A-Z a-z 0-9 . _ : -, the first a letter or a digit"
	switch {
	case e.Person:
		want = "1 to 200 characters, no control character, no surrounding space"
	case e.Commit:
		want = "a commit: 40 lower-case hex digits"
	}
	return fmt.Sprintf("%s %s: want %s", e.What, quote(e.Value), want)
}

// quote shows v quoted, control characters escaped, and cut after 64
// bytes: the value is what was refused, and may be anything.
func quote(v string) string {
	if len(v) <= 64 {
		return fmt.Sprintf("%q", v)
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", v[:cut], len(v))
}

// CheckName returns a *NameError unless v is a name (NamePattern); what
// names it in the error.
func CheckName(what, v string) error {
	if !nameRE.MatchString(v) {
		return &NameError{What: what, Value: v}
	}
	return nil
}

// CheckPerson returns a *NameError unless v is a person's name
// (PersonPattern) in valid UTF-8.
func CheckPerson(what, v string) error {
	if !utf8.ValidString(v) || !personRE.MatchString(v) {
		return &NameError{What: what, Value: v, Person: true}
	}
	return nil
}

// CheckCommit returns a *NameError unless v is a commit (CommitPattern).
func CheckCommit(what, v string) error {
	if !commitRE.MatchString(v) {
		return &NameError{What: what, Value: v, Commit: true}
	}
	return nil
}
