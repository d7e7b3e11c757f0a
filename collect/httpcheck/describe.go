package httpcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"github.com/google/cel-go/parser"
)

// maxShown bounds one observed value in a message.
const maxShown = 160

// verdict evaluates p with the activation act. It returns Passed, or Failed
// or Error with a detail that follows the expression's text in a message:
// "is false: json.user = "eve"", "failed: no such key: user", ...
func (p *program) verdict(ctx context.Context, act map[string]any) (string, string) {
	out, _, err := p.prg.ContextEval(ctx, act)
	var cancelled interpreter.EvalCancelledError
	switch {
	case err != nil && ctx.Err() != nil:
		return Error, fmt.Sprintf("interrupted: %v", context.Cause(ctx))
	case errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded:
		return Error, fmt.Sprintf("exceeded the cost limit (%d)", CostLimit)
	case err != nil:
		msg := "failed: " + err.Error()
		if obs := p.observed(ctx, act); obs != "" {
			msg += "; observed " + obs
		}
		return Failed, msg
	}
	b, ok := out.(types.Bool)
	if !ok {
		return Error, fmt.Sprintf("returned a %s, want a bool", out.Type().TypeName())
	}
	if b {
		return Passed, ""
	}
	if obs := p.observed(ctx, act); obs != "" {
		return Failed, "is false: " + obs
	}
	return Failed, "is false"
}

// value evaluates the capture p with the activation act: a non-empty
// string, and Passed; or Failed or Error with a detail that follows the
// expression's text in a message. The value itself never goes into a
// message: it may be a session.
func (p *program) value(ctx context.Context, act map[string]any) (string, string, string) {
	out, _, err := p.prg.ContextEval(ctx, act)
	var cancelled interpreter.EvalCancelledError
	switch {
	case err != nil && ctx.Err() != nil:
		return "", Error, fmt.Sprintf("interrupted: %v", context.Cause(ctx))
	case errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded:
		return "", Error, fmt.Sprintf("exceeded the cost limit (%d)", CostLimit)
	case err != nil:
		msg := "failed: " + err.Error()
		if obs := p.observed(ctx, act); obs != "" {
			msg += "; observed " + obs
		}
		return "", Failed, msg
	}
	v, ok := out.(types.String)
	switch {
	case !ok:
		return "", Error, fmt.Sprintf("returned a %s, want a string (convert it with string(...))", out.Type().TypeName())
	case v == "":
		return "", Failed, "is empty: a later step sending it would prove nothing"
	}
	return string(v), Passed, ""
}

// observed names the values the expression compared: the operands of the
// relation (or call) at its top, and inside a false && the false side, as
// "text = value" pairs. Literals are left out: the text shows them.
func (p *program) observed(ctx context.Context, act map[string]any) string {
	_, det, _ := p.traced.ContextEval(ctx, act)
	if det == nil || det.State() == nil {
		return ""
	}
	nat := p.ast.NativeRep()
	var parts []string
	seen := map[string]bool{}
	var walk func(e celast.Expr, depth int)
	add := func(e celast.Expr) {
		if e.Kind() == celast.LiteralKind {
			return
		}
		v, ok := det.State().Value(e.ID())
		if !ok {
			return
		}
		if types.IsError(v) {
			// json.user failed: show what json was.
			root := e
			for root.Kind() == celast.SelectKind {
				root = root.AsSelect().Operand()
			}
			val, found := act[root.AsIdent()]
			if root.Kind() != celast.IdentKind || !found {
				return
			}
			e, v = root, types.DefaultTypeAdapter.NativeToValue(val)
		}
		text, err := parser.Unparse(e, nat.SourceInfo())
		if err != nil || seen[text] {
			return
		}
		seen[text] = true
		parts = append(parts, text+" = "+shown(text, v))
	}
	walk = func(e celast.Expr, depth int) {
		if depth > 4 {
			return
		}
		if e.Kind() != celast.CallKind {
			add(e)
			return
		}
		call := e.AsCall()
		switch call.FunctionName() {
		case operators.LogicalAnd:
			for _, a := range call.Args() {
				if v, ok := det.State().Value(a.ID()); !ok || v != types.True {
					walk(a, depth+1)
				}
			}
			return
		case operators.LogicalOr, operators.LogicalNot:
			for _, a := range call.Args() {
				walk(a, depth+1)
			}
			return
		}
		if call.IsMemberFunction() {
			add(call.Target())
		}
		for _, a := range call.Args() {
			add(a)
		}
	}
	walk(nat.Expr(), 0)
	return strings.Join(parts, ", ")
}

// secretWords mark values a message must not carry into the ledger.
var secretWords = []string{"password", "secret", "token", "cookie", "authorization"}

// shown is show(v), except for what may be a secret: a cookie value, a
// credential header, a var named like a password. Whole cookies and vars
// maps show their names only.
func shown(text string, v ref.Val) string {
	lower := strings.ToLower(text)
	switch {
	case text == "cookies" || text == "vars":
		if m, ok := v.Value().(map[string]string); ok {
			return show(types.DefaultTypeAdapter.NativeToValue(sortedKeys(m))) + " (names only)"
		}
		return "(not shown)"
	case text == "headers":
		if m, ok := v.Value().(map[string]string); ok {
			safe := make(map[string]string, len(m))
			for k, val := range m {
				if containsAny(k, secretWords) {
					val = "(redacted)"
				}
				safe[k] = val
			}
			return show(types.DefaultTypeAdapter.NativeToValue(safe))
		}
		return "(not shown)"
	case strings.HasPrefix(text, "cookies") || containsAny(lower, secretWords):
		return "(redacted)"
	}
	return show(v)
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// show renders a CEL value for a message, cut to maxShown characters.
func show(v ref.Val) string {
	var s string
	switch t := v.(type) {
	case types.String:
		s = strconv.Quote(string(t))
	case types.Null:
		s = "null"
	case types.Double:
		s = strconv.FormatFloat(float64(t), 'g', 6, 64)
	case *types.Err:
		s = "error: " + t.Error()
	default:
		native := v.Value()
		if b, err := json.Marshal(native); err == nil {
			s = string(b)
		} else {
			s = fmt.Sprint(native)
		}
	}
	if r := []rune(s); len(r) > maxShown {
		s = string(r[:maxShown]) + "…"
	}
	return s
}
