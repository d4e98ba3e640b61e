package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/pin"
	"github.com/kupdate/kupdate/updater"
)

// pinOptions are the flags of `kupdate pin`.
type pinOptions struct {
	check, asJSON, noCommit bool
	series                  string
}

// pinRow is what became of one pin (or one problem): a line of the text
// report, an element of --json's "pins".
type pinRow struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Attr    string `json:"attr,omitempty"`
	Version string `json:"version,omitempty"` // as the file had it
	Series  string `json:"series,omitempty"`  // the series it was compared with
	Newest  string `json:"newest,omitempty"`  // that series' newest release
	// Status: current, behind, eol, committed, applied, held, failed
	// (kupdate could not do it), error (bad input, left untouched).
	Status  string `json:"status"`
	Title   string `json:"title,omitempty"`
	Commit  string `json:"commit,omitempty"`
	Message string `json:"message,omitempty"`

	pin  pin.Pin
	idx  int // the pin's place among its file's pins
	to   kernelorg.Version
	log  string // kernel.org's ChangeLog of to, carried by the change (the commit is its title and trailer)
	hash string
}

// runPin is `kupdate pin FILE...`: the custom kernels pinned in a NixOS
// user's own Nix files, each moved to the newest release of its series
// (or --series) with kernel.org's signed hash, validated with
// nix-instantiate --parse and committed in the file's repository like
// `kupdate update` commits in a checkout. --check changes nothing and exits
// 3 when a pin is behind (or its series is end of life).
func runPin(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "pin")
	var o pinOptions
	fs.BoolVar(&o.check, "check", false, "change nothing; exit 3 when a pin is behind its series or the series is end of life")
	fs.BoolVar(&o.asJSON, "json", false, "print the result as JSON")
	fs.BoolVar(&o.noCommit, "no-commit", false, "write the edits without committing them")
	fs.StringVar(&o.series, "series", "", "move pins to this series (X.Y) or to the newest maintained one (latest) instead of their own")
	files, err := parseWithFiles(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		printUsage(fs, e.stderr)
		return usageErrorf("want at least one FILE: the Nix files holding the kernels to pin")
	}
	if o.series != "" && o.series != pin.Latest {
		if _, _, err := kernelorg.ParseSeries(o.series); err != nil {
			return usageErrorf("--series %q: want X.Y or latest", o.series)
		}
	}
	ko, err := newKernelOrg(e)
	if err != nil {
		return err
	}
	rels, err := ko.Releases(ctx)
	if err != nil {
		return err
	}
	var rows []pinRow
	for _, f := range files {
		rows = append(rows, decideFile(ctx, f, rels, o.series)...)
	}
	if !o.check {
		rows = applyPins(ctx, e, ko, rows, o.noCommit)
	}
	if err := writePinReport(e.stdout, rows, o.asJSON); err != nil {
		return err
	}
	return pinExit(rows, o.check)
}

// parseWithFiles parses flags given before, between or after the files.
func parseWithFiles(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage(fs, fs.Output().(*flagOutput).stdout)
				return nil, &exitError{code: exitOK, err: flag.ErrHelp}
			}
			printUsage(fs, fs.Output())
			return nil, &exitError{code: exitUsage, err: errors.New("")}
		}
		if fs.NArg() == 0 {
			return files, nil
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// decideFile reads one file: a row per pin with its decision, a row per
// problem.
func decideFile(ctx context.Context, name string, rels []kernelorg.Release, series string) []pinRow {
	src, err := os.ReadFile(name)
	if err != nil {
		return []pinRow{{File: name, Status: "error", Message: err.Error()}}
	}
	if err := updater.ParseNix(ctx, name, nil); err != nil {
		return []pinRow{{File: name, Line: nixErrorLine(err), Status: "error", Message: err.Error()}}
	}
	pins, probs := pin.Find(name, src)
	var rows []pinRow
	for i, p := range pins {
		r := pinRow{File: name, Line: p.Line, Attr: p.Attr, Version: p.Version, pin: p, idx: i}
		d, err := pin.Decide(p, rels, series)
		if err != nil {
			r.Status, r.Message = "failed", err.Error()
			rows = append(rows, r)
			continue
		}
		r.Series, r.Status, r.Message = d.Series, string(d.Status), d.Reason
		if !d.Newest.IsZero() {
			r.Newest = d.Newest.String()
		}
		if d.Status == pin.Behind {
			r.to, r.log = d.Newest, d.Release.ChangeLog
			r.Title = fmt.Sprintf("%s: %s -> %s", p.Attr, p.Upstream, d.Newest)
		}
		rows = append(rows, r)
	}
	for _, pr := range probs {
		rows = append(rows, pinRow{File: pr.File, Line: pr.Line, Status: "error", Message: pr.Msg})
	}
	return rows
}

// nixErrorRE finds the position in Nix's error ("at /path/f.nix:2:6:").
var nixErrorRE = regexp.MustCompile(`\n\s*at [^\n]*:(\d+):\d+:`)

// nixErrorLine is the line Nix's parse error names, else 1.
func nixErrorLine(err error) int {
	if m := nixErrorRE.FindStringSubmatch(err.Error()); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			return n
		}
	}
	return 1
}

func writePinReport(w io.Writer, rows []pinRow, asJSON bool) error {
	if asJSON {
		out := struct {
			Pins []pinRow `json:"pins"`
		}{Pins: rows}
		if out.Pins == nil {
			out.Pins = []pinRow{}
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	var b strings.Builder
	for _, r := range rows {
		at := r.File // a file that could not be read has no line
		if r.Line > 0 {
			at = fmt.Sprintf("%s:%d", r.File, r.Line)
		}
		switch r.Status {
		case "committed":
			fmt.Fprintf(&b, "committed %s: %s (%s)\n", r.Commit[:12], r.Title, at)
		case "applied":
			fmt.Fprintf(&b, "applied: %s (%s)\n", r.Title, at)
		case "current":
			if r.Message != "" {
				fmt.Fprintf(&b, "current: %s: %s: %s\n", at, r.Attr, r.Message)
				break
			}
			fmt.Fprintf(&b, "current: %s: %s %s is the newest %s\n", at, r.Attr, r.Version, r.Series)
		case "behind":
			fmt.Fprintf(&b, "behind: %s: %s %s, newest %s is %s\n", at, r.Attr, r.Version, r.Series, r.Newest)
		case "eol":
			fmt.Fprintf(&b, "eol: %s: %s %s: %s\n", at, r.Attr, r.Version, r.Message)
		case "held":
			fmt.Fprintf(&b, "held: %s: %s: %s\n", at, r.Title, r.Message)
		case "failed":
			fmt.Fprintf(&b, "failed: %s: %s\n", at, r.Message)
		default:
			fmt.Fprintf(&b, "error: %s: %s\n", at, r.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pinExit is the command's exit: 1 when something kupdate should have
// done failed, 2 when an input was bad (and left untouched), 3 when --check
// found a pin behind or on an end-of-life series, else 0.
func pinExit(rows []pinRow, check bool) error {
	count := map[string]int{}
	for _, r := range rows {
		count[r.Status]++
	}
	switch {
	case count["failed"] > 0:
		return fmt.Errorf("%d pin(s) failed (see above)", count["failed"])
	case count["error"] > 0:
		return &exitError{code: exitUsage, err: fmt.Errorf("%d input(s) kupdate cannot pin, left untouched (see above)", count["error"])}
	case check && count["behind"]+count["eol"] > 0:
		return &exitError{code: exitFindings, err: fmt.Errorf("%d pin(s) behind, %d on an end-of-life series", count["behind"], count["eol"])}
	}
	return nil
}
