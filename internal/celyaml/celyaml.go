// Package celyaml loads YAML files that hold CEL expressions: the checks
// file of httpcheck, the mapping file of incidents, the signals file of
// signals. Decoding is strict (an unknown or repeated key is an error), an
// expression keeps the line and column where it starts in the file, and
// every problem found while loading goes into one LoadError, each at its
// file:line:col and, for a CEL error, at its line:col inside the
// expression.
package celyaml

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
	"github.com/google/cel-go/cel"
)

// Expr is a CEL expression and where it starts in the file.
type Expr struct {
	Text         string
	Line, Column int
}

// UnmarshalYAML keeps the position of the expression's node.
func (e *Expr) UnmarshalYAML(n ast.Node) error {
	var s string
	if err := yaml.NodeToValue(n, &s); err != nil {
		return err
	}
	p := n.GetToken().Position
	*e = Expr{Text: s, Line: p.Line, Column: p.Column}
	return nil
}

// String is a plain string and where it starts in the file, for a
// problem found inside it after decoding (an unknown ${name}).
type String struct {
	Text         string
	Line, Column int
}

// UnmarshalYAML keeps the position of the string's node.
func (s *String) UnmarshalYAML(n ast.Node) error {
	var e Expr
	if err := e.UnmarshalYAML(n); err != nil {
		return err
	}
	*s = String(e)
	return nil
}

// Value is any YAML value (a scalar, a mapping, a list) and where it
// starts in the file.
type Value struct {
	V            any
	Line, Column int
}

// UnmarshalYAML keeps the position of the value's node.
func (v *Value) UnmarshalYAML(n ast.Node) error {
	var x any
	if err := yaml.NodeToValue(n, &x); err != nil {
		return err
	}
	p := n.GetToken().Position
	*v = Value{V: x, Line: p.Line, Column: p.Column}
	return nil
}

// Problem is one thing wrong in a file.
type Problem struct {
	// Line and Column locate it in the file (0 when unknown).
	Line, Column int
	// Where names the part of the file: a key (fields.severity), or an
	// item and its field (signals[0] "error_rate" breach), followed by the
	// expression's text for an error inside it.
	Where string
	// ExprLine and ExprColumn locate a CEL error inside the expression.
	ExprLine, ExprColumn int
	Message              string
}

// LoadError lists everything wrong in a file, one problem a line.
type LoadError struct {
	File     string
	Problems []Problem
}

func (e *LoadError) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		var b strings.Builder
		b.WriteString(e.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
		}
		b.WriteString(": ")
		if p.Where != "" {
			b.WriteString(p.Where + ": ")
		}
		if p.ExprLine > 0 {
			fmt.Fprintf(&b, "%d:%d: ", p.ExprLine, p.ExprColumn)
		}
		b.WriteString(p.Message)
		lines = append(lines, b.String())
	}
	return strings.Join(lines, "\n")
}

// Errorf adds a problem at where, without a position in the file.
func (e *LoadError) Errorf(where, format string, args ...any) {
	e.Problems = append(e.Problems, Problem{Where: where, Message: fmt.Sprintf(format, args...)})
}

// ErrorAt adds a problem at where, at line and column in the file (none
// when line is 0).
func (e *LoadError) ErrorAt(line, column int, where, format string, args ...any) {
	e.Problems = append(e.Problems, Problem{Line: line, Column: column, Where: where, Message: fmt.Sprintf(format, args...)})
}

// Want is what an expression must evaluate to.
type Want struct {
	// Types the checked expression may have; any type when empty.
	Types []*cel.Type
	// Name says it in an error: "the expression is a int, want <Name>".
	Name string
}

// Compile compiles x, found at where, against env, checks its type against
// want and plans it with opts. Each problem (an empty expression, every
// CEL error at its position inside the expression, a wrong type) is added
// to e, and then both results are nil.
func (e *LoadError) Compile(env *cel.Env, where string, x Expr, want Want, opts ...cel.ProgramOption) (*cel.Ast, cel.Program) {
	if strings.TrimSpace(x.Text) == "" {
		e.Problems = append(e.Problems, Problem{Line: x.Line, Column: x.Column, Where: where, Message: "empty expression"})
		return nil, nil
	}
	a, iss := env.Compile(x.Text)
	if iss.Err() != nil {
		for _, ce := range iss.Errors() {
			e.Problems = append(e.Problems, Problem{Line: x.Line, Column: x.Column, Where: fmt.Sprintf("%s %q", where, x.Text),
				ExprLine: ce.Location.Line(), ExprColumn: ce.Location.Column() + 1, Message: ce.Message})
		}
		return nil, nil
	}
	if t := a.OutputType(); len(want.Types) > 0 && !slices.ContainsFunc(want.Types, t.IsExactType) {
		e.Problems = append(e.Problems, Problem{Line: x.Line, Column: x.Column, Where: fmt.Sprintf("%s %q", where, x.Text),
			Message: fmt.Sprintf("the expression is a %s, want %s", t, want.Name)})
		return nil, nil
	}
	prg := e.Plan(env, where, x, a, opts...)
	if prg == nil {
		return nil, nil
	}
	return a, prg
}

// Plan makes a program of a, compiled from x, with opts; an error is added
// to e and the program is nil.
func (e *LoadError) Plan(env *cel.Env, where string, x Expr, a *cel.Ast, opts ...cel.ProgramOption) cel.Program {
	prg, err := env.Program(a, opts...)
	if err != nil {
		e.Problems = append(e.Problems, Problem{Line: x.Line, Column: x.Column, Where: fmt.Sprintf("%s %q", where, x.Text), Message: err.Error()})
		return nil
	}
	return prg
}

// Decode decodes the YAML b, read from path, into v, strictly: an unknown
// or repeated key is an error. A YAML error, or an error an UnmarshalYAML
// method returns with GetToken and GetMessage, is a *LoadError at its line
// and column, its message followed by the lines of b around it.
func Decode(path string, b []byte, v any) error {
	return decode(path, b, v, true)
}

// DecodeTerse is Decode without the lines around the error.
func DecodeTerse(path string, b []byte, v any) error {
	return decode(path, b, v, false)
}

func decode(path string, b []byte, v any, excerpt bool) error {
	err := yaml.UnmarshalWithOptions(b, v, yaml.Strict())
	if err == nil {
		return nil
	}
	var ye interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, true))
	}
	p := ye.GetToken().Position
	msg := ye.GetMessage()
	if _, rest, ok := strings.Cut(yaml.FormatError(err, false, true), "\n"); ok && excerpt {
		msg += "\n" + strings.TrimRight(rest, "\n ")
	}
	return &LoadError{File: path, Problems: []Problem{{Line: p.Line, Column: p.Column, Message: msg}}}
}
