package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain runs shipgate itself when the test binary is started as a
// child by runShipgate, so that a test can send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("SHIPGATE_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

func TestInterruptible(t *testing.T) {
	never := func(ctx context.Context) int { select {} }
	for _, tc := range []struct {
		name    string
		execute func(context.Context) int
		sigs    []os.Signal
		want    int
		said    bool
	}{
		{"returns without a signal", func(context.Context) int { return 1 }, nil, 1, false},
		{"returns once cancelled", func(ctx context.Context) int { <-ctx.Done(); return 2 }, []os.Signal{syscall.SIGTERM}, 2, false},
		{"blocked: SIGTERM", never, []os.Signal{syscall.SIGTERM}, 143, true},
		{"blocked: SIGINT", never, []os.Signal{os.Interrupt}, 130, true},
		{"a second signal", never, []os.Signal{syscall.SIGINT, syscall.SIGTERM}, 130, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sigs := make(chan os.Signal, len(tc.sigs))
			for _, s := range tc.sigs {
				sigs <- s
			}
			grace := 50 * time.Millisecond
			if len(tc.sigs) > 1 {
				grace = time.Hour // only the second signal can end the wait
			}
			var errOut bytes.Buffer
			got := interruptible(tc.execute, sigs, &errOut, grace)
			if got != tc.want {
				t.Errorf("interruptible() = %d; want %d", got, tc.want)
			}
			if said := errOut.String() == "shipgate: interrupted\n"; said != tc.said {
				t.Errorf("interruptible() wrote %q; want the interruption said: %t", errOut.String(), tc.said)
			}
		})
	}
}

// TestSignalStopsABlockedCommand interrupts shipgate serve while a client
// holds a connection with an unfinished request, which keeps the server's
// graceful shutdown waiting for seconds: the process must still exit
// within a second of the signal, with 128 + its number.
func TestSignalStopsABlockedCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM to send")
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{
		{syscall.SIGTERM, 143},
		{syscall.SIGINT, 130},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			c, addr, errOut := startServe(t)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// The request line without the end of the headers: the
			// connection is not idle, so Shutdown waits for it.
			if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			code, took := stop(t, c, tc.sig)
			if code != tc.code || took > 1500*time.Millisecond {
				t.Errorf("shipgate serve after %s = exit %d after %s; want %d within 1.5s\n%s", tc.sig, code, took, tc.code, errOut)
			}
			if !strings.Contains(errOut.String(), "shipgate: interrupted\n") {
				t.Errorf("shipgate serve after %s wrote on stderr:\n%s\nwant shipgate: interrupted", tc.sig, errOut)
			}
		})
	}
}

// TestSignalLetsACommandFinish: a command that returns once cancelled
// exits with its own code; an idle server stops cleanly.
func TestSignalLetsACommandFinish(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM to send")
	}
	c, _, errOut := startServe(t)
	code, took := stop(t, c, syscall.SIGTERM)
	if code != 0 || took > time.Second || strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("idle shipgate serve after SIGTERM = exit %d after %s; want 0 at once\n%s", code, took, errOut)
	}
}

// startServe runs this test binary as shipgate serve on a free port and
// returns once it listens, with its address and its stderr.
func startServe(t *testing.T) (*exec.Cmd, string, *lockedBuffer) {
	t.Helper()
	dir := t.TempDir()
	c := exec.Command(os.Args[0], "serve", "--store", filepath.Join(dir, "ledger.db"), "--listen", "127.0.0.1:0")
	c.Dir = dir
	c.Env = append(os.Environ(), "SHIPGATE_TEST_MAIN=1")
	errOut := &lockedBuffer{}
	c.Stderr = errOut
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.ProcessState == nil {
			c.Process.Kill()
			c.Wait()
		}
	})
	listening := regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := listening.FindStringSubmatch(errOut.String()); m != nil {
			return c, m[1], errOut
		}
	}
	t.Fatalf("shipgate serve did not listen:\n%s", errOut)
	return nil, "", nil
}

// stop sends sig to c and returns its exit code and how long it took to
// exit; a process still running after 10s is killed.
func stop(t *testing.T, c *exec.Cmd, sig syscall.Signal) (int, time.Duration) {
	t.Helper()
	kill := time.AfterFunc(10*time.Second, func() { c.Process.Kill() })
	defer kill.Stop()
	start := time.Now()
	if err := c.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	return c.ProcessState.ExitCode(), time.Since(start)
}

// lockedBuffer is a child's stderr, read while it is written.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
