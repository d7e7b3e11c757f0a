package report_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// browsers are the names Chromium goes by on PATH.
var browsers = []string{"chromium", "chromium-browser", "google-chrome"}

// testBrowser renders the HTML report in headless Chromium: both charts
// are in the DOM with their bars, the day labels do not overlap, and
// printing gives a PDF. Without a browser on PATH it skips (CI installs
// Debian's chromium).
func testBrowser(t *testing.T, html string) {
	exe := ""
	for _, name := range browsers {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH, so the HTML report is not rendered in a browser (apt-get install -y chromium)")
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()

	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatalf("load the report in %s: %v", exe, err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("svg.chart")))
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) != 2 {
		t.Errorf("the DOM has %d chart SVGs; want 2 (denials by rule, decisions per day)", len(charts))
	}
	for _, sel := range []string{"#chart-denials svg rect.bar-deny", "#chart-days svg rect.bar-allow", "#chart-days svg rect.bar-deny"} {
		bars, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		if len(bars) == 0 {
			t.Errorf("no %s in the DOM", sel)
		}
	}
	// The day labels, as the browser lays them out, do not overlap.
	boxes, err := chromedp.Run(ctx, chromedp.Evaluate[[][2]float64](
		`Array.from(document.querySelectorAll('#chart-days svg text[text-anchor="middle"]'), t => { const b = t.getBBox(); return [b.x, b.width]; })`))
	if err != nil {
		t.Fatalf("measure the day labels: %v", err)
	}
	if len(boxes) == 0 {
		t.Error("the per-day chart has no day label in the DOM")
	}
	for i := 1; i < len(boxes); i++ {
		if end := boxes[i-1][0] + boxes[i-1][1]; boxes[i][0] < end {
			t.Errorf("day label %d starts at x=%.1f, before label %d ends at x=%.1f", i, boxes[i][0], i-1, end)
		}
	}
	var pdf []byte
	err = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{})
		pdf = res.Data
		return err
	}))
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	if len(pdf) < 1000 || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("PrintToPDF gave %d bytes starting %q; want a PDF", len(pdf), pdf[:min(len(pdf), 8)])
	}
}
