//go:build race

package sqlite

// raceEnabled: under the race detector the exhaustive tamper test covers
// every byte of fewer entries; it has nothing concurrent to check and would
// take minutes.
const raceEnabled = true
