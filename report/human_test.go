package report

import "testing"

func TestHuman(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"a ratio as divided", "error_rate (observed 0.03424773909781908, baseline 0)", "error_rate (observed 0.0342, baseline 0)"},
		{"nanosecond window", "monitoring 2026-12-06T08:22:44.917023352Z to 2026-12-06T08:22:58.917316537Z breached",
			"monitoring 2026-12-06T08:22:44Z to 2026-12-06T08:22:58Z breached"},
		{"PM2 milliseconds", "started at 2026-12-06T08:23:07.465Z, restart #6", "started at 2026-12-06T08:23:07Z, restart #6"},
		{"an offset is UTC", "approved at 2026-12-06T09:23:07+01:00", "approved at 2026-12-06T08:23:07Z"},
		{"same second: milliseconds", "started at 2026-12-06T08:23:07.465Z, after the deploy finished at 2026-12-06T08:23:07.123456Z",
			"started at 2026-12-06T08:23:07.465Z, after the deploy finished at 2026-12-06T08:23:07.123Z"},
		{"a minute fraction", "lasted 0.23333821975 minutes, shorter than the required 0.25 minutes", "lasted 0.233 minutes, shorter than the required 0.25 minutes"},
		{"rounding would reach the threshold", "lasted 14.9999876 minutes, shorter than the required 15 minutes",
			"lasted 14.99999 minutes, shorter than the required 15 minutes"},
		{"two values that would read the same", "observed 0.0123451 above 0.0123449", "observed 0.01235 above 0.01234"},
		{"integer digits kept", "memory 187432960.123456 B", "memory 187432960 B"},
		{"a unit after", "rollback took 8.4375s: build 2.0001s", "rollback took 8.44s: build 2s"},
		{"negative", "delta -0.000123456", "delta -0.000123"},
		{"few decimals stay", "observed 0.094, baseline 0.003, 8.4s, 96", "observed 0.094, baseline 0.003, 8.4s, 96"},
		{"a version stays", "node v1.23456 and 1.2.34567 and lv-2026-11-26.12345", "node v1.23456 and 1.2.34567 and lv-2026-11-26.12345"},
		{"a digest stays", "Build 3f2c9a0e5b1d.12345678", "Build 3f2c9a0e5b1d.12345678"},
		{"a sentence's full stop", "remains 0.03424773909781908.", "remains 0.0342."},
		{"nothing to do", "no approval", "no approval"},
	} {
		if got := human(c.in); got != c.want {
			t.Errorf("%s: human(%q) = %q; want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestFmtPercent(t *testing.T) {
	for in, want := range map[float64]string{0.03424773909781908: "3.42 %", 2.0 / 3: "66.7 %", 1: "100 %", 0: "0 %", 0.4: "40 %"} {
		if got := fmtPercent(in); got != want {
			t.Errorf("fmtPercent(%v) = %q; want %q", in, got, want)
		}
	}
}
