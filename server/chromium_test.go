package server_test

import (
	"bytes"
	"context"
	"flag"
	"os/exec"
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
