package family

// Kind says what a Change does within its family (bump, init, remove,
// hardened-bump, ...). The core passes it on (plan --json, metrics) and
// never switches on it: what it needs to know is in the Change's fields.
type Kind string

// Change is one commit's worth of edits to a nixpkgs tree. The exported
// JSON fields are the `plan --json` contract (docs/design.md): keep them
// stable.
type Change struct {
	Kind   Kind     `json:"kind"`
	Attr   string   `json:"attr"`   // linux_6_12, linux_testing, linux_6_12_hardened
	Branch string   `json:"branch"` // the family's key: kernels-org.json's "6.12", "testing"
	From   string   `json:"from"`   // version before; empty for an init
	To     string   `json:"to"`     // version after; empty for a removal
	Hash   string   `json:"hash"`   // sha256:<nix32> written; empty for a removal
	LTS    bool     `json:"lts"`
	Files  []string `json:"files"` // slash paths relative to the tree root, sorted
	Title  string   `json:"title"`

	// Key is the change's identity, written into its commit as trailers.
	Key Key `json:"-"`
	// Own names the branch of its own the change is proposed on, as the
	// suffix after the attribute (kupdate/<base>/<attr>-<Own>: "init",
	// "remove"); "" puts it into the base's rolling branch with the other
	// point releases.
	Own string `json:"-"`
	// ChangeLog is upstream's change log for To, when it has one.
	ChangeLog string `json:"-"`
	// Build lists the attributes (of linuxKernel.kernels) to build and test
	// for this change.
	Build []string `json:"-"`
	// Gone lists the attribute paths that evaluate to a throw once the
	// change is in (a removal), which a reviewer checks by evaluating them.
	Gone []string `json:"-"`
	// Intro is the first sentence of the body of the PR of a change of its
	// own branch ("A new kernel branch from kernel.org: …").
	Intro string `json:"-"`
	// Payload is the family's own data for Apply (linux-hardened's patch),
	// opaque to everyone else.
	Payload any `json:"-"`
}

// Family is the name of the family that made c.
func (c Change) Family() string { return c.Key.Family }

// Rolling reports whether c goes into the base's rolling branch (a point
// release) rather than a branch of its own.
func (c Change) Rolling() bool { return c.Own == "" }

// Removes reports whether c takes kernels away rather than building any.
func (c Change) Removes() bool { return len(c.Gone) > 0 }
