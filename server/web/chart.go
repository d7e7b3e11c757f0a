package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/localizevideos/shipgate/store"
)

// The trends page draws two inline SVG charts over a period of whole UTC
// days ending today: decisions per day (allowed and denied, stacked), and
// a grid of rule × day whose cells say how many decisions evaluated the
// rule and how many of them it violated. A long period is drawn a few days
// to a column. Dry runs are left out: they decided nothing.

// maxColumns bounds the columns of both charts.
const maxColumns = 92

type trends struct {
	Days         int
	Since, Until time.Time
	PerColumn    int
	Choices      []int
	Decided      int
	Allowed      int
	Denied       int
	Bars         barChart
	Grid         ruleGrid
	Totals       []ruleTotal
}

type barChart struct {
	Width, Height    int
	Left, Base, Area float64
	Bars             []bar
	Ticks            []tick
	Labels           []label
}

type bar struct {
	Date                               string
	Allowed, Denied                    int
	X, W, AllowY, AllowH, DenyY, DenyH float64
}

type tick struct {
	Y     float64
	Value int
}

type label struct {
	X    float64
	Text string
}

type ruleGrid struct {
	Width, Height int
	Left, Top     float64
	CellW, CellH  float64
	LabelY        float64
	Rows          []gridRow
	Labels        []label
}

type gridRow struct {
	Rule      string
	Y, TextY  float64
	Cells     []gridCell
	Violated  int
	Evaluated int
	TotalX    float64
}

type gridCell struct {
	Date                string
	X                   float64
	Evaluated, Violated int
	// Class is cell-none (no decision evaluated the rule), cell-held (it
	// held every time) or cell-violated; Opacity grows with the count.
	Class   string
	Opacity float64
}

type ruleTotal struct {
	Rule                string
	Evaluated, Violated int
}

// ruleFindings is what the charts read of a decision body: the rules that
// applied and those that fired.
type ruleFindings struct {
	Rules      []string `json:"rules"`
	Violations []struct {
		Rule string `json:"rule"`
	} `json:"violations"`
}

func newTrends(ds []store.Decision, now time.Time, days int) (*trends, error) {
	until := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	t := &trends{Days: days, Since: until.AddDate(0, 0, -days), Until: until, Choices: []int{7, 30, 90, 365}}
	t.PerColumn = (days + maxColumns - 1) / maxColumns
	cols := (days + t.PerColumn - 1) / t.PerColumn
	colOf := func(at time.Time) int {
		return int(at.Sub(t.Since)/(24*time.Hour)) / t.PerColumn
	}
	dates := make([]string, cols)
	for i := range dates {
		dates[i] = t.Since.AddDate(0, 0, i*t.PerColumn).Format(time.DateOnly)
	}
	allowed, denied := make([]int, cols), make([]int, cols)
	evaluated, violated := map[string][]int{}, map[string][]int{}
	count := func(m map[string][]int, rule string, col int) {
		if m[rule] == nil {
			m[rule] = make([]int, cols)
		}
		m[rule][col]++
	}
	for _, d := range ds {
		if d.DryRun || d.EvaluatedAt.Before(t.Since) || !d.EvaluatedAt.Before(t.Until) {
			continue
		}
		var rec ruleFindings
		if err := json.Unmarshal(d.Body, &rec); err != nil {
			return nil, fmt.Errorf("recorded decision %s: %w", d.ID, err)
		}
		col := colOf(d.EvaluatedAt)
		t.Decided++
		if d.Allow {
			t.Allowed++
			allowed[col]++
		} else {
			t.Denied++
			denied[col]++
		}
		fired := map[string]bool{}
		for _, f := range rec.Violations {
			if !fired[f.Rule] {
				fired[f.Rule] = true
				count(violated, f.Rule, col)
			}
		}
		// A rule that fired counts as evaluated even when the engine did
		// not list it (missing evidence, a fault).
		applied := map[string]bool{}
		for _, rule := range append(slices.Clone(rec.Rules), slices.Collect(maps.Keys(fired))...) {
			if !applied[rule] {
				applied[rule] = true
				count(evaluated, rule, col)
			}
		}
	}
	t.Bars = newBarChart(dates, allowed, denied)
	for rule, ev := range evaluated {
		rt := ruleTotal{Rule: rule}
		for i := range ev {
			rt.Evaluated += ev[i]
			if v := violated[rule]; v != nil {
				rt.Violated += v[i]
			}
		}
		t.Totals = append(t.Totals, rt)
	}
	slices.SortFunc(t.Totals, func(a, b ruleTotal) int {
		return cmp.Or(cmp.Compare(b.Violated, a.Violated), cmp.Compare(b.Evaluated, a.Evaluated), cmp.Compare(a.Rule, b.Rule))
	})
	t.Grid = newRuleGrid(dates, t.Totals, evaluated, violated)
	return t, nil
}

