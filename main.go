// Command shipgate is a policy-as-code release gate: evidence in, decisions
// out, exit 0 allow, 1 deny, 2 error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/localizevideos/shipgate/cmd"
)

// grace is how long an interrupted command has to return: the first
// SIGINT or SIGTERM cancels its context, and if it has not returned a
// second later (blocked in a system call, or not watching the context)
// the process exits anyway. A transaction left uncommitted is rolled back
// by the database, so nothing half-written survives.
const grace = time.Second

func main() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	code := interruptible(func(ctx context.Context) int {
		return cmd.Execute(ctx, os.Args[1:], cmd.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv})
	}, sigs, os.Stderr, grace)
	os.Exit(code)
}

// interruptible runs execute and returns its exit code. The first signal
// on sigs cancels execute's context; if execute has not returned grace
// later, or a second signal comes, interruptible says so on errOut and
// returns 128 + the first signal's number (130 for SIGINT, 143 for
// SIGTERM), as a shell reports a process killed by it, leaving execute
// to die with the process.
func interruptible(execute func(context.Context) int, sigs <-chan os.Signal, errOut io.Writer, grace time.Duration) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- execute(ctx) }()
	var sig os.Signal
	select {
	case code := <-done:
		return code
	case sig = <-sigs:
	}
	cancel()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case code := <-done:
		return code
	case <-timer.C:
	case <-sigs:
	}
	fmt.Fprintln(errOut, "shipgate: interrupted")
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}
