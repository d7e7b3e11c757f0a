package project

import (
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/store"
)

func TestChecksVars(t *testing.T) {
	o := &Checks{File: "checks.yaml", Vars: []string{"novalue"}}
	if _, err := o.Load(); err == nil || !strings.Contains(err.Error(), `--var "novalue": want K=V`) {
		t.Errorf("Load(--var novalue) = %v; want a K=V error", err)
	}
}

func TestViolationFilter(t *testing.T) {
	tests := []struct {
		in      ViolationFilter
		want    store.Filter
		wantErr bool
	}{
		{ViolationFilter{}, store.Filter{}, false},
		{ViolationFilter{Open: true, Service: "web"}, store.Filter{Status: store.StatusOpen, Service: "web"}, false},
		{ViolationFilter{Closed: true, Release: "r1"}, store.Filter{Status: store.StatusClosed, ReleaseID: "r1"}, false},
		{ViolationFilter{Open: true, Closed: true}, store.Filter{}, true},
	}
	for _, tt := range tests {
		got, err := tt.in.Filter()
		if (err != nil) != tt.wantErr || !tt.wantErr && got != tt.want {
			t.Errorf("%+v.Filter() = %+v, %v; want %+v (error: %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
