// Package runner runs a release step's command and describes what really
// happened as evidence: the argv, start and end, duration, exit code, the
// SHA-256 of stdout and of stderr, and the last lines of output, plus the CI
// run it belongs to. The output streams through to the caller as it comes.
//
// Build and Deploy turn a Result into the JSON of a Build or Deploy evidence
// document (docs/evidence.md); the caller decodes that with an
// evidence.Validator like any other evidence.
package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Defaults of a Runner.
const (
	DefaultTailLines = 20
	// DefaultWaitDelay bounds how long Run waits, once the command has
	// exited or been killed, for output pipes held open by processes it
	// left behind.
	DefaultWaitDelay = 5 * time.Second
	// ExitCannotStart is the exit code of a command that could not start,
	// as shells report a command not found.
	ExitCannotStart = 127
	// maxLine bounds one line of the tail, in bytes.
	maxLine = 512
)

// Runner runs commands. The zero value discards output, inherits the
// environment and the working directory, and reads the real clock.
type Runner struct {
	// Stdout and Stderr receive the command's output as it is written; nil
	// discards it. A failing writer does not stop the command, nor the
	// hashing.
	Stdout, Stderr io.Writer
	// Dir is the working directory; "" is the caller's.
	Dir string
	// Env is the environment; nil inherits the caller's.
	Env []string
	// Now reads the clock; nil is time.Now.
	Now func() time.Time
	// TailLines is how many of the last output lines Result.Tail keeps;
	// 0 is DefaultTailLines.
	TailLines int
	// WaitDelay: see DefaultWaitDelay; 0 is the default.
	WaitDelay time.Duration
}

// Result is what a command did.
type Result struct {
	Argv                  []string
	StartedAt, FinishedAt time.Time
	Duration              time.Duration
	// ExitCode is the command's exit status; 128+N when signal N killed it;
	// ExitCannotStart when it could not start.
	ExitCode int
	// StdoutSHA256 and StderrSHA256 are "sha256:" + the hex SHA-256 of
	// everything the command wrote to each stream.
	StdoutSHA256, StderrSHA256 string
	// Tail is the last lines of output, stdout and stderr interleaved as
	// they arrived, each cut at 512 bytes, with a last line from shipgate
	// when the command could not start or was killed.
	Tail []string
	// Err says why the command did not run to its own end: it could not
	// start (ExitCannotStart), or the context was done and it was killed.
	// A command that ran and failed has no Err, only its ExitCode.
	Err error
}

// Run runs argv[0] with the arguments argv[1:] (no shell) and waits for it.
// When ctx is done the command and its process group are killed.
func (r *Runner) Run(ctx context.Context, argv []string) Result {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	n := r.TailLines
	if n <= 0 {
		n = DefaultTailLines
	}
	t := &tail{max: n}
	outHash, errHash := sha256.New(), sha256.New()
	// One lock for both: the caller may pass the same writer twice.
	var mu sync.Mutex
	stdout := &tee{out: r.Stdout, mu: &mu, hash: outHash, line: &lineWriter{t: t}}
	stderr := &tee{out: r.Stderr, mu: &mu, hash: errHash, line: &lineWriter{t: t}}
	res := Result{Argv: append([]string(nil), argv...)}
	finish := func(err error) Result {
		stdout.line.flush()
		stderr.line.flush()
		if err != nil {
			res.Err = err
			t.add("shipgate: " + err.Error())
		}
		res.FinishedAt = now()
		res.Duration = max(res.FinishedAt.Sub(res.StartedAt), 0)
		res.StdoutSHA256, res.StderrSHA256 = digest(outHash), digest(errHash)
		res.Tail = t.lines()
		return res
	}

	res.StartedAt = now()
	if len(argv) == 0 {
		res.ExitCode = ExitCannotStart
		return finish(errors.New("cannot start: no command"))
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = r.Dir, r.Env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = r.WaitDelay
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = DefaultWaitDelay
	}
	killGroup(cmd)
	if err := cmd.Start(); err != nil {
		res.ExitCode = ExitCannotStart
		return finish(fmt.Errorf("cannot start %s: %w", argv[0], err))
	}
	err := cmd.Wait()
	res.ExitCode = exitCode(cmd)
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil && (err != nil || res.ExitCode != 0):
		return finish(fmt.Errorf("%s killed: %w", argv[0], context.Cause(ctx)))
	case err == nil, errors.As(err, &ee), errors.Is(err, exec.ErrWaitDelay):
		// It ran to its end; the exit code says how it went. Output that
		// processes it left behind wrote after WaitDelay is not counted.
		return finish(nil)
	default:
		return finish(fmt.Errorf("wait for %s: %w", argv[0], err))
	}
}

func exitCode(cmd *exec.Cmd) int {
	ps := cmd.ProcessState
	if ps == nil {
		return ExitCannotStart
	}
	if sig, ok := signaled(ps); ok {
		return 128 + sig
	}
	return ps.ExitCode()
}

func digest(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

// tee hashes and keeps the tail of everything written, and passes it on to
// out. A failing out (a closed terminal) is dropped, not the command.
type tee struct {
	out  io.Writer
	mu   *sync.Mutex // guards writes to out
	hash hash.Hash
	line *lineWriter
}

func (w *tee) Write(p []byte) (int, error) {
	w.hash.Write(p)
	w.line.write(p)
	if w.out != nil {
		w.mu.Lock()
		_, err := w.out.Write(p)
		w.mu.Unlock()
		if err != nil {
			w.out = nil
		}
	}
	return len(p), nil
}

// tail keeps the last max lines from several streams.
type tail struct {
	mu  sync.Mutex
	buf []string
	max int
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, line)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
}

func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append(make([]string, 0, len(t.buf)), t.buf...)
}

// lineWriter splits one stream into lines for the tail, holding at most
// maxLine bytes of an unfinished line.
type lineWriter struct {
	t       *tail
	partial []byte
	long    bool // the current line went past maxLine
	pending bool // a line has started and not been added
}

func (l *lineWriter) write(p []byte) {
	for len(p) > 0 {
		l.pending = true
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := maxLine - len(l.partial); len(chunk) > room {
			l.partial = append(l.partial, chunk[:room]...)
			l.long = true
		} else {
			l.partial = append(l.partial, chunk...)
		}
		if i < 0 {
			return
		}
		l.flush()
		p = p[i+1:]
	}
}

func (l *lineWriter) flush() {
	if !l.pending {
		return
	}
	s := strings.TrimSuffix(string(l.partial), "\r")
	if l.long {
		// Cutting at maxLine may split a character: drop its first bytes.
		for i := 0; i < utf8.UTFMax-1 && len(s) > 0; i++ {
			if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
				break
			}
			s = s[:len(s)-1]
		}
		s += "…"
	}
	l.t.add(strings.ToValidUTF8(s, "\uFFFD"))
	l.partial, l.long, l.pending = l.partial[:0], false, false
}
