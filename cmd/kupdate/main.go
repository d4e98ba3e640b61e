// Command kupdate keeps the Linux kernels in nixpkgs current. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/kupdate/kupdate/config"
)

// Exit codes are a contract (design.md).
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitFindings = 3
)

// exitError carries an exit code other than exitFailure up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// env is what every command gets: its output streams, the logger and the
// configuration. Commands print; nothing below cmd/ does.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	configPath     string
	cfg            *config.Config // nil until loadConfig
	getenv         func(string) string
	// now dates what commands date (PR titles, commits, removals' "# Added"
	// comments): time.Now in main, a fixed clock in tests, so an assertion
	// on a date cannot straddle midnight.
	now func() time.Time
}

// loadConfig reads the configuration once. A missing default ./config.toml
// means the defaults; a missing file that was asked for is an error.
func (e *env) loadConfig() (*config.Config, error) {
	if e.cfg != nil {
		return e.cfg, nil
	}
	path, explicit := e.configPath, true
	if path == "" {
		path, explicit = e.getenv("KUPDATE_CONFIG"), true
	}
	if path == "" {
		path, explicit = "config.toml", false
	}
	cfg, err := config.Load(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			d := config.Default()
			cfg, err = &d, nil
		} else {
			return nil, &exitError{code: exitUsage, err: err}
		}
	}
	e.cfg = cfg
	return cfg, nil
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"version":  {"version and build info", runVersion},
		"check":    {"verify the kernel changes of a PR (or --base/--head) against kernel.org", runCheck},
		"promote":  {"the staging-nixos -> master step alone (--dry-run: show, write nothing)", runPromote},
		"releases": {"what kernel.org offers, with verified hashes", runReleases},
		"plan":     {"print the changes a nixpkgs checkout needs; writes nothing", runPlan},
		"update":   {"apply the plan to a nixpkgs checkout, validated change by change, one commit each", runUpdate},
		"run":      {"one whole cycle: poll, plan, build, commit, push, PRs, promote (--dry-run: show, write nothing)", runRun},
		"status":   {"per kernel branch: nixpkgs, kernel.org, the PR and the last result", runStatus},
		"serve":    {"the service: scheduled cycles, webhooks, status page, /metrics", runServe},
		"demo":     {"the whole cycle offline, against built-in kernel.org and GitHub simulators", runDemo},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return runWith(ctx, args, stdout, stderr, getenv, time.Now)
}

// runWith is run with the clock commands date things by: tests that assert
// a date pass a fixed one.
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, now func() time.Time) int {
	stderr = &lockedWriter{w: stderr} // the log and progress lines come from several goroutines
	fs := flag.NewFlagSet("kupdate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (default ./config.toml, env KUPDATE_CONFIG)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	verbose := fs.Bool("v", false, "verbose (debug) logging")
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	var h slog.Handler
	switch *logFormat {
	case "text":
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		fmt.Fprintf(stderr, "kupdate: --log-format %q: want text or json\n", *logFormat)
		return exitUsage
	}
	if fs.NArg() == 0 {
		usage(stderr, fs)
		return exitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "kupdate: unknown command %q (run kupdate -h for the list)\n", name)
		return exitUsage
	}
	e := &env{stdout: stdout, stderr: stderr, log: slog.New(h), configPath: *configPath, getenv: getenv, now: now}
	if err := cmd.run(ctx, e, rest); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil && !errors.Is(ee.err, flag.ErrHelp) && ee.err.Error() != "" {
				fmt.Fprintf(stderr, "kupdate %s: %v\n", name, ee.err)
			}
			if errors.Is(ee.err, flag.ErrHelp) {
				return exitOK
			}
			return ee.code
		}
		fmt.Fprintf(stderr, "kupdate %s: %v\n", name, err)
		return exitFailure
	}
	return exitOK
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: kupdate [global flags] <command> [flags]\n\ncommands:\n")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintf(w, "\nglobal flags:\n")
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nexit codes: 0 success, 1 cycle failure, 2 bad usage or configuration, 3 check findings\n")
}

// newFlagSet is a command's flag set; parse errors become exitUsage.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("kupdate "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses a command's flags and rejects stray arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &exitError{code: exitOK, err: flag.ErrHelp}
		}
		return &exitError{code: exitUsage, err: errors.New("")}
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}

// Version is set by the linker (-ldflags "-X main.Version=v1.2.3"); otherwise
// the module version from the build info is used.
var Version = ""

func buildVersion() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "kupdate %s\n", buildVersion())
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(e.stdout, "go: %s\n", bi.GoVersion)
		for _, s := range bi.Settings {
			if strings.HasPrefix(s.Key, "vcs.") {
				fmt.Fprintf(e.stdout, "%s: %s\n", s.Key, s.Value)
			}
		}
	}
	return nil
}
