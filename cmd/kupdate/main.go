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
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/runlog"
)

// Exit codes are a contract (docs/design.md, Contracts).
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
	configPath     string         // --config; "" = $KUPDATE_CONFIG, else the search path
	systemConfig   string         // the search path's last entry; "" in tests
	configFile     string         // the file loadConfig read; "" = none, the defaults
	cfg            *config.Config // nil until loadConfig
	getenv         func(string) string
	// now dates what commands date (PR titles, commits, removals' "# Added"
	// comments): time.Now in main, a fixed clock in tests, so an assertion
	// on a date cannot straddle midnight.
	now func() time.Time
}

// loadConfig reads the configuration once: the file --config or
// $KUPDATE_CONFIG names (missing is an error: an operator who names a file
// means it), else the first of config.SearchPath that exists, else the
// defaults.
func (e *env) loadConfig() (*config.Config, error) {
	if e.cfg != nil {
		return e.cfg, nil
	}
	named := e.configPath
	if named == "" {
		named = e.getenv("KUPDATE_CONFIG")
	}
	if named != "" {
		cfg, err := config.Load(named)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		e.cfg, e.configFile = cfg, named
		return cfg, nil
	}
	for _, path := range config.SearchPath(e.getenv, e.systemConfig) {
		if path == "" {
			continue
		}
		cfg, err := config.Load(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		e.log.Debug("config: read", "file", path)
		e.cfg, e.configFile = cfg, path
		return cfg, nil
	}
	d := config.Default()
	e.cfg = &d
	return e.cfg, nil
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"version":  {"version and build info", runVersion},
		"config":   {"check the configuration; print which file was read and the state and cache directories", runConfig},
		"check":    {"verify the kernel changes of a PR (or --base/--head) against kernel.org", runCheck},
		"promote":  {"the staging-nixos -> master step alone (--dry-run: show, write nothing)", runPromote},
		"releases": {"what kernel.org offers, with verified hashes", runReleases},
		"plan":     {"print the changes a nixpkgs checkout needs; writes nothing", runPlan},
		"update":   {"apply the plan to a nixpkgs checkout, validated change by change, one commit each", runUpdate},
		"propose":  {"a change a maintainer asks for: remove linux_X_Y --eol-within YY.MM, or default linux_X_Y; in a checkout, or --pr", runPropose},
		"run":      {"one whole cycle: poll, plan, build, commit, push, PRs, promote (--dry-run: show, write nothing)", runRun},
		"status":   {"per kernel branch: nixpkgs, kernel.org, the PR and the last result", runStatus},
		"serve":    {"the service: scheduled cycles, webhooks, status page, /metrics", runServe},
		"pin":      {"move the custom kernels pinned in your own Nix files to the newest release of their series (--check: report only)", runPin},
		"demo":     {"the whole cycle offline, against built-in kernel.org and GitHub simulators", runDemo},
		"help":     {"this list, or a command's flags: kupdate help <command>", runHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runIn(ctx, os.Args[1:], os.Stdout, os.Stderr, host{getenv: os.Getenv, now: time.Now, systemConfig: config.SystemConfigFile})
	stop()
	os.Exit(code)
}

// host is what a command gets from the machine beside its arguments and
// streams.
type host struct {
	getenv func(string) string
	// now dates what commands date: time.Now in main, a fixed clock in tests.
	now func() time.Time
	// systemConfig is config.SystemConfigFile in main; tests leave it empty,
	// so that a machine's /etc/kupdate never reaches them.
	systemConfig string
}

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return runWith(ctx, args, stdout, stderr, getenv, time.Now)
}

// runWith is run with the clock commands date things by: tests that assert
// a date pass a fixed one.
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, now func() time.Time) int {
	return runIn(ctx, args, stdout, stderr, host{getenv: getenv, now: now})
}

func runIn(ctx context.Context, args []string, stdout, stderr io.Writer, h host) int {
	stderr = &lockedWriter{w: stderr} // the log and progress lines come from several goroutines
	fs, g := globalFlags(stderr)
	if err := fs.Parse(args); err != nil {
		// Help that was asked for goes to stdout (kupdate -h | less); a
		// mistake's, after the flag package's complaint, to stderr.
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, fs)
			return exitOK
		}
		usage(stderr, fs)
		return exitUsage
	}
	if *g.version {
		writeVersion(stdout)
		return exitOK
	}
	level := slog.LevelInfo
	if *g.verbose {
		level = slog.LevelDebug
	}
	var lh slog.Handler
	switch *g.logFormat {
	case "text":
		lh = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		lh = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: runlog.ReplaceAttr})
	default:
		fmt.Fprintf(stderr, "kupdate: --log-format %q: want text or json\n", *g.logFormat)
		return exitUsage
	}
	if fs.NArg() == 0 {
		usage(stderr, fs)
		return exitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "kupdate: unknown command %q (kupdate help lists them)\n", name)
		return exitUsage
	}
	e := &env{stdout: stdout, stderr: stderr, log: slog.New(lh), configPath: *g.configPath, systemConfig: h.systemConfig, getenv: h.getenv, now: h.now}
	if err := cmd.run(ctx, e, rest); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if errors.Is(ee.err, flag.ErrHelp) {
				return exitOK
			}
			if ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintf(stderr, "kupdate %s: %v\n", name, ee.err)
			}
			return ee.code
		}
		fmt.Fprintf(stderr, "kupdate %s: %v\n", name, err)
		return exitFailure
	}
	return exitOK
}

