package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/localizevideos/shipgate/server/web"
)

// browsers are the names Chromium goes by on PATH.
var browsers = []string{"chromium", "chromium-browser", "google-chrome"}

// tab is one headless Chromium tab and everything its console said.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	log []chromedp.ConsoleMessage
}

func newTab(t *testing.T) *tab {
	t.Helper()
	exe := ""
	for _, name := range browsers {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH, so the dashboard is not tested in a browser (apt-get install -y chromium)")
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
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	tb := &tab{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.log = append(tb.log, m)
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancelTab(); <-done })
	return tb
}

func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

func (tb *tab) title() string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Title())
	if err != nil {
		tb.t.Fatal(err)
	}
	return s
}

func (tb *tab) eval(expr string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// messages returns what the console said since the last call, after a
// moment for late events to arrive.
func (tb *tab) messages() []chromedp.ConsoleMessage {
	time.Sleep(200 * time.Millisecond)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := tb.log
	tb.log = nil
	return out
}

// quiet fails on anything the console said: an error, a CSP violation, a
// warning, a failed load. The dashboard has no script, so it says nothing.
// expected, when given, names the one message the step expects.
func (tb *tab) quiet(step string, expected ...func(chromedp.ConsoleMessage) bool) {
	tb.t.Helper()
	for _, m := range tb.messages() {
		ok := false
		for _, e := range expected {
			ok = ok || e(m)
		}
		if !ok {
			tb.t.Errorf("%s: the console said %s (source %q, %s)", step, m, m.Source, m.URL)
		}
	}
}

// sameOrigin checks that the page loaded nothing from anywhere else, and
// that its stylesheet applied.
func (tb *tab) sameOrigin(step, origin string) {
	tb.t.Helper()
	urls := tb.eval(`performance.getEntriesByType("resource").map(e => e.name).concat([location.href]).join("\n")`)
	for _, u := range strings.Split(urls, "\n") {
		if !strings.HasPrefix(u, origin+"/") {
			tb.t.Errorf("%s: the page loaded %s, not from %s", step, u, origin)
		}
	}
	if bg := tb.eval(`getComputedStyle(document.querySelector("header.top")).backgroundColor`); bg != "rgb(31, 41, 51)" {
		tb.t.Errorf("%s: the header's background is %q; the stylesheet did not apply", step, bg)
	}
}

func (tb *tab) signIn(base, secret, wait string) {
	tb.t.Helper()
	tb.do("sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), secret),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS(wait)),
	)
}

func byID(id string) string { return fmt.Sprintf(`[id=%q]`, id) }

// TestBrowser takes the dashboard through headless Chromium against a
// real server and a real SQLite ledger: an approver signs in, opens a
// denied release and reads its violation, approves a waiting release and
// signs out; a pipeline token signs in and is refused the approval. The
// console stays silent throughout (no error, no CSP violation), which a
// page that breaks the policy proves it would not.
func TestBrowser(t *testing.T) {
	tb := newTab(t)
	f := newFixture(t)
	srv := httptest.NewServer(f.handler(f.config()))
	defer srv.Close()
	base := srv.URL

	// Unsigned, the dashboard sends the browser to the sign-in form.
	tb.do("open the dashboard", chromedp.Navigate(base+"/releases/"+relIncident), chromedp.WaitVisible(chromedp.CSS("#token")))
	if got := tb.title(); got != "Sign in · shipgate" {
		t.Errorf("title = %q; want the sign-in page", got)
	}
	tb.do("sign in as alice",
		chromedp.SendKeys(chromedp.CSS("#token"), f.tokens["alice"]),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#checklist")),
	)
	tb.quiet("sign in")

	// Back where she was going: the denied release, its violation.
	if got := tb.text("#release-id"); got != relIncident {
		t.Errorf("after sign-in the page is about %q; want %s", got, relIncident)
	}
	if who := tb.text("#who"); !strings.Contains(who, "alice") || !strings.Contains(who, "approver") {
		t.Errorf("signed in as %q; want alice (approver)", who)
	}
	rule := tb.text(".decision.denied .violation .rule")
	msg := tb.text(".decision.denied .violation .message")
	fix := tb.text(".decision.denied .violation .remediation")
	if rule != "forbidden.deploy-during-incident" || !strings.Contains(msg, "INC-42") || fix == "" {
		t.Errorf("the violation reads rule %q, message %q, remediation %q; want forbidden.deploy-during-incident naming INC-42, with a remediation", rule, msg, fix)
	}
	if st := tb.text(`#checklist tr.step.failed td`); st != "deploy gate" {
		t.Errorf("the first failed step is %q; want the deploy gate", st)
	}
	tb.sameOrigin("release page", base)
	tb.quiet("release page")

	// The releases list, the violations and the chart.
	tb.do("open the releases", chromedp.Click(chromedp.CSS(`header nav a[href="/"]`)), chromedp.WaitVisible(chromedp.CSS("#releases")))
	if got := tb.text(byID("row-"+relIncident) + " td.gate.denied"); got != "denied" {
		t.Errorf("the releases list shows the deploy gate of %s as %q", relIncident, got)
	}
	tb.do("open the violations", chromedp.Click(chromedp.CSS(`header nav a[href="/violations"]`)), chromedp.WaitVisible(chromedp.CSS("#overdue-count")))
	if first := tb.text("table.debts.open tbody tr td.state"); !strings.HasSuffix(first, "overdue") {
		t.Errorf("the first open violation is %q; want an overdue one", first)
	}
	tb.do("open the trends", chromedp.Click(chromedp.CSS(`header nav a[href="/trends"]`)), chromedp.WaitVisible(chromedp.CSS("#chart-rules svg")))
	cells, err := chromedp.Run(tb.ctx, chromedp.Nodes(chromedp.CSSAll("#chart-rules svg rect.cell-violated")))
	if err != nil || len(cells) < 5 {
		t.Errorf("the rule chart has %d violated cells (%v); want one per rule and day that denied", len(cells), err)
	}
	bars, err := chromedp.Run(tb.ctx, chromedp.Nodes(chromedp.CSSAll("#chart-decisions svg rect.bar-deny")))
	if err != nil || len(bars) == 0 {
		t.Errorf("the decisions chart has no denied bar (%v)", err)
	}
	if fill := tb.eval(`getComputedStyle(document.querySelector("#chart-rules rect.cell-violated")).fill`); fill != "rgb(207, 34, 46)" {
		t.Errorf("a violated cell is filled %q; want the stylesheet's red", fill)
	}
	tb.sameOrigin("trends", base)
	tb.quiet("releases, violations, trends")

	// Approve the release the deploy gate denied for want of an approval.
	before := f.ledgerLen()
	tb.do("approve "+relNoApproval,
		chromedp.Click(chromedp.CSS(`header nav a[href="/approvals"]`)),
		chromedp.WaitVisible(chromedp.CSS(byID("waiting-"+relNoApproval))),
		chromedp.SendKeys(chromedp.CSS(byID("note-"+relNoApproval)), "CHG-1042 reviewed in the browser"),
		chromedp.Click(chromedp.CSS(byID("approve-button-"+relNoApproval))),
		chromedp.WaitVisible(chromedp.CSS("#flash")),
	)
	if got := tb.text("#flash"); !strings.Contains(got, "Your approval was recorded") {
		t.Errorf("after approving, the page says %q", got)
	}
	if n := f.ledgerLen(); n != before+1 {
		t.Fatalf("approving added %d ledger entries; want 1", n-before)
	}
	evs, err := f.db.Evidence(f.ctx, relNoApproval)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; last.Kind != "Approval" || !strings.Contains(string(last.Body), `"approver":"alice"`) ||
		!strings.Contains(string(last.Body), "CHG-1042 reviewed in the browser") {
		t.Errorf("the last document of %s is %s %s; want alice's Approval with her note", relNoApproval, last.Kind, last.Body)
	}
	tb.do("back to the approvals", chromedp.Navigate(base+"/approvals"), chromedp.WaitVisible(chromedp.CSS(byID("waiting-"+relLater))))
	// (A query would wait for the element; count them instead.)
	if n := tb.eval(fmt.Sprintf(`String(document.querySelectorAll(%q).length)`, byID("waiting-"+relNoApproval))); n != "0" {
		t.Errorf("%s still waits after its approval", relNoApproval)
	}
	tb.quiet("approve")

	tb.do("sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#token")))
	tb.do("after sign-out", chromedp.Navigate(base+"/approvals"), chromedp.WaitVisible(chromedp.CSS("#token")))
	tb.quiet("sign out")

	// A pipeline token signs in and is shown what the API shows it of the
	// ledger: nothing.
	tb.signIn(base, f.tokens["ci-bot"], "#problem")
	if got := tb.text("#problem"); !strings.Contains(got, "ci-bot with the pipeline role, which may not read the ledger") {
		t.Errorf("the pipeline's first page says %q", got)
	}
	tb.quiet("pipeline refused", func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && strings.Contains(m.Text, "status of 403 (Forbidden)")
	})
	tb.do("sign out ci-bot", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#token")))

	// An auditor signs in, sees the approvals, and is refused.
	tb.signIn(base, f.tokens["carol"], "#releases")
	before = f.ledgerLen()
	tb.do("approve as carol",
		chromedp.Navigate(base+"/approvals"),
		chromedp.WaitVisible(chromedp.CSS(byID("waiting-"+relLater))),
		chromedp.Click(chromedp.CSS(byID("approve-button-"+relLater))),
		chromedp.WaitVisible(chromedp.CSS("#problem")),
	)
	if got := tb.title(); got != "Forbidden · shipgate" {
		t.Errorf("the refusal's title is %q; want Forbidden", got)
	}
	if got := tb.text("#problem"); !strings.Contains(got, "carol with the auditor role, which may not approve releases") || !strings.Contains(got, "Nothing was recorded") {
		t.Errorf("the refusal says %q", got)
	}
	if n := f.ledgerLen(); n != before {
		t.Errorf("the refused approval added %d ledger entries", n-before)
	}
	// The browser reports the 403 of the page itself, and nothing else.
	tb.quiet("refused approval", func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && strings.Contains(m.Text, "status of 403 (Forbidden)") &&
			m.URL == base+"/releases/"+relLater+"/approve"
	})

	// The console check is not blind: a page that breaks the same policy
	// (inline script and style, a stylesheet from elsewhere) is reported.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", web.ContentSecurityPolicy)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>bad</title><style>p{color:red}</style><link rel="stylesheet" href="https://cdn.example/x.css"><p id="p" style="color:blue">x</p><script>document.title="ran"</script>`)
	}))
	defer bad.Close()
	tb.do("open a page that breaks the policy", chromedp.Navigate(bad.URL), chromedp.WaitVisible(chromedp.CSS("#p")))
	if got := tb.title(); got != "bad" {
		t.Errorf("the inline script ran (title %q) despite the policy", got)
	}
	csp := 0
	for _, m := range tb.messages() {
		if strings.Contains(m.Text, "Content Security Policy") {
			csp++
		}
	}
	if csp < 3 {
		t.Errorf("the console reported %d CSP violations for a page with an inline script, an inline style element and attribute and a foreign stylesheet; want at least 3", csp)
	}
}
