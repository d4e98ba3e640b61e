package build

import (
	"context"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/config"
)

var quoteCases = []struct {
	argv []string
	want string
}{
	{[]string{"sh", "-c", "echo boom-linux_5_15 >&2; exit 1"}, `sh -c 'echo boom-linux_5_15 >&2; exit 1'`},
	{[]string{"nix-build", "--no-out-link", "--option", "builders", "", "-A", "linuxKernel.kernels.linux_6_12.configfile"}, `nix-build --no-out-link --option builders '' -A linuxKernel.kernels.linux_6_12.configfile`},
	{[]string{"nix-build", "--option", "substituters", "https://cache.nixos.org/ https://example.invalid", "--max-jobs", "1"}, `nix-build --option substituters 'https://cache.nixos.org/ https://example.invalid' --max-jobs 1`},
	{[]string{"echo", "it's", "$HOME", "`id`", "a\nb", "~", "*.nix", "x=1", "/nix/store/abc-linux.drv^out", "{attr}", "#c"}, `echo 'it'\''s' '$HOME' '` + "`id`" + `' 'a` + "\n" + `b' '~' '*.nix' x=1 '/nix/store/abc-linux.drv^out' '{attr}' '#c'`},
	{[]string{"FOO=bar"}, `'FOO=bar'`},
	{nil, ""},
}

func TestShellQuote(t *testing.T) {
	for _, c := range quoteCases {
		if got := ShellQuote(c.argv); got != c.want {
			t.Errorf("ShellQuote(%q)\n got %s\nwant %s", c.argv, got, c.want)
		}
	}
	if got := (Result{Command: []string{"sh", "-c", "exit 1"}}).CommandLine(); got != `sh -c 'exit 1'` {
		t.Errorf("CommandLine = %s", got)
	}
}

// What ShellQuote shows, typed into a real shell, is the vector that ran.
func TestShellQuoteRoundTrip(t *testing.T) {
	for _, c := range quoteCases {
		if len(c.argv) == 0 {
			continue
		}
		// printf prints each argument between markers; the command's own
		// first word becomes an argument too, so an assignment-looking one
		// is tested where it matters: as the first word (see below).
		script := "printf '<%s>' " + ShellQuote(c.argv)
		out, err := exec.Command("sh", "-c", script).Output()
		if err != nil {
			t.Fatalf("sh -c %s: %v", script, err)
		}
		want := "<" + strings.Join(c.argv, "><") + ">"
		if string(out) != want {
			t.Errorf("sh -c %s\n got %s\nwant %s", script, out, want)
		}
	}
	// A first word with = runs as a command, not as an assignment.
	out, err := exec.Command("sh", "-c", ShellQuote([]string{"PATH=/x"})+" 2>&1; echo $?").Output()
	if err != nil || !strings.HasSuffix(string(out), "127\n") {
		t.Errorf("a first word with = was not run as a command: %q, %v", out, err)
	}
}

// A failing tier's command is logged as it would be typed, quoted.
func TestFailedTierCommandIsQuoted(t *testing.T) {
	var logs strings.Builder
	cfg := config.Build{
		Tiers:    []string{"eval"},
		Commands: map[string][]string{"eval": {"sh", "-c", "echo boom-{attr} >&2; exit 1"}},
		LogLines: 5, Timeout: config.Duration(time.Minute),
	}
	r := New(cfg, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: dropTime}))))
	rep := r.Run(context.Background(), t.TempDir(), []string{"linux_5_15"})
	res := rep.Results[0]
	if res.Status != Failed || res.CommandLine() != `sh -c 'echo boom-linux_5_15 >&2; exit 1'` || res.LogTail != "boom-linux_5_15" {
		t.Errorf("result = %+v, command line %s", res, res.CommandLine())
	}
	want := `level=DEBUG msg="build command" attr=linux_5_15 tier=eval command="sh -c 'echo boom-linux_5_15 >&2; exit 1'" dir=`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log:\n%s\nwant a line with\n%s", logs.String(), want)
	}
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}
