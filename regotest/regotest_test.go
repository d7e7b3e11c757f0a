package regotest

import "testing"

func TestReportCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		rep  Report
		min  float64
		want string
	}{
		{"none ran", Report{Skipped: 2}, 0, "no policy test ran"},
		{"failed", Report{Passed: 3, Failed: 1, Errored: 2}, 0, "1 policy tests failed, 2 errors"},
		{"below coverage", Report{Passed: 3, Coverage: 79.5}, 80, "coverage 79.50% is below --min-coverage 80.00%"},
		{"ok", Report{Passed: 3, Coverage: 80}, 80, ""},
	} {
		got := ""
		if err := c.rep.Check(c.min); err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s: Check(%v) = %q; want %q", c.name, c.min, got, c.want)
		}
	}
}
