//go:build !unix

package sqlite

// canCreateIn cannot ask the system without writing: it assumes a
// directory is writable, so OpenReadOnly reads through SQLite's locks (and
// may create the -wal and -shm files), never the immutable way.
func canCreateIn(dir string) bool { return true }
