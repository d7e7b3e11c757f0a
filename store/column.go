package store

import (
	"encoding/json"
	"time"
)

// timeLayout is RFC 3339 in UTC with a fixed nine fractional digits.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime is how the query tables of every store keep a time: RFC 3339
// in UTC with a fixed nine fractional digits, so that text order is time
// order and times round-trip to the nanosecond (the times in evidence
// documents and decisions have nanoseconds; SQL timestamps stop at
// microseconds).
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ParseTime reads a time FormatTime wrote, in UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// Payload returns the payload of a stored entry body, without the full
// check ledger.Parse makes: reads trust the ledger, Verify checks it.
func Payload(body []byte) (json.RawMessage, error) {
	var e struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, err
	}
	return e.Payload, nil
}
