package signals

import (
	"context"
	"fmt"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"

	"github.com/localizevideos/shipgate/internal/celyaml"
)

// program is one compiled breach condition.
type program struct {
	text string
	ast  *cel.Ast
	prg  cel.Program
}

// compile checks e: it must compile and be a bool.
func (l *loader) compile(where string, e celyaml.Expr) *program {
	want := celyaml.Want{Types: []*cel.Type{cel.BoolType}, Name: "a bool (true means breach)"}
	a, prg := l.le.Compile(l.env, where, e, want, cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(100))
	if a == nil {
		return nil
	}
	return &program{text: e.Text, ast: a, prg: prg}
}

// reads reports whether the expression refers to the variable name.
func (p *program) reads(name string) bool {
	for _, ref := range p.ast.NativeRep().ReferenceMap() {
		if ref.Name == name {
			return true
		}
	}
	return false
}

// Window is where a reading falls in the watch window, as the condition
// sees it (window.elapsed, window.length, window.remaining, in seconds).
type Window struct {
	Elapsed, Length time.Duration
}

// Breached evaluates the signal's condition. An evaluation error (the cost
// limit, a division the condition did not expect) is returned, and the
// caller must not count the reading as healthy.
func (s *Signal) Breached(ctx context.Context, r Reading, baseline float64, w Window) (bool, error) {
	if s.cond == nil {
		return false, fmt.Errorf("signal %s: no condition", s.Name)
	}
	vars := map[string]any{
		"observed": r.Value,
		"baseline": baseline,
		"count":    r.Count,
		"window": map[string]float64{
			"elapsed":   w.Elapsed.Seconds(),
			"length":    w.Length.Seconds(),
			"remaining": (w.Length - w.Elapsed).Seconds(),
		},
	}
	out, _, err := s.cond.prg.ContextEval(ctx, vars)
	if err != nil {
		return false, fmt.Errorf("signal %s: evaluate %q: %w", s.Name, s.Breach, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("signal %s: %q is a %s, want a bool", s.Name, s.Breach, out.Type())
	}
	return bool(b), nil
}
