// Package pm2 reads what PM2 says about the processes it runs, through
// `pm2 jlist`, keeping an allow-list of fields only: name, ids, status,
// restart count, start time, working directory, script path and version.
// `pm2 jlist` also carries each process's whole environment, secrets
// included; it is never decoded, let alone stored.
package pm2

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is the allow-listed view of one PM2 process.
type Process struct {
	Name string `json:"name"`
	// PMID is PM2's id of the process; PID the operating system's (0 when
	// it is not running).
	PMID int `json:"pmId"`
	PID  int `json:"pid"`
	// Status is online, stopping, stopped, launching, errored or one-launch-status.
	Status string `json:"status"`
	// Restarts counts the restarts since PM2 started the process (by hand,
	// by a deploy, or after a crash).
	Restarts int `json:"restarts"`
	// StartedAt is when the running process started (pm_uptime).
	StartedAt time.Time `json:"startedAt"`
	// Cwd is the directory it runs in; ExecPath its script.
	Cwd      string `json:"cwd"`
	ExecPath string `json:"execPath"`
	// Version is the app's package version; Revision the commit PM2's
	// versioning found, when it found one.
	Version  string `json:"version,omitempty"`
	Revision string `json:"revision,omitempty"`
}

// jlistEntry is the part of a `pm2 jlist` entry that is read. Any field not
// named here, pm2_env's environment among them, is skipped by the decoder.
type jlistEntry struct {
	Name  *string `json:"name"`
	PMID  *int    `json:"pm_id"`
	PID   int     `json:"pid"`
	PMEnv *struct {
		Status      string  `json:"status"`
		RestartTime int     `json:"restart_time"`
		PMUptime    float64 `json:"pm_uptime"`
		PMCwd       string  `json:"pm_cwd"`
		PMExecPath  string  `json:"pm_exec_path"`
		Version     string  `json:"version"`
		Versioning  *struct {
			Revision string `json:"revision"`
		} `json:"versioning"`
	} `json:"pm2_env"`
}

// Parse reads the output of `pm2 jlist`. PM2 may print a banner before the
// JSON on its first call; it is skipped. Output without a JSON array, or an
// entry without a name, id or pm2_env, is an error.
func Parse(out []byte) ([]Process, error) {
	// The array starts a line; a banner line starting with "[PM2]" does not
	// decode as one.
	var entries []jlistEntry
	var err error = fmt.Errorf("pm2 jlist: no JSON array in its output (%q)", clip(out))
	for off := 0; off < len(out); {
		if out[off] == '[' {
			var e []jlistEntry
			if derr := json.NewDecoder(bytes.NewReader(out[off:])).Decode(&e); derr == nil {
				entries, err = e, nil
				break
			} else if !bytes.HasPrefix(out[off:], []byte("[PM2")) {
				err = fmt.Errorf("pm2 jlist: %w", derr)
			}
		}
		nl := bytes.IndexByte(out[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	if err != nil {
		return nil, err
	}
	procs := make([]Process, 0, len(entries))
	for i, e := range entries {
		if e.Name == nil || e.PMID == nil || e.PMEnv == nil {
			return nil, fmt.Errorf("pm2 jlist: /%d: want name, pm_id and pm2_env", i)
		}
		p := Process{Name: *e.Name, PMID: *e.PMID, PID: e.PID, Status: e.PMEnv.Status, Restarts: e.PMEnv.RestartTime,
			Cwd: e.PMEnv.PMCwd, ExecPath: e.PMEnv.PMExecPath, Version: e.PMEnv.Version}
		if e.PMEnv.PMUptime > 0 {
			p.StartedAt = time.UnixMilli(int64(e.PMEnv.PMUptime)).UTC()
		}
		if e.PMEnv.Versioning != nil {
			p.Revision = e.PMEnv.Versioning.Revision
		}
		procs = append(procs, p)
	}
	return procs, nil
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ErrNotRunning means the PM2 daemon of the PM2 home is not running: what
// it runs is unknown, which never counts as "nothing to report".
var ErrNotRunning = errors.New("pm2 daemon not running")

// ErrNoApp means PM2 runs no process of the name asked for.
var ErrNoApp = errors.New("no such pm2 app")

// Client runs the pm2 command.
type Client struct {
	// Bin is the pm2 executable ("pm2" on $PATH when empty), e.g. the app's
	// node_modules/.bin/pm2.
	Bin string
	// Home is the PM2_HOME the daemon runs with. When set, the daemon must
	// be running there: List does not start one (pm2 would, and answer
	// with an empty list).
	Home string
	// Env is the environment of the pm2 command; nil inherits the caller's.
	// PM2_HOME is set to Home when Home is set.
	Env []string
	// Timeout bounds one pm2 call; 0 is 20 seconds.
	Timeout time.Duration
}

// List returns the processes PM2 runs.
func (c *Client) List(ctx context.Context) ([]Process, error) {
	if c.Home != "" {
		if err := daemonRunning(c.Home); err != nil {
			return nil, err
		}
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	bin := c.Bin
	if bin == "" {
		bin = "pm2"
	}
	cmd := exec.CommandContext(ctx, bin, "jlist")
	cmd.Env = c.Env
	if c.Home != "" {
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(cmd.Env, "PM2_HOME="+c.Home)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s jlist: %w (%s)", bin, err, clip(stderr.Bytes()))
	}
	return Parse(out)
}

// Find returns the process named name.
func (c *Client) Find(ctx context.Context, name string) (Process, error) {
	procs, err := c.List(ctx)
	if err != nil {
		return Process{}, err
	}
	for _, p := range procs {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, 0, len(procs))
	for _, p := range procs {
		names = append(names, p.Name)
	}
	return Process{}, fmt.Errorf("%w %q (pm2 runs: %s)", ErrNoApp, name, strings.Join(names, ", "))
}

// daemonRunning checks the PM2 daemon's pid file in home names a live
// process.
func daemonRunning(home string) error {
	b, err := os.ReadFile(filepath.Join(home, "pm2.pid"))
	if err != nil {
		return fmt.Errorf("%w (PM2_HOME %s): %w", ErrNotRunning, home, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return fmt.Errorf("%w (PM2_HOME %s): pm2.pid holds %q", ErrNotRunning, home, clip(b))
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return fmt.Errorf("%w (PM2_HOME %s): pid %d: %w", ErrNotRunning, home, pid, err)
	}
	return nil
}
