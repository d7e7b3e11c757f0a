package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/store"
)

// crashChildEnv names the ledger file the re-executed test binary appends
// to until it is killed.
const crashChildEnv = "SHIPGATE_SQLITE_CRASH_CHILD"

// crashWriters is how many goroutines of the child append at once, so
// that their decisions share transactions (group commit).
const crashWriters = 4

// crashChild appends decisions to the ledger at path forever, from
// crashWriters goroutines, with a violation every third and a new evidence
// document every fifth, and prints each decision id only after
// RecordDecision returned nil.
func crashChild(path string) {
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Println("ready")
	pid := os.Getpid()
	var mu sync.Mutex
	for w := range crashWriters {
		go func() {
			for i := 0; ; i++ {
				now := time.Now()
				id := fmt.Sprintf("dec_%d_%d_%d", pid, w, i)
				d := store.Decision{ID: id, Body: fmt.Appendf(nil,
					`{"gate":"deploy","release":{"id":"lv-crash","service":"app"},"allow":%t,"evaluatedAt":%q}`,
					i%2 == 0, now.UTC().Format(time.RFC3339Nano))}
				var opened []store.Violation
				if i%3 == 0 {
					opened = []store.Violation{{ID: "vio_" + id, Kind: store.KindViolation, ReleaseID: "lv-crash", Service: "app",
						Rules: []string{"verify.smoke"}, OpenedAt: now, Due: now.Add(time.Hour)}}
				}
				var evs []store.Evidence
				if i%5 == 0 {
					evs = []store.Evidence{{Body: fmt.Appendf(nil, `{"kind":"Build","release":{"id":"lv-crash","service":"app"},"n":%q}`, id)}}
				}
				if err := db.RecordDecision(ctx, now, d, opened, evs); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(4)
				}
				mu.Lock()
				fmt.Println(id)
				mu.Unlock()
			}
		}()
	}
	select {}
}

// A process killed with SIGKILL at a random moment, 50 times on one file,
// leaves a ledger that verifies and holds every decision it answered.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary 50 times")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)
	start := time.Now()
	answered := 0
	for round := range 50 {
		ids, err := killChild(t, path, 5*time.Millisecond+time.Duration(rng.Int64N(int64(45*time.Millisecond))), round%2 == 1)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		answered += len(ids)
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("round %d: Open() = %v", round, err)
		}
		h, err := db.Verify(ctx, nil)
		if err != nil {
			db.Close()
			t.Fatalf("round %d: Verify() = %v", round, err)
		}
		for _, id := range ids {
			if _, err := db.Decision(ctx, id); err != nil {
				db.Close()
				t.Fatalf("round %d: decision %s was answered but is not in the ledger of %d entries: %v", round, id, h.Size, err)
			}
		}
		db.Close()
	}
	db := openT(t, path)
	n, _ := db.Len(ctx)
	ds, err := db.Decisions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("50 kills in %v: %d decisions answered, %d recorded, %d entries",
		time.Since(start).Round(time.Millisecond), answered, len(ds), n)
	if answered == 0 {
		t.Errorf("no decision was answered before a kill: the test tested nothing")
	}
}

// killChild starts a child appending to path and SIGKILLs it after delay,
// counted from the child's start or, with afterReady, from its first
// append. It returns the ids the child printed.
func killChild(t *testing.T, path string, delay time.Duration, afterReady bool) ([]string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var ids []string
	var fire <-chan time.Time
	if !afterReady {
		fire = time.After(delay)
	}
	deadline := time.After(10 * time.Second)
	killed := false
	for !killed {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				return nil, fmt.Errorf("child ended before it was killed: %s", strings.TrimSpace(stderr.String()))
			}
			if l == "ready" {
				if afterReady {
					fire = time.After(delay)
				}
				continue
			}
			ids = append(ids, l)
		case <-fire:
			killed = true
		case <-deadline:
			killed = true
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		return nil, err
	}
	for l := range lines {
		if l != "ready" {
			ids = append(ids, l)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return nil, fmt.Errorf("child: %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return nil, fmt.Errorf("child did not die of SIGKILL: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return ids, nil
}
