package family

import "fmt"

// Request is a change a maintainer asks for, beyond what a family's source
// calls for: `kupdate propose remove linux_5_4 --eol-within 25.11`,
// `kupdate propose default linux_6_18`. A family that keeps the attribute
// turns it into a Change (Proposer), which then goes through the same
// cycle as every other change: its own branch and PR, or a commit in a
// maintainer's checkout.
type Request struct {
	Kind Kind   // RequestRemove, RequestDefault
	Attr string // the attribute the request is about: linux_5_4
	// EOLWithin is, for a removal, the NixOS release ("25.11") within whose
	// support window the branch reaches its end of life upstream.
	EOLWithin string
}

// The kinds of Request.
const (
	RequestRemove  Kind = "remove"
	RequestDefault Kind = "default"
)

// String is the request as the command line spells it.
func (r Request) String() string {
	s := string(r.Kind) + " " + r.Attr
	if r.EOLWithin != "" {
		s += " --eol-within " + r.EOLWithin
	}
	return s
}

// Proposer is a family that makes the changes maintainers ask for.
type Proposer interface {
	// Propose turns r into a change of t. ok is false when r is about an
	// attribute the family does not keep; a request that makes no sense
	// (the branch is already a throw, not longterm, already the default)
	// is a *RefusedError.
	Propose(t *Tree, r Request) (c Change, ok bool, err error)
}

// RefusedError is a request that makes no sense for the tree: nothing is
// written, and the command exits 2 with Reason.
type RefusedError struct {
	Request Request
	Reason  string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("propose %s: %s", e.Request, e.Reason)
}

// Refuse is a RefusedError of r.
func Refuse(r Request, format string, args ...any) *RefusedError {
	return &RefusedError{Request: r, Reason: fmt.Sprintf(format, args...)}
}

// Suggestion is a request a family advises a maintainer to make, with why:
// kupdate never makes it by itself (`kupdate status` shows the command).
type Suggestion struct {
	Family  string
	Reason  string // "linux_6_18 is a newer longterm branch than linux_default (linux_6_12)"
	Request Request
}

// Command is the command that makes the request.
func (s Suggestion) Command() string { return "kupdate propose " + s.Request.String() }

// Suggester is a family that advises requests for a tree.
type Suggester interface {
	Suggest(t *Tree) []Suggestion
}
