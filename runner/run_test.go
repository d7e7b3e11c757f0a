package runner_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/runner"
)

func needSh(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

func TestRunExitCodes(t *testing.T) {
	needSh(t)
	tests := []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"false", 1},
		{"kill -TERM $$", 128 + 15},
	}
	for _, tt := range tests {
		r := &runner.Runner{}
		res := r.Run(context.Background(), []string{"sh", "-c", tt.script})
		if res.ExitCode != tt.want || res.Err != nil {
			t.Errorf("Run(sh -c %q) = exit %d, err %v; want exit %d, no error", tt.script, res.ExitCode, res.Err, tt.want)
		}
	}
}

func TestRunStreamsHashesAndKeepsTail(t *testing.T) {
	needSh(t)
	var out, errOut bytes.Buffer
	r := &runner.Runner{Stdout: &out, Stderr: &errOut, TailLines: 40}
	res := r.Run(context.Background(), []string{"sh", "-c", `i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i+1)); done; echo oops >&2`})
	if res.ExitCode != 0 || res.Err != nil {
		t.Fatalf("Run = exit %d, err %v; want 0", res.ExitCode, res.Err)
	}
	var want strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	if out.String() != want.String() || errOut.String() != "oops\n" {
		t.Errorf("streamed stdout %q, stderr %q; want 30 lines and %q", out.String(), errOut.String(), "oops\n")
	}
	if res.StdoutSHA256 != sum(out.Bytes()) || res.StderrSHA256 != sum([]byte("oops\n")) {
		t.Errorf("digests %s %s; want the SHA-256 of each stream", res.StdoutSHA256, res.StderrSHA256)
	}
	// Both streams feed the tail; only stdout's order is certain, as they
	// are separate pipes.
	var stdoutTail []string
	for _, l := range res.Tail {
		if l != "oops" {
			stdoutTail = append(stdoutTail, l)
		}
	}
	if len(res.Tail) != 31 || len(stdoutTail) != 30 || stdoutTail[0] != "line 1" || stdoutTail[29] != "line 30" {
		t.Errorf("tail %q; want 30 lines of stdout in order and oops", res.Tail)
	}
	if res.FinishedAt.Before(res.StartedAt) || res.Duration < 0 {
		t.Errorf("started %v finished %v duration %v", res.StartedAt, res.FinishedAt, res.Duration)
	}
}

// gate is a writer that reports its first write, proving output arrives
// while the command still runs.
type gate struct {
	once sync.Once
	seen chan struct{}
}

func (g *gate) Write(p []byte) (int, error) {
	g.once.Do(func() { close(g.seen) })
	return len(p), nil
}

func TestRunStreamsBeforeExitAndCancelKills(t *testing.T) {
	needSh(t)
	g := &gate{seen: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-g.seen:
			cancel()
		case <-time.After(10 * time.Second):
		}
	}()
	start := time.Now()
	// sh forks sleep (it is not the last command), so killing sh alone
	// would leave sleep holding the pipe.
	r := &runner.Runner{Stdout: g}
	res := r.Run(ctx, []string{"sh", "-c", "echo ready; sleep 30; echo never"})
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Run took %v after cancellation; want the process group killed at once", d)
	}
	if !errors.Is(res.Err, context.Canceled) {
		t.Errorf("Run err = %v; want context.Canceled", res.Err)
	}
	if res.ExitCode != 128+9 {
		t.Errorf("exit code %d; want %d (SIGKILL)", res.ExitCode, 128+9)
	}
	if len(res.Tail) != 2 || res.Tail[0] != "ready" || !strings.Contains(res.Tail[1], "killed") {
		t.Errorf("tail %q; want ready, then the kill", res.Tail)
	}
}

