package web

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strings"
	"time"
)

// pageNames are the page templates; each defines "content" for the
// layout.
var pageNames = []string{"signin.html", "error.html", "releases.html", "release.html", "approvals.html", "violations.html", "trends.html"}

// funcs are the template helpers. html/template escapes every value for
// where it lands (text, attribute, URL), so recorded text cannot become
// markup.
var funcs = template.FuncMap{
	"time":       fmtTime,
	"short":      shortDigest,
	"releaseURL": func(id string) string { return "/releases/" + url.PathEscape(id) },
	"approveURL": func(id string) string { return "/releases/" + url.PathEscape(id) + "/approve" },
	"left":       fmtLeft,
	"f1":         func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"add":        func(a, b float64) float64 { return a + b },
	"inc":        func(i int) int { return i + 1 },
	"dec":        func(i int) int { return i - 1 },
	"gateState":  gateState,
	"approveForm": func(csrf, id string, can bool) approveForm {
		return approveForm{CSRF: csrf, ID: id, Can: can}
	},
	"debtList": func(open, closed []debt) debtList { return debtList{Open: open, Closed: closed} },
}

// approveForm is what the approve form partial needs.
type approveForm struct {
	CSRF, ID string
	Can      bool
}

// debtList is what the violations partial lists.
type debtList struct{ Open, Closed []debt }

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/partials.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// shortDigest keeps "sha256:" and 12 hex digits; the page shows the whole
// digest on hover and in the title.
func shortDigest(d string) string {
	if rest, ok := strings.CutPrefix(d, "sha256:"); ok && len(rest) > 12 {
		return "sha256:" + rest[:12] + "…"
	}
	return d
}

// fmtLeft says how far a due date is: "in 2d 3h" or "3d 4h overdue".
func fmtLeft(d time.Duration) string {
	s := span(d.Abs())
	if d < 0 {
		return s + " overdue"
	}
	return "due in " + s
}

func span(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	hours := int(math.Round(float64(d%(24*time.Hour)) / float64(time.Hour)))
	if hours == 24 {
		days, hours = days+1, 0
	}
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case d >= time.Hour:
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
}

// gateState names a gate cell's state for the page and its CSS class.
func gateState(c gateCell) string {
	switch {
	case c.Decision == nil:
		return "none"
	case c.Decision.Allow:
		return "allowed"
	}
	return "denied"
}
