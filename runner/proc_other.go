//go:build !unix

package runner

import (
	"os"
	"os/exec"
)

// killGroup leaves cancellation to os/exec: it kills the process.
func killGroup(*exec.Cmd) {}

func signaled(*os.ProcessState) (int, bool) { return 0, false }
