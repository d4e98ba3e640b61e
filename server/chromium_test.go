package server_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var screenshot = flag.String("screenshot", "", "also save a screenshot of the status page, as Chromium renders it, to this PNG file")

// consoleTrouble is what Chromium logs (with --enable-logging=stderr) when
// anything reaches the page's console: a script error, a console call, or a
// load the page's Content-Security-Policy blocked (an external asset). The
// page has no scripts, so any console line is a fault.
var consoleTrouble = regexp.MustCompile(`:CONSOLE[:(]|Uncaught|Refused to`)

// The status page in a real browser: it loads, the table is in the DOM, and
// nothing goes wrong on the console.
func TestStatusPageInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (.ci/run installs it)")
	}
	h := start(t, testConfig())
	busyStatus(t, h)

	run := func(mode ...string) (stdout, stderr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args := append([]string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
		}, mode...)
		cmd := exec.CommandContext(ctx, chromium, append(args, h.url+"/")...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.WaitDelay = 10 * time.Second
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %s: %v\n%s", strings.Join(mode, " "), err, errb.String())
		}
		return out.String(), errb.String()
	}

	dom, logs := run("--dump-dom")
	if diff := cmp.Diff(wantBranchRows, tableRows(t, dom, "branches")); diff != "" {
		t.Errorf("branches table in Chromium's DOM (-want +got):\n%s", diff)
	}
	for _, line := range strings.Split(logs, "\n") {
		if consoleTrouble.MatchString(line) {
			t.Errorf("Chromium: %s", line)
		}
	}
	if *screenshot != "" {
		run("--screenshot="+*screenshot, "--window-size=1280,1000", "--hide-scrollbars")
		t.Logf("screenshot in %s", *screenshot)
	}
}

// phoneLayout is a script added to a copy of the status page (the page
// itself runs none, and its CSP forbids them): after layout, it lists the
// branches table's columns Chromium shows and whether the table fits the
// width without scrolling, in an element --dump-dom then has.
const phoneLayout = `<script>
addEventListener("load", () => {
  // Headless Chromium's window is at least 500 px wide; the page's body is
  // held to a phone's 390 (the narrow layout applies below 640).
  document.body.style.maxWidth = "390px";
  document.body.style.margin = "0";
  const shown = [...document.querySelectorAll("#branches th")].filter(th => th.offsetWidth > 0).map(th => th.textContent);
  const box = document.querySelector("#branches").parentElement;
  const out = document.createElement("pre");
  out.id = "layout";
  out.textContent = "columns: " + shown.join(", ") + "\nfits: " + (box.scrollWidth <= box.clientWidth) + "\nnarrow layout: " + matchMedia("(max-width: 640px)").matches;
  document.body.append(out);
});
</script>`

// At a phone's width (a body of 390 CSS pixels) the branches table keeps the
// essential columns — branch, both versions, how long behind, the PR — and
// fits without sideways scrolling; the rest is one tap away on a wider
// screen.
func TestStatusPagePhoneWidth(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (.ci/run installs it)")
	}
	h := start(t, testConfig())
	busyStatus(t, h)
	_, _, page := h.get(t, "/")
	page = strings.Replace(page, "</body>", phoneLayout+"</body>", 1)
	dir := t.TempDir()
	file := filepath.Join(dir, "status.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(mode ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args := append([]string{
			"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir(),
			"--window-size=390,844", "--hide-scrollbars",
		}, mode...)
		cmd := exec.CommandContext(ctx, chromium, append(args, "file://"+file)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.WaitDelay = 10 * time.Second
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %s: %v\n%s", strings.Join(mode, " "), err, errb.String())
		}
		return out.String()
	}
	dom := run("--dump-dom", "--virtual-time-budget=5000")
	_, layout, ok := strings.Cut(dom, `<pre id="layout">`)
	layout, _, _ = strings.Cut(layout, "</pre>")
	if want := "columns: Branch, nixpkgs, kernel.org, Behind, Pull request\nfits: true\nnarrow layout: true"; !ok || layout != want {
		t.Errorf("the branches table at a phone's width:\n%s\nwant:\n%s", layout, want)
	}
	if *screenshot != "" {
		phone := strings.TrimSuffix(*screenshot, ".png") + "-phone.png"
		run("--screenshot=" + phone)
		t.Logf("phone screenshot in %s", phone)
	}
}
