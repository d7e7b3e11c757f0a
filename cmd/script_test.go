package cmd_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/localizevideos/shipgate/cmd"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"shipgate": func() {
			os.Exit(cmd.Execute(context.Background(), os.Args[1:], cmd.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv}))
		},
	})
}

// TestScripts runs the txtar command-line scripts in testdata/script. The
// custom command `exit N CMD ARGS...` runs CMD and requires exit code N, so
// scripts tell a denial (1) from an error (2).
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../examples/localizevideos/evidence")
	if err != nil {
		t.Fatal(err)
	}
	policies, err := filepath.Abs("../policies")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EV", examples)
			env.Setenv("POLICIES", policies)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
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