func newBarChart(dates []string, allowed, denied []int) barChart {
	const left, top, plot, bottom = 40.0, 10.0, 160.0, 30.0
	n := len(dates)
	slot := math.Max(6, math.Min(24, 680/math.Max(1, float64(n))))
	c := barChart{Left: left, Base: top + plot, Area: slot * float64(n)}
	c.Width, c.Height = int(left+c.Area+10), int(top+plot+bottom)
	most := 1
	for i := range dates {
		most = max(most, allowed[i]+denied[i])
	}
	scale := plot / float64(most)
	every := int(math.Ceil(float64(n) / 10))
	for i, date := range dates {
		x := left + slot*float64(i)
		ah, dh := float64(allowed[i])*scale, float64(denied[i])*scale
		c.Bars = append(c.Bars, bar{Date: date, Allowed: allowed[i], Denied: denied[i], X: x + slot*0.15, W: slot * 0.7,
			AllowY: c.Base - ah, AllowH: ah, DenyY: c.Base - ah - dh, DenyH: dh})
		if i%every == 0 {
			c.Labels = append(c.Labels, label{X: x + slot/2, Text: date[5:]})
		}
	}
	ticks := []int{0, most}
	if half := most / 2; half > 0 && half < most {
		ticks = []int{0, half, most}
	}
	for _, v := range ticks {
		c.Ticks = append(c.Ticks, tick{Y: c.Base - float64(v)*scale, Value: v})
	}
	return c
}

func newRuleGrid(dates []string, totals []ruleTotal, evaluated, violated map[string][]int) ruleGrid {
	const left, top, cellH, right = 260.0, 6.0, 18.0, 70.0
	n := len(dates)
	cellW := math.Max(5, math.Min(20, 640/math.Max(1, float64(n))))
	g := ruleGrid{Left: left, Top: top, CellW: cellW, CellH: cellH}
	most := 1
	for _, v := range violated {
		for _, c := range v {
			most = max(most, c)
		}
	}
	for r, rt := range totals {
		y := top + cellH*float64(r)
		row := gridRow{Rule: rt.Rule, Y: y, TextY: y + 13, Violated: rt.Violated, Evaluated: rt.Evaluated, TotalX: left + cellW*float64(n) + 6}
		for i, date := range dates {
			c := gridCell{Date: date, X: left + cellW*float64(i), Evaluated: evaluated[rt.Rule][i], Class: "cell-none", Opacity: 1}
			if v := violated[rt.Rule]; v != nil {
				c.Violated = v[i]
			}
			switch {
			case c.Violated > 0:
				c.Class, c.Opacity = "cell-violated", math.Round((0.35+0.65*float64(c.Violated)/float64(most))*100)/100
			case c.Evaluated > 0:
				c.Class = "cell-held"
			}
			row.Cells = append(row.Cells, c)
		}
		g.Rows = append(g.Rows, row)
	}
	every := int(math.Ceil(float64(n) / 10))
	base := top + cellH*float64(len(totals))
	for i, date := range dates {
		if i%every == 0 {
			g.Labels = append(g.Labels, label{X: left + cellW*float64(i) + cellW/2, Text: date[5:]})
		}
	}
	g.LabelY = base + 16
	g.Width = int(left + cellW*float64(n) + right)
	g.Height = int(base + 24)
	return g
}
