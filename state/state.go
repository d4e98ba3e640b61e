// Package state is what kupdate keeps of its cycles between runs
// (state.json in the state directory): a record per kernel attribute (when
// a cycle last looked at it, what became of its change, its PR and its
// build), kupdate's branches with their PRs, and the promotions. Package
// cycle writes it, `kupdate status` and the service's status page read it.
//
// A cycle updates only what it looked at (Merge): an attribute it did not
// look at (--only left it out, its branch was kept as proposed, its source
// failed) keeps its last record, and NotChecked says why.
package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kupdate/kupdate/atomicfile"
)

// Version is the layout of state.json this kupdate writes. Version 1
// (kupdate before the per-attribute records) is read and converted; any
// other is ignored (the next cycle writes it again).
const Version = 2

// File is state.json's name in the state directory.
const File = "state.json"

// State is what the last finished cycle left.
type State struct {
	Version    int       `json:"version"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	BaseBranch string    `json:"base_branch"`
	Base       string    `json:"base"` // the commit the branches started from
	Source     string    `json:"source"`
	OK         bool      `json:"ok"`
	Error      string    `json:"error,omitempty"`
	// LastSuccess is when the last cycle that succeeded ended (this one,
	// or an earlier one when this one failed); zero before any. The
	// service seeds kupdate_last_success_timestamp_seconds from it at
	// start. A file without it (an older kupdate's) reads as End when OK.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// Attrs are the kernel attributes, one record each, ordered by branch
	// (5.10 < 6.1 < 6.12, testing last), then attribute.
	Attrs []Attr `json:"attrs"`
	// Branches are kupdate's branches with their PRs.
	Branches   []Branch    `json:"branches"`
	Promotions []Promotion `json:"promotions,omitempty"`
	// Suggestions are the requests the families advise a maintainer to
	// make for the tree at the base, which kupdate never makes by itself.
	Suggestions []Suggestion `json:"suggestions,omitempty"`
	// Stale names the sources `kupdate status` could not read live
	// ("kernel.org", "nixpkgs", "github"): their values are the last
	// cycle's. A cycle never writes it.
	Stale []string `json:"stale,omitempty"`
}

// Suggestion is a request a family advises for the tree, with the command
// that makes it.
type Suggestion struct {
	Family  string `json:"family"`
	Attr    string `json:"attr"`    // the attribute the request is about: linux_6_18
	Reason  string `json:"reason"`  // why: "linux_6_18 is a newer longterm branch than linux_default (linux_6_12)"
	Command string `json:"command"` // kupdate propose default linux_6_18
}

// Attr is one kernel attribute as the last cycle that looked at it left
// it.
type Attr struct {
	Attr     string `json:"attr"`             // linux_6_12
	Family   string `json:"family,omitempty"` // kernel.org, hardened
	Branch   string `json:"branch"`           // its family's key: "6.12", "testing"
	Nixpkgs  string `json:"nixpkgs"`          // the version at the base; "" = not packaged
	Upstream string `json:"upstream"`         // what its source offers; "" = gone (EOL), or not known
	// Checked is when a cycle last looked at it.
	Checked time.Time `json:"checked,omitzero"`
	// NotChecked says why the last cycle did not look at it ("not selected
	// by --only", "kept as proposed: …", "held: …"); its other fields are
	// then an earlier cycle's. "" when it did.
	NotChecked string `json:"not_checked,omitempty"`
	// Change is the change the cycle that looked at it planned, nil when it
	// needed none.
	Change *Change `json:"change,omitempty"`
	// Result is what became of it, in words: "linux_6_12: 6.12.64 ->
	// 6.12.70: PR #1 up to date", why it waits or was skipped, "up to date".
	Result string `json:"result"`
	PR     *PR    `json:"pr"`    // the PR carrying its change; nil = none
	Build  string `json:"build"` // the last build: "passed", "configfile failed", "" = none
	// Standing is where it stands, as data for the status page's colours:
	// whether kupdate has work to do for it. "" in a file of an older
	// kupdate (the page then compares the versions).
	Standing Standing `json:"standing,omitempty"`
	// Tiers are its last build, tier by tier (eval, configfile, kernel,
	// test): what each did, how long it took, and the log kept of it.
	Tiers []Tier `json:"tiers,omitempty"`
	// History is the attribute's last versions (HistoryLen, oldest first)
	// with when each was released, proposed, merged and promoted: the lag
	// the status page and /metrics show. Every cycle carries it over.
	History []Release `json:"history,omitempty"`
}

// Tier is one tier of an attribute's last build.
type Tier struct {
	Tier   string `json:"tier"`
	Status string `json:"status"` // passed, failed, skipped, timed-out, cancelled
	TookMS int64  `json:"took_ms"`
	// Log is the file in the state directory's LogDir that keeps the end
	// of its output (a tier that did not pass); "" when none was kept.
	Log string `json:"log,omitempty"`
}

// LogDir is where build logs are kept in the state directory, at most
// MaxLogs of them (the oldest go first).
const (
	LogDir  = "logs"
	MaxLogs = 50
)

// Standing is where an attribute stands with kupdate.
type Standing string

const (
	// Current: the base has the newest version its source offers.
	Current Standing = "current"
	// Work: kupdate has work to do: a change planned or proposed, or one
	// that waits (a checksum not published yet, a failure to retry).
	Work Standing = "work"
	// Removing: a removal is planned or proposed (the branch is end of
	// life upstream).
	Removing Standing = "removing"
	// Left: kupdate leaves it alone on purpose, by a rule (end of life
	// upstream and not packaged, gone upstream, not a branch kupdate adds).
	Left Standing = "left"
)

// Reason is the record's last result, saying when it is an earlier cycle's.
func (a Attr) Reason() string {
	if a.NotChecked != "" {
		return a.Result + " (not checked this cycle: " + a.NotChecked + ")"
	}
	return a.Result
}

// Change is a change a cycle planned for an attribute.
type Change struct {
	Title   string  `json:"title"`
	Kind    string  `json:"kind"`
	Outcome Outcome `json:"outcome"`
	Branch  string  `json:"branch"` // kupdate's git branch; "" when it is in none
	Error   string  `json:"error,omitempty"`
}

// Outcome is what became of a change (package cycle's vocabulary).
type Outcome string

// PR is a pull request on GitHub.
type PR struct {
	Number int     `json:"number"`
	URL    string  `json:"url"`
	State  PRState `json:"state"`
}

// PRState is a pull request's state as kupdate shows it.
type PRState string

const (
	Open   PRState = "open"
	Draft  PRState = "draft"
	Merged PRState = "merged"
	Closed PRState = "closed"
)

// Branch is one of kupdate's branches and its pull request.
type Branch struct {
	Name string `json:"branch"`
	Head string `json:"head"`
	Push string `json:"push"` // what the last push did: pushed, unchanged, …
	PR   *PR    `json:"pr"`
}

// Promotion is one staging -> target promotion.
type Promotion struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Ahead   int    `json:"ahead"` // commits From has that To lacks
	PR      *PR    `json:"pr"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// Read reads the state the last finished cycle wrote in dir. An error
// wrapping fs.ErrNotExist means no cycle has finished there yet; a file of
// version 1 is converted.
func Read(dir string) (*State, error) {
	path := filepath.Join(dir, File)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v struct{ Version int }
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w (delete it; the next cycle writes it again)", path, err)
	}
	switch v.Version {
	case Version:
		var st State
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("%s: %w (delete it; the next cycle writes it again)", path, err)
		}
		if st.LastSuccess.IsZero() && st.OK {
			st.LastSuccess = st.End
		}
		return &st, nil
	case 1:
		st, err := fromV1(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (delete it; the next cycle writes it again)", path, err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("%s: version %d, want %d (the next cycle writes it again)", path, v.Version, Version)
}

// Write writes st into dir atomically: a reader sees the old file or the
// new one, never half.
func Write(dir string, st *State) error {
	b, err := Marshal(st)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, File), b, 0o644)
}

// Marshal is st as state.json holds it (and `kupdate status --json` prints
// it): indented, with "<" and ">" as they are.
func Marshal(st *State) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
