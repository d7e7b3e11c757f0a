// Command shipgate is a policy-as-code release gate: evidence in, decisions
// out, exit 0 allow, 1 deny, 2 error.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/localizevideos/shipgate/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Execute(ctx, os.Args[1:], cmd.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