// globals are the flags before the command.
type globals struct {
	configPath, logFormat *string
	verbose, version      *bool
}

func globalFlags(stderr io.Writer) (*flag.FlagSet, globals) {
	fs := flag.NewFlagSet("kupdate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // runWith prints it, where it belongs
	return fs, globals{
		configPath: fs.String("config", "", "config file (default $KUPDATE_CONFIG, else the first of ./config.toml, $XDG_CONFIG_HOME/kupdate/config.toml, /etc/kupdate/config.toml)"),
		logFormat:  fs.String("log-format", "text", "log format: text or json"),
		verbose:    fs.Bool("v", false, "verbose (debug) logging"),
		version:    fs.Bool("version", false, "print the version and exit (as kupdate version does)"),
	}
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
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
	fmt.Fprintf(w, "\nkupdate help <command> (or kupdate <command> -h) shows a command's flags.\n")
	fmt.Fprintf(w, "exit codes: 0 success, 1 cycle failure, 2 bad usage or configuration, 3 check findings\n")
}

// runHelp is `kupdate help [command]`: the list of commands, or one
// command's usage, on stdout.
func runHelp(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "help")
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			printUsage(fs, e.stdout)
			return nil
		}
	}
	switch len(args) {
	case 0:
		gfs, _ := globalFlags(e.stderr)
		usage(e.stdout, gfs)
		return nil
	case 1:
		cmd, ok := commands()[args[0]]
		if !ok {
			return usageErrorf("unknown command %q (kupdate help lists them)", args[0])
		}
		if args[0] == "help" {
			printUsage(fs, e.stdout)
			return nil
		}
		// The command prints its own usage, as for kupdate <command> -h.
		return cmd.run(ctx, e, []string{"-h"})
	}
	return usageErrorf("want at most one command, got %s", strings.Join(args, " "))
}

// flagOutput is where a command's flag set writes: the flag package's
// complaints go to stderr; it also carries stdout, where parseFlags prints
// the help that was asked for, and the command's one-line summary.
type flagOutput struct {
	stderr, stdout io.Writer
	summary        string
}

func (o *flagOutput) Write(p []byte) (int, error) { return o.stderr.Write(p) }

// newFlagSet is a command's flag set; parse errors become exitUsage, -h
// prints the command's usage line, summary and flags to stdout.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("kupdate "+name, flag.ContinueOnError)
	fs.SetOutput(&flagOutput{stderr: e.stderr, stdout: e.stdout, summary: commands()[name].summary})
	fs.Usage = func() {} // parseFlags prints it, where it belongs
	return fs
}

// printUsage writes a command's usage: the line, its summary, its flags.
func printUsage(fs *flag.FlagSet, w io.Writer) {
	summary := ""
	if o, ok := fs.Output().(*flagOutput); ok {
		summary = o.summary
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	line := "usage: kupdate [global flags] " + strings.TrimPrefix(fs.Name(), "kupdate ")
	if n > 0 {
		line += " [flags]"
	}
	switch fs.Name() {
	case "kupdate help":
		line += " [command]"
	case "kupdate pin":
		line += " FILE..."
	}
	fmt.Fprintln(w, line)
	if summary != "" {
		fmt.Fprintf(w, "\n%s\n", summary)
	}
	if n > 0 {
		fmt.Fprintf(w, "\nflags:\n")
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
}

// parseFlags parses a command's flags and rejects stray arguments. Help
// that was asked for (-h, --help) goes to stdout and ends the command with
// exit 0; a mistake is reported on stderr with the usage, exit 2.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := parseFlagsLoose(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected arguments: %s (kupdate help %s shows its flags)", strings.Join(fs.Args(), " "), strings.TrimPrefix(fs.Name(), "kupdate "))
	}
	return nil
}

// parseFlagsLoose is parseFlags for a command with arguments: what is not a
// flag is left in fs.Args().
func parseFlagsLoose(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			w := fs.Output()
			if o, ok := w.(*flagOutput); ok {
				w = o.stdout
			}
			printUsage(fs, w)
			return &exitError{code: exitOK, err: flag.ErrHelp}
		}
		printUsage(fs, fs.Output())
		return &exitError{code: exitUsage, err: errors.New("")}
	}
	return nil
}
