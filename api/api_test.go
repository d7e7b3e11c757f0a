package api_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/api"
	"github.com/localizevideos/shipgate/store"
)

func TestNewTokenViews(t *testing.T) {
	created := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	ts := []store.Token{
		{ID: "tok_1", Name: "ops", Role: "admin", CreatedAt: created, CreatedBy: "cli:erin"},
		{ID: "tok_2", Name: "ci", Role: "pipeline", CreatedAt: created, CreatedBy: "cli:erin", RevokedAt: created.Add(time.Hour), RevokedBy: "cli:frank"},
	}
	want := []api.TokenView{
		{ID: "tok_1", Name: "ops", Role: "admin", CreatedAt: "2026-11-28T10:00:00Z", CreatedBy: "cli:erin", Active: true},
		{ID: "tok_2", Name: "ci", Role: "pipeline", CreatedAt: "2026-11-28T10:00:00Z", CreatedBy: "cli:erin", RevokedAt: "2026-11-28T11:00:00Z", RevokedBy: "cli:frank"},
	}
	if diff := cmp.Diff(want, api.NewTokenViews(ts)); diff != "" {
		t.Errorf("NewTokenViews (-want +got):\n%s", diff)
	}
	if got := api.NewTokenViews(nil); got == nil || len(got) != 0 {
		t.Errorf("NewTokenViews(nil) = %#v; want an empty list (JSON [])", got)
	}
}
