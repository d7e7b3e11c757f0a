//go:build unix

package sqlite

import "syscall"

// canCreateIn reports whether this process may create files in dir: false
// on a read-only mount (EROFS), for a directory marked immutable (EPERM),
// and, for anyone but root, without write permission.
func canCreateIn(dir string) bool {
	const wOK = 0x2 // W_OK
	return syscall.Access(dir, wOK) == nil
}
