package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/kupdate/kupdate/workflow"
)

// runDemoCmd runs `kupdate demo args...` as main would, checks that no line
// of its output is wider than a terminal of 120 columns, and returns the
// output with what differs between runs replaced: the simulators' URLs, the
// work directory, commit ids and the duration.
func runDemoCmd(t *testing.T, args ...string) (code int, stdout, stderr, workDir string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"demo"}, args...), &out, &errb, func(string) string { return "" })
	s := out.String()
	for i, l := range strings.Split(s, "\n") {
		if columns(l) > demoWidth {
			t.Errorf("line %d is %d columns wide, more than %d:\n%s", i+1, columns(l), demoWidth, l)
		}
	}
	field := func(label string) string {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + ` +(\S+)`).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no %q line in the output:\n%s", label, s)
		}
		return m[1]
	}
	ko, gh, dir := field("kernel.org (simulated)"), field("GitHub (simulated)"), field("work directory")
	s = strings.NewReplacer(ko, "<kernel.org>", gh, "<github>", dir, "<dir>").Replace(s)
	s = regexp.MustCompile(`\b[0-9a-f]{40}\b`).ReplaceAllString(s, "<commit>")
	s = regexp.MustCompile(`\b[0-9a-f]{12}\b`).ReplaceAllString(s, "<commit12>")
	s = regexp.MustCompile(`Done in [0-9.]+(ms|s|m[0-9.]*s)\.`).ReplaceAllString(s, "Done in <duration>.")
	// The demo builds on this machine, and a PR body ticks its platform
	// under "Built on platform": the goldens show it as on x86_64-linux.
	if h := workflow.HostPlatform(runtime.GOOS, runtime.GOARCH); h != "x86_64-linux" {
		s = strings.NewReplacer("[x] "+h, "[x] x86_64-linux", "[ ] x86_64-linux", "[ ] "+h).Replace(s)
	}
	return code, s, errb.String(), dir
}

// The whole story with real Nix: three cycles and a promotion, every PR with
// its title, labels and checks (testdata/demo.txt), and nothing left behind.
func TestDemo(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH (CI installs nix-bin)")
	}
	code, stdout, stderr, dir := runDemoCmd(t)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	goldenFile(t, "demo.txt", stdout)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the work directory %s is still there (%v)", dir, err)
	}
}

// Without Nix the story is the same but for the builds; --keep leaves the
// world's files, and refuses a directory that is not empty.
func TestDemoNoBuildKeep(t *testing.T) {
	t.Parallel()
	keep := filepath.Join(t.TempDir(), "demo")
	code, stdout, stderr, dir := runDemoCmd(t, "--no-build", "--keep", keep)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	goldenFile(t, "demo-no-build.txt", stdout)
	if dir != keep {
		t.Errorf("work directory %s, want %s", dir, keep)
	}
	for _, f := range []string{"config.toml", "kernelorg-keyring.asc", "prs/1.md", "prs/4.md", "github/NixOS/nixpkgs.git/HEAD", "cache"} {
		if _, err := os.Stat(filepath.Join(keep, f)); err != nil {
			t.Errorf("--keep: %v", err)
		}
	}
	body, err := os.ReadFile(filepath.Join(keep, "prs/1.md"))
	if err != nil || !bytes.HasPrefix(body, []byte("# kernel updates for 2026-04-30\n\n<!-- kupdate: ")) {
		t.Errorf("prs/1.md: %v\n%.200s", err, body)
	}

	var out, errb bytes.Buffer
	code = run(context.Background(), []string{"demo", "--keep", keep}, &out, &errb, func(string) string { return "" })
	if want := "kupdate demo: --keep " + keep + ": not empty; give a new or empty directory (the demo builds its world from scratch)\n"; code != exitUsage || errb.String() != want || out.Len() != 0 {
		t.Errorf("second run into the kept directory: exit %d, stderr %q (want %q), stdout %q", code, errb.String(), want, out.String())
	}
}

// Interrupted (Ctrl-C before the world is up), the demo fails and still
// leaves nothing in the temporary directory.
func TestDemoInterruptedLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"demo", "--no-build"}, &out, &errb, func(string) string { return "" })
	if code != exitFailure || errb.String() != "kupdate demo: context canceled\n" {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind in $TMPDIR: %v", left)
	}
}

// The service's flags without --serve, a schedule under a second, or a
// --listen address in use are the caller's mistake (exit 2), found before the world starts.
func TestDemoServeFlags(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "127.0.0.1:0"}, "kupdate demo: --listen is for the service: add --serve\n"},
		{[]string{"--every", "1m"}, "kupdate demo: --every is for the service: add --serve\n"},
		{[]string{"--serve", "--every", "10ms"}, "kupdate demo: --every 10ms: want at least 1s (the schedule is \"@every DURATION\")\n"},
		{[]string{"--serve", "--listen", busy.Addr().String()}, "kupdate demo: --listen " + busy.Addr().String() + ": listen tcp " + busy.Addr().String() + ": bind: address already in use\n"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"demo"}, c.args...), &out, &errb, func(string) string { return "" })
		if code != exitUsage || errb.String() != c.want || out.Len() != 0 {
			t.Errorf("demo %v: exit %d, stderr %q (want %q), stdout %q", c.args, code, errb.String(), c.want, out.String())
		}
	}
}
