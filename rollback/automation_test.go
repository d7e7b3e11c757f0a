package rollback_test

import (
	"testing"
	"time"

	"github.com/localizevideos/shipgate/rollback"
)

// The newest Hold event decides; a tie is held: a person asking for a
// hold wins it.
func TestActiveHold(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	place := func(m int, by string) rollback.HoldEvent {
		return rollback.HoldEvent{By: by, Reason: "campaign", At: at(m), Digest: "sha256:" + by}
	}
	lift := func(m int) rollback.HoldEvent { return rollback.HoldEvent{Lift: true, By: "dave", At: at(m)} }
	tests := []struct {
		name   string
		events []rollback.HoldEvent
		want   string
	}{
		{"none", nil, ""},
		{"placed", []rollback.HoldEvent{place(1, "carol")}, "carol"},
		{"lifted later", []rollback.HoldEvent{place(1, "carol"), lift(2)}, ""},
		{"placed again", []rollback.HoldEvent{place(1, "carol"), lift(2), place(3, "erin")}, "erin"},
		{"order of the ledger does not matter", []rollback.HoldEvent{place(3, "erin"), place(1, "carol"), lift(2)}, "erin"},
		{"a tie is held", []rollback.HoldEvent{place(2, "carol"), lift(2)}, "carol"},
		{"a tie is held, either order", []rollback.HoldEvent{lift(2), place(2, "carol")}, "carol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := rollback.ActiveHold(tt.events)
			got := ""
			if h != nil {
				got = h.By
			}
			if got != tt.want {
				t.Errorf("ActiveHold() held by %q; want %q", got, tt.want)
			}
		})
	}
}