func TestRunTimeout(t *testing.T) {
	needSh(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res := (&runner.Runner{}).Run(ctx, []string{"sleep", "30"})
	if !errors.Is(res.Err, context.DeadlineExceeded) || res.ExitCode == 0 {
		t.Errorf("Run = exit %d, err %v; want killed by the deadline", res.ExitCode, res.Err)
	}
}

func TestRunCannotStart(t *testing.T) {
	tests := []struct {
		name string
		r    runner.Runner
		argv []string
	}{
		{"not found", runner.Runner{}, []string{"shipgate-test-no-such-command"}},
		{"no such path", runner.Runner{}, []string{"/nonexistent/bin/build"}},
		{"no such directory", runner.Runner{Dir: "/nonexistent/dir"}, []string{"sh", "-c", "true"}},
		{"empty argv", runner.Runner{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.r.Run(context.Background(), tt.argv)
			if res.ExitCode != runner.ExitCannotStart || res.Err == nil {
				t.Fatalf("Run(%q) = exit %d, err %v; want %d and an error", tt.argv, res.ExitCode, res.Err, runner.ExitCannotStart)
			}
			if len(res.Tail) != 1 || !strings.Contains(res.Tail[0], "cannot start") {
				t.Errorf("tail %q; want the error", res.Tail)
			}
			if res.StdoutSHA256 != sum(nil) {
				t.Errorf("stdout digest %s; want that of no output", res.StdoutSHA256)
			}
		})
	}
}

func TestRunTailKeepsLastLines(t *testing.T) {
	needSh(t)
	res := (&runner.Runner{}).Run(context.Background(), []string{"sh", "-c", `i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i+1)); done`})
	var want []string
	for i := 11; i <= 30; i++ {
		want = append(want, fmt.Sprintf("line %d", i))
	}
	if diff := cmp.Diff(want, res.Tail); diff != "" {
		t.Errorf("tail mismatch (-want +got):\n%s", diff)
	}
}

func TestRunTailLines(t *testing.T) {
	needSh(t)
	long := strings.Repeat("é", 400) // 800 bytes: cut at 512, mid-character
	script := fmt.Sprintf(`printf 'a\r\nb\n%s\n'; printf '\377bad\n'; printf 'no newline'`, long)
	res := (&runner.Runner{TailLines: 4}).Run(context.Background(), []string{"sh", "-c", script})
	want := []string{"b", strings.Repeat("é", 256) + "…", "\uFFFDbad", "no newline"}
	if diff := cmp.Diff(want, res.Tail); diff != "" {
		t.Errorf("tail mismatch (-want +got):\n%s", diff)
	}
}

func TestRunClock(t *testing.T) {
	needSh(t)
	t0 := time.Date(2026, 11, 26, 10, 6, 0, 0, time.UTC)
	times := []time.Time{t0, t0.Add(8400 * time.Millisecond)}
	r := &runner.Runner{Now: func() time.Time { v := times[0]; times = times[1:]; return v }}
	res := r.Run(context.Background(), []string{"true"})
	if !res.StartedAt.Equal(t0) || res.Duration != 8400*time.Millisecond {
		t.Errorf("started %v, duration %v; want %v and 8.4s from the clock", res.StartedAt, res.Duration, t0)
	}
}

// The same writer for both streams is safe (go test -race).
func TestRunSameWriter(t *testing.T) {
	needSh(t)
	var both bytes.Buffer
	res := (&runner.Runner{Stdout: &both, Stderr: &both}).Run(context.Background(),
		[]string{"sh", "-c", `i=1; while [ $i -le 200 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done`})
	if res.ExitCode != 0 || strings.Count(both.String(), "\n") != 400 {
		t.Errorf("Run = exit %d, %d lines; want 0 and 400", res.ExitCode, strings.Count(both.String(), "\n"))
	}
}

// A writer that fails (a closed terminal) does not stop the command or
// the hashing.
func TestRunFailingWriter(t *testing.T) {
	needSh(t)
	res := (&runner.Runner{Stdout: failWriter{}}).Run(context.Background(), []string{"sh", "-c", "echo one; echo two"})
	if res.ExitCode != 0 || res.StdoutSHA256 != sum([]byte("one\ntwo\n")) {
		t.Errorf("Run = exit %d, stdout %s; want 0 and the digest of both lines", res.ExitCode, res.StdoutSHA256)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }
