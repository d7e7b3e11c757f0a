// Command demo runs the LocalizeVideos example release through every gate
// with the shipgate binary, then each denial case, printing each command as
// a user would type it and the decision it printed.
//
//	go run ./examples/localizevideos/demo -shipgate bin/shipgate
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/examples/cases"
)

func main() {
	bin := flag.String("shipgate", "bin/shipgate", "the shipgate binary")
	root := flag.String("cases", "examples/localizevideos/evidence", "folder of example cases")
	flag.Parse()
	if err := run(*bin, *root); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(bin, root string) error {
	all, err := cases.Load(root)
	if err != nil {
		return err
	}
	steps, wrong := 0, 0
	for _, c := range all {
		fmt.Printf("\n### %s: %s\n", c.Name, c.Description)
		for _, s := range c.Steps {
			args := []string{"gate", s.Gate, "--release", c.Release, "--now", s.Now.UTC().Format(time.RFC3339),
				"--evidence", strings.Join(c.Paths(s), ",")}
			fmt.Printf("\n$ shipgate %s\n", strings.Join(args, " "))
			cmd := exec.Command(bin, args...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			code := 0
			if err := cmd.Run(); err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					return err
				}
				code = ee.ExitCode()
			}
			want := 1
			if s.Expect.Allow {
				want = 0
			}
			steps++
			if code != want {
				wrong++
				fmt.Printf("!! exit %d; this case expects %d\n", code, want)
			} else {
				fmt.Printf("(exit %d)\n", code)
			}
		}
	}
	fmt.Printf("\n%d cases, %d gate decisions, %d not as expected\n", len(all), steps, wrong)
	if wrong > 0 {
		return fmt.Errorf("%d decisions not as expected", wrong)
	}
	return nil
}
