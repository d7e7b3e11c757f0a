package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/localizevideos/shipgate/policyset"
)

// What a loaded engine shows of its compiled policy set, so that
// policydiff can tell what another policy set changes and decide a gate by
// evaluating part of it. Callers must not change what these return.

// Source is the policy set the engine compiled, as read.
func (e *Engine) Source() *policyset.Set { return e.set }

// Compiler is the compiler the policy set was compiled with.
func (e *Engine) Compiler() *ast.Compiler { return e.compiler }

// Timeout bounds each evaluation (Options.Timeout, or DefaultTimeout).
func (e *Engine) Timeout() time.Duration { return e.timeout }

// Folded is the value of the rule at ref that Load computed once for gate,
// since it reads no input but the gate; nil when it did not.
func (e *Engine) Folded(gate string, ref ast.Ref) *ast.Term {
	return e.consts.forGate(gate).get(ref)
}

// PrepareQuery prepares query against the compiled policy set and its
// data, as Load prepares the gates' queries.
func (e *Engine) PrepareQuery(ctx context.Context, query ast.Body) (*rego.PreparedEvalQuery, error) {
	pq, err := rego.New(
		rego.ParsedQuery(query),
		rego.Compiler(e.compiler),
		rego.Store(e.store),
		rego.StoreReadAST(true),
		rego.StrictBuiltinErrors(true),
		rego.Capabilities(capabilities()),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, err
	}
	return &pq, nil
}

// EvalFolded evaluates q, a query of PrepareQuery, on input (an Input's
// value, InputValue) at now as the gate's evaluation would: with the rules
// folded for gate. It returns the one value of its one expression.
func (e *Engine) EvalFolded(ctx context.Context, q *rego.PreparedEvalQuery, gate string, input ast.Value, now time.Time) (*ast.Term, error) {
	cache := e.consts.forGate(gate).cache()
	rs, err := q.Eval(ctx, rego.EvalParsedInput(input), rego.EvalTime(now), keepAST, rego.EvalVirtualCache(cache))
	cache.release()
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("%d results", len(rs))
	}
	t, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return nil, fmt.Errorf("got %T", rs[0].Expressions[0].Value)
	}
	return t, nil
}

// InputValue is the Rego input Evaluate gives the policies for in, and its
// digest (Decision.Input), made by the same preparation as Evaluate's.
func (e *Engine) InputValue(in Input) (ast.Value, string, error) {
	scratch := &Decision{Gate: in.Gate, Release: in.Release}
	value, err := e.input(in, scratch)
	if err != nil {
		return nil, "", err
	}
	return value, scratch.Input.Digest, nil
}
