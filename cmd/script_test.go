package cmd_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/localizevideos/shipgate/cmd"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
)

// clockEnv names the wall clock the scripts' shipgate runs under: RFC 3339,
// read by this test binary only (the product has no such variable). The
// harness sets it for each run of the scripts; a script whose expectations
// depend on the day sets its own with `env`, so it holds on any date.
const clockEnv = "SHIPGATE_TEST_CLOCK"

// clockStartEnv is when the script started, in Unix nanoseconds of the real
// clock: the scripts' clock reads clockEnv plus the time since then.
const clockStartEnv = "SHIPGATE_TEST_CLOCK_START"

// idsEnv lists ids (space-separated) that the scripts' shipgate hands out
// before random ones, each to the first thing it names of its prefix (dec,
// vio, obl, tok): a script sets it for one command, so that the examples
// can name the decision, violation or token that command makes.
const idsEnv = "SHIPGATE_TEST_IDS"

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"shipgate": func() {
			s := cmd.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv}
			if os.Getenv(clockEnv) != "" {
				if _, err := scriptClock(os.Getenv); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				s.Now = func() time.Time { at, _ := scriptClock(os.Getenv); return at }
			}
			if ids := strings.Fields(os.Getenv(idsEnv)); len(ids) > 0 {
				s.NewID = pinnedIDs(ids)
			}
			os.Exit(cmd.Execute(context.Background(), os.Args[1:], s))
		},
	})
}

// scriptClock reads the scripts' clock: clockEnv, advanced by the real time
// since clockStartEnv, so it moves across a script's commands as a real one.
func scriptClock(getenv func(string) string) (time.Time, error) {
	t0, err := time.Parse(time.RFC3339, getenv(clockEnv))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", clockEnv, err)
	}
	start, err := strconv.ParseInt(getenv(clockStartEnv), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", clockStartEnv, err)
	}
	return t0.Add(time.Since(time.Unix(0, start))), nil
}

// pinnedIDs names things with ids, in order for each prefix, then with
// random ones.
func pinnedIDs(ids []string) func(prefix string, now time.Time) string {
	var mu sync.Mutex
	return func(prefix string, now time.Time) string {
		mu.Lock()
		defer mu.Unlock()
		for i, id := range ids {
			if strings.HasPrefix(id, prefix+"_") {
				ids = slices.Delete(ids, i, i+1)
				return id
			}
		}
		return gate.NewID(prefix, now)
	}
}

// fixtureDay is the day the example evidence is dated.
var fixtureDay = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// TestScriptsAnyDay runs the scripts under several wall clocks: the fixture
// day, a week and a year after it, and a year before. Every script must
// give the same results under each: one that passes only on some days
// reads the wall clock for an expectation, and will fail next month.
func TestScriptsAnyDay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every script three more times")
	}
	for _, c := range []struct {
		name string
		at   time.Time
	}{
		{"fixture-day", fixtureDay},
		{"week-later", fixtureDay.AddDate(0, 0, 7)},
		{"year-later", fixtureDay.AddDate(1, 0, 0)},
	} {
		t.Run(c.name, func(t *testing.T) { runScripts(t, c.at, true) })
	}
}

// TestScripts runs the txtar command-line scripts in testdata/script. The
// custom command `exit N CMD ARGS...` runs CMD and requires exit code N, so
// scripts tell a denial (1) from an error (2).
func TestScripts(t *testing.T) { runScripts(t, time.Now(), false) }

// runScripts runs the scripts with the wall clock starting at now; moved
// says the clock is not the real one (the condition [moved] in a script).
func runScripts(t *testing.T, now time.Time, moved bool) {
	offset := time.Until(now)
	examples, err := filepath.Abs("../examples/localizevideos/evidence")
	if err != nil {
		t.Fatal(err)
	}
	policies, err := filepath.Abs("../policies")
	if err != nil {
		t.Fatal(err)
	}
	// The smallest data the data schema accepts, for the small policy sets
	// of the scripts, which read little of it.
	minData, err := filepath.Abs("../schemas/testdata/valid/policydata.min.json")
	if err != nil {
		t.Fatal(err)
	}
	// The example evidence is signed with EXAMPLE keys, which its data
	// overlay trusts: scripts that count it give
	// --trusted-key $EXKEYS --data +$EXDATA.
	exKeys, err := filepath.Abs("../examples/localizevideos/keys")
	if err != nil {
		t.Fatal(err)
	}
	exData, err := filepath.Abs("../examples/localizevideos/example-data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Condition: func(cond string) (bool, error) {
			if cond == "moved" {
				return moved, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("EV", examples)
			env.Setenv("POLICIES", policies)
			env.Setenv("MINDATA", minData)
			env.Setenv("EXKEYS", exKeys)
			env.Setenv("EXDATA", exData)
			// Every script's clock is the real one moved by the same offset,
			// so the scripts' commands and the files git and the shell
			// stamp agree on which came first.
			real := time.Now()
			env.Setenv(clockEnv, real.Add(offset).UTC().Format(time.RFC3339Nano))
			env.Setenv(clockStartEnv, strconv.FormatInt(real.UnixNano(), 10))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"gzbomb": gzbomb,
			// unsign SRC DST writes the document inside the DSSE envelope
			// SRC (an example document) to DST, unverified, for a script
			// to edit; shipgate evidence sign seals it again.
			"unsign": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: unsign SRC DST")
				}
				b, err := os.ReadFile(ts.MkAbs(args[0]))
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), keys.Open(b), 0o644))
			},
			// setnow VAR [DURATION] sets VAR to the scripts' clock, moved by
			// DURATION, in RFC 3339: fixtures dated from it hold on any day.
			"setnow": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 1 || len(args) > 2 {
					ts.Fatalf("usage: setnow VAR [DURATION]")
				}
				at, err := scriptClock(ts.Getenv)
				ts.Check(err)
				if len(args) == 2 {
					d, err := time.ParseDuration(args[1])
					ts.Check(err)
					at = at.Add(d)
				}
				ts.Setenv(args[0], at.UTC().Format(time.RFC3339))
			},
			"exit": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exit N CMD ARGS...")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exit code %q: %v", args[0], err)
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				switch {
				case errors.As(err, &ee):
					got = ee.ExitCode()
				case err != nil:
					ts.Fatalf("%v", err)
				}
				if got != want {
					ts.Fatalf("%s exited %d; want %d", args[1], got, want)
				}
			},
		},
	})
}
