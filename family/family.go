// Package family is the contract between kupdate's core and the kernel
// families it keeps current.
//
// A family is one kind of kernel nixpkgs carries, with its own files and its
// own upstream: the kernel.org kernels (kernels-org.json, linux-kernels.nix,
// aliases.nix), linux-hardened (hardened/patches.json), and whatever joins
// them. Each family owns, in one place, the files it reads and writes, how it
// parses them, its candidates from its source (releases and verified hashes),
// how it applies a change, its titles, the Nix expressions a change must
// evaluate, which attributes a change builds and what those builds read,
// whether a proposed change is still ahead of a base, and what `kupdate
// check` verifies of a pull request that changes its files (Verifier, in
// verify.go). A Registry lists the families; the planner, the cycle,
// kupdate check and the PR workflow iterate over it and never switch on a
// family's kinds.
//
// A change's identity is its Key (family, attribute, target), written into
// each commit as trailers and read back as data (see key.go): titles are
// presentation only.
package family

import (
	"context"
	"time"
)

// Family is one kind of kernel kupdate keeps current. Its methods that take
// a Tree see the whole tree (a family may read another's files: linux-hardened
// patches kernel.org's kernels) but change only through Apply.
type Family interface {
	// Name is the family's identity in commit trailers, state and logs:
	// "kernel.org", "hardened". It never changes once released.
	Name() string
	// Paths are the tree files the family reads, slash paths from the tree
	// root; a tree is loaded with every registered family's paths that it
	// has.
	Paths() []string
	// Present reports whether t carries the family (a fork that dropped its
	// files has no such family).
	Present(t *Tree) bool
	// Load checks that the family's files in t have the shape the family
	// edits; its errors name the file, the line and what is wrong.
	Load(t *Tree) error
	// Attrs are the attributes the family keeps in t, with their versions,
	// in the order the family lists them.
	Attrs(t *Tree) []Attr

	// Offers are what the family's source offers now, one per attribute it
	// could change: a cheap read (conditional where the source allows it),
	// for `kupdate status` and the status page. A family whose source
	// offers nothing beyond its changes returns none.
	Offers(ctx context.Context) ([]Offer, error)
	// Plan proposes the changes t needs, in commit order, each with its
	// verified hash, Key and title; and says what waits or is skipped. The
	// planner applies the changes one by one (a change that does not apply
	// is held with the editor's error). An error means the family's source
	// could not be read at all and the cycle must stop; a failure that
	// concerns only some changes is a held Note with Err set.
	Plan(ctx context.Context, t *Tree) (*Plan, error)
	// Apply makes c to the files of t and returns the new content of every
	// file it changes (nil content: deleted). It does not modify t.
	Apply(t *Tree, c Change) (map[string][]byte, error)

	// CheckFile reads back a file the family writes (a JSON file must parse
	// as the family reads it); handled is false for a file the family does
	// not write. .nix files are checked by Nix, not here.
	CheckFile(path string, data []byte) (handled bool, err error)
	// EvalChecks are Nix expressions over `p`, the tree's package set, that
	// must evaluate once c is applied: the .drvPath of each attribute it
	// builds (the source hash is part of it), and the aliases it adds or
	// moves.
	EvalChecks(c Change) []string
	// Entries narrows what an attribute's derivation reads of a file the
	// family keeps as a JSON object of entries: the keys of the entries attr
	// (built for change c) reads. narrow is false for a file the family does
	// not keep that way; the build cache then keys on the whole file.
	Entries(path string, data []byte, c Change, attr string) (keys []string, narrow bool)
	// Ahead reports whether the change k still proposes something base does
	// not have: a proposed commit that the base has caught up with (its PR
	// merged, the same bump made by hand) or of an attribute the base
	// dropped withdraws nothing.
	Ahead(base *Tree, k Key) bool
}

// Attr is one attribute a family keeps in a tree.
type Attr struct {
	Name    string // linux_6_12, linux_6_12_hardened, linux_testing
	Branch  string // the family's key for it: "6.12", "testing"
	Version string // what the tree has: 6.12.64, 6.12.64-hardened1
}

// Offer is what a family's source offers for one attribute.
type Offer struct {
	Family  string
	Attr    string
	Branch  string
	Version string
	// IfCarried says the offer matters only to a tree that has the
	// attribute: kupdate never adds it (linux_testing).
	IfCarried bool
	// Released is when the source released Version; zero when it does not
	// say. It is what the lag of a version is counted from.
	Released time.Time
}

// Plan is one family's proposal for a tree, or (from the planner) every
// family's.
type Plan struct {
	Changes []Change
	// Held are changes upstream calls for that wait: a hash the source has
	// not published yet (retried next cycle), or one that failed (Err set).
	Held []Note
	// Skipped are upstream releases and tree branches left alone on
	// purpose, with the rule that applies.
	Skipped []Note
	// Offers are what the sources offer now (see Family.Offers).
	Offers []Offer
}

// Failed lists the held changes that failed (rather than wait): a cycle
// reports them and exits non-zero after doing everything else.
func (p *Plan) Failed() []Note {
	var out []Note
	for _, n := range p.Held {
		if n.Err != nil {
			out = append(out, n)
		}
	}
	return out
}

// Note says why a change was held back or a branch skipped.
type Note struct {
	Family string // the family that wrote it
	Branch string // "6.18", "testing"; the source's name when the whole source failed ("hardened")
	// Attr is the attribute a held change would have changed; "" for
	// skipped branches and for a failure of a whole source, which holds
	// back every attribute of its family.
	Attr string
	// Variant qualifies Branch in what is printed, so that a note about
	// linux_6_12_hardened is not taken for one about linux_6_12: "hardened"
	// prints "6.12 (hardened)". "" for the family's plain kernels.
	Variant string
	Reason  string // "6.18.6 not yet signed on kernel.org"
	// Err is the failure behind a held change; nil when it merely waits.
	Err error
}

// String is the note as kupdate prints it: "6.18: 6.18.6 not yet signed on
// kernel.org", "6.12 (hardened): …".
func (n Note) String() string { return n.Label() + ": " + n.Reason }

// Label is what the note is about: "6.18", or "6.12 (hardened)".
func (n Note) Label() string {
	if n.Variant != "" {
		return n.Branch + " (" + n.Variant + ")"
	}
	return n.Branch
}

// SourceFailure reports whether the note holds back a whole family (its
// source could not be read) rather than one attribute.
func (n Note) SourceFailure() bool { return n.Attr == "" && n.Err != nil && n.Family != "" }
