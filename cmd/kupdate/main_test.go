package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

const demoUsage = `usage: kupdate [global flags] demo [flags]

the whole cycle offline, against built-in kernel.org and GitHub simulators

flags:
  -every duration
    	with --serve: run a cycle this often (default 20s)
  -keep DIR
    	work in DIR and keep it (repositories, cache, config.toml) instead of a temporary directory
  -listen ADDR
    	with --serve: the ADDR of the status page and the knobs (/demo/) (default "127.0.0.1:8380")
  -no-build
    	skip Nix (evaluation and builds); the default when nix-build is not on PATH
  -serve
    	after the story, keep the world up and run kupdate serve against it, with knobs to act as kernel.org, CI and reviewer, until Ctrl-C
  -tree string
    	the nixpkgs tree to start from (default: the sample tree, testdata/nixpkgs of this clone)
`

// Help that was asked for goes to stdout with exit 0 (kupdate -h | less);
// a usage mistake goes to stderr with exit 2.
func TestHelpAndUsage(t *testing.T) {
	t.Parallel()
	_, top, _ := runCLI(t, "help")
	if !strings.HasPrefix(top, "usage: kupdate [global flags] <command> [flags]\n\ncommands:\n") ||
		!strings.Contains(top, "\n  help      this list, or a command's flags: kupdate help <command>\n") ||
		!strings.HasSuffix(top, "\nkupdate help <command> (or kupdate <command> -h) shows a command's flags.\nexit codes: 0 success, 1 cycle failure, 2 bad usage or configuration, 3 check findings\n") {
		t.Fatalf("kupdate help:\n%s", top)
	}
	tree := t.TempDir()
	for _, c := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"-h", []string{"-h"}, 0, top, ""},
		{"--help", []string{"--help"}, 0, top, ""},
		{"no command", nil, 2, "", top},
		{"bad global flag", []string{"-x"}, 2, "", "flag provided but not defined: -x\n" + top},
		{"unknown command", []string{"nosuch"}, 2, "", "kupdate: unknown command \"nosuch\" (kupdate help lists them)\n"},
		{"command -h", []string{"demo", "-h"}, 0, demoUsage, ""},
		{"command --help", []string{"demo", "--help"}, 0, demoUsage, ""},
		{"help command", []string{"help", "demo"}, 0, demoUsage, ""},
		{"bad command flag", []string{"demo", "-x"}, 2, "", "flag provided but not defined: -x\n" + demoUsage},
		{"flagless command -h", []string{"version", "-h"}, 0, "usage: kupdate [global flags] version\n\nversion and build info\n", ""},
		{"serve -h", []string{"serve", "-h"}, 0, "usage: kupdate [global flags] serve\n\nthe service: scheduled cycles, webhooks, status page, /metrics\n", ""},
		{"help help", []string{"help", "help"}, 0, "usage: kupdate [global flags] help [command]\n\nthis list, or a command's flags: kupdate help <command>\n", ""},
		{"help -h", []string{"help", "-h"}, 0, "usage: kupdate [global flags] help [command]\n\nthis list, or a command's flags: kupdate help <command>\n", ""},
		{"help of an unknown command", []string{"help", "nosuch"}, 2, "", "kupdate help: unknown command \"nosuch\" (kupdate help lists them)\n"},
		{"help of two commands", []string{"help", "demo", "run"}, 2, "", "kupdate help: want at most one command, got demo run\n"},
		{"stray argument", []string{"version", "extra"}, 2, "", "kupdate version: unexpected arguments: extra (kupdate help version shows its flags)\n"},
		{"demo --tree missing", []string{"demo", "--tree", "/nonexistent"}, 2, "", "kupdate demo: --tree /nonexistent: not a directory (want a nixpkgs tree; the default is testdata/nixpkgs of this clone)\n"},
		{"demo --tree not nixpkgs", []string{"demo", "--tree", tree}, 2, "", "kupdate demo: --tree " + tree + ": not a nixpkgs tree: it has no pkgs/os-specific/linux/kernel/kernels-org.json\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.args...)
			if code != c.code || stdout != c.stdout || stderr != c.stderr {
				t.Errorf("kupdate %s: exit %d, want %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s\nwant:\n%s", strings.Join(c.args, " "), code, c.code, stdout, c.stdout, stderr, c.stderr)
			}
		})
	}
}

// Every command's help says what it is: its usage line and its summary.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for name, cmd := range commands() {
		code, stdout, stderr := runCLI(t, name, "-h")
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage: kupdate [global flags] "+name) || !strings.Contains(stdout, "\n\n"+cmd.summary+"\n") {
			t.Errorf("kupdate %s -h: exit %d\nstdout:\n%s\nstderr:\n%s", name, code, stdout, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCLI(t, "version")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != 0 || stderr != "" || lines[0] != "kupdate "+buildVersion() || lines[len(lines)-1] != "go: "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("kupdate version: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if len(lines) == 3 && !strings.HasPrefix(lines[1], "commit: ") {
		t.Errorf("kupdate version: the middle line is not the commit:\n%s", stdout)
	}
	// --version is the same, before any command and without configuration
	// (nixpkgs' versionCheckHook runs it under env -i).
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--config", "/nonexistent", "--version", "run"}} {
		code, got, stderr := runCLI(t, args...)
		if code != 0 || got != stdout || stderr != "" {
			t.Errorf("kupdate %s: exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", strings.Join(args, " "), code, got, stdout, stderr)
		}
	}
}

func TestDemoTreeMustBeNixpkgs(t *testing.T) {
	t.Parallel()
	// A directory with the kernel files passes the check (and the demo
	// fails later for what else it lacks, as a failure, not a usage error).
	tree := t.TempDir()
	p := filepath.Join(tree, "pkgs/os-specific/linux/kernel/kernels-org.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "demo", "--no-build", "--tree", tree)
	if code != 1 || strings.Contains(stderr, "--tree") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}
