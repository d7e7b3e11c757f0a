package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"sync"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed once, when a report is first written as HTML
// (not at start-up: most commands write none); html/template escapes every
// value for the context it lands in (text, attribute, CSS), so evidence
// text cannot become markup.
var htmlTemplate = sync.OnceValue(parseHTMLTemplate)

func parseHTMLTemplate() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"time":          fmtTime,
		"timep":         fmtTimePtr,
		"secs":          fmtSeconds,
		"secsp":         fmtSecondsPtr,
		"durations":     fmtDurations,
		"rate":          fmtRate,
		"failed":        fmtFailed,
		"short":         short,
		"shortList":     shortList,
		"verdict":       verdict,
		"human":         human,
		"sentence":      sentence,
		"reconcile":     isReconcile,
		"observation":   func(o *Observation) string { return observation(*o) },
		"reconcileNote": func() string { return reconcileNote },
		"flags":         func(r Release) string { return strings.Join(flags(r), ", ") },
		"join":          strings.Join,
		"ruleLabel":     ruleLabel,
		"byDocument":    byDocument,
		"nonHeld":       nonHeld,
		"held":          held,
		"enforcement":   enforcementOf,
		"scope":         scope,
		"trimDot":       func(s string) string { return strings.TrimSuffix(s, ".") },
		"status": func(v Violation) string {
			switch {
			case v.Late:
				return v.Status + " (late)"
			case v.Overdue:
				return v.Status + " (overdue)"
			}
			return v.Status
		},
		"f1":  func(f float64) string { return fmt.Sprintf("%.1f", f) },
		"add": func(a, b float64) float64 { return a + b },
	}).Parse(htmlSource))
}

// htmlView is what the template renders: the report and its two charts.
type htmlView struct {
	*Report
	Denials           ruleChart
	PerDay            dayChart
	AttributionMethod string
}

func writeHTML(w io.Writer, rep *Report) error {
	v := htmlView{Report: rep, Denials: newRuleChart(rep.Summary.DenialsByRule), PerDay: newDayChart(rep.Days), AttributionMethod: AttributionMethod}
	return htmlTemplate().Execute(w, v)
}

// ruleChart is a horizontal bar per rule: its denials.
type ruleChart struct {
	Width, Height int
	Bars          []ruleBar
}

type ruleBar struct {
	Rule, Title   string
	Count         int
	Y, TextY, W   float64
	CountX, BarX0 float64
}

const (
	ruleLabelWidth = 270.0
	ruleBarArea    = 380.0
	ruleRow        = 22.0
)

func newRuleChart(rcs []RuleCount) ruleChart {
	c := ruleChart{Width: int(ruleLabelWidth + ruleBarArea + 60), Height: int(ruleRow*float64(len(rcs)) + 10)}
	most := 1
	for _, rc := range rcs {
		most = max(most, rc.Denials)
	}
	for i, rc := range rcs {
		y := 5 + ruleRow*float64(i)
		w := math.Max(1, math.Round(float64(rc.Denials)/float64(most)*ruleBarArea))
		c.Bars = append(c.Bars, ruleBar{Rule: rc.Rule, Title: rc.Title, Count: rc.Denials, Y: y, TextY: y + 14, W: w,
			BarX0: ruleLabelWidth, CountX: ruleLabelWidth + w + 6})
	}
	return c
}

// dayChart is a stacked bar per day: allowed below, denied above.
type dayChart struct {
	// PerBar is the number of days a bar counts.
	PerBar           int
	Width, Height    int
	Left, Base, Area float64
	Bars             []dayBar
	Ticks            []dayTick
	Labels           []dayLabel
}

type dayBar struct {
	Date                               string
	Allowed, Denied                    int
	X, W, AllowY, AllowH, DenyY, DenyH float64
}

type dayTick struct {
	Y     float64
	Value int
}

type dayLabel struct {
	X    float64
	Text string
}

// maxDayBars bounds the bars of the per-day chart; a longer period is
// drawn a few days to a bar.
const maxDayBars = 92

// dayLabelWidth is the room a day label ("11-26", 11px) takes with a gap
// on either side: labels are put at least this far apart, so a short
// period's labels do not overlap.
const dayLabelWidth = 40.0

func newDayChart(all []Day) dayChart {
	const left, top, plot, bottom = 40.0, 10.0, 180.0, 30.0
	days, per := all, 1
	if n := len(all); n > maxDayBars {
		per = (n + maxDayBars - 1) / maxDayBars
		days = nil
		for i := 0; i < n; i += per {
			b := Day{Date: all[i].Date}
			for _, d := range all[i:min(i+per, n)] {
				b.Allowed += d.Allowed
				b.Denied += d.Denied
			}
			days = append(days, b)
		}
	}
	// A few days get wide slots, a long period narrow ones.
	slot := math.Max(6, math.Min(dayLabelWidth+8, 680/math.Max(1, float64(len(days)))))
	c := dayChart{PerBar: per, Left: left, Base: top + plot, Area: slot * float64(len(days))}
	// Room for the last label, centred on the last slot.
	c.Width = int(math.Ceil(left + c.Area + dayLabelWidth/2))
	c.Height = int(top + plot + bottom)
	most := 1
	for _, d := range days {
		most = max(most, d.Allowed+d.Denied)
	}
	scale := plot / float64(most)
	every := max(1, int(math.Ceil(dayLabelWidth/slot)))
	for i, d := range days {
		x := left + slot*float64(i)
		ah, dh := float64(d.Allowed)*scale, float64(d.Denied)*scale
		c.Bars = append(c.Bars, dayBar{Date: d.Date, Allowed: d.Allowed, Denied: d.Denied, X: x + slot*0.15, W: slot * 0.7,
			AllowY: c.Base - ah, AllowH: ah, DenyY: c.Base - ah - dh, DenyH: dh})
		if i%every == 0 {
			c.Labels = append(c.Labels, dayLabel{X: x + slot/2, Text: d.Date[5:]})
		}
	}
	ticks := []int{0, most}
	if half := most / 2; half > 0 && half < most {
		ticks = []int{0, half, most}
	}
	for _, v := range ticks {
		c.Ticks = append(c.Ticks, dayTick{Y: c.Base - float64(v)*scale, Value: v})
	}
	return c
}
