package updater

import (
	"fmt"

	"github.com/kupdate/kupdate/kernelorg"
)

// Kind says what a Change does; each kind has nixpkgs' own commit title shape.
type Kind string

const (
	Bump         Kind = "bump"          // linux_6_12: 6.12.63 -> 6.12.64
	Init         Kind = "init"          // linux_6_19: init at 6.19
	Remove       Kind = "remove"        // linux_6_17: remove
	HardenedBump Kind = "hardened-bump" // linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.64-hardened1
	HardenedInit Kind = "hardened-init" // linux_6_19_hardened: init at 6.19.1-hardened1
)

// Change is one commit's worth of edits to a nixpkgs tree. The exported JSON
// fields are the `plan --json` contract of design.md: keep them stable.
type Change struct {
	Kind   Kind     `json:"kind"`
	Attr   string   `json:"attr"`   // linux_6_12, linux_testing, linux_6_12_hardened
	Branch string   `json:"branch"` // kernels-org.json / patches.json key: "6.12", "testing"
	From   string   `json:"from"`   // version before; empty for init
	To     string   `json:"to"`     // version after; empty for remove
	Hash   string   `json:"hash"`   // sha256:<nix32> written; empty for remove
	LTS    bool     `json:"lts"`
	Files  []string `json:"files"` // slash paths relative to the tree root, sorted
	Title  string   `json:"title"`

	// ChangeLog is kernel.org's ChangeLog URL for To, when upstream has one.
	ChangeLog string `json:"-"`
	// Build lists the attributes (of linuxKernel.kernels) to build and test
	// for this change.
	Build []string `json:"-"`

	// Patch is the hardened patch a hardened-bump or hardened-init writes
	// (From and To are then "6.12.64-hardened1", Hash the kernel tarball's).
	Patch *HardenedPatch `json:"-"`
	// Drops lists the branches whose hardened variant a hardened-init
	// removes (nixpkgs keeps only the latest stable and the latest LTS).
	Drops []string `json:"-"`
}

// HardenedPatch is one release of anthraxx/linux-hardened as patches.json
// records it.
type HardenedPatch struct {
	Version      kernelorg.Version // the kernel version it applies to: 6.12.64
	Extra        string            // "-hardened1"
	Name         string            // linux-hardened-v6.12.64-hardened1.patch
	URL          string            // the release asset's download URL
	SHA256       string            // nix32 of the patch file (verified by kupdate)
	KernelSHA256 string            // nix32 of linux-<Version>.tar.xz (signed by kernel.org)
}

// Rolling reports whether c belongs in the rolling per-base update branch
// (point releases) rather than a branch of its own (a new major, a removal).
func (c Change) Rolling() bool { return c.Kind == Bump || c.Kind == HardenedBump }

// Title is nixpkgs' commit title for c: Attr, Kind, From, To and (for a
// same-version bump) LTS decide it. The planner titles every change with it
// and kupdate check compares commit titles with it, so the two cannot drift.
func Title(c Change) string {
	switch c.Kind {
	case Bump:
		if c.From == c.To {
			if c.LTS {
				return c.Attr + ": mark as longterm"
			}
			return c.Attr + ": mark as not longterm"
		}
		return fmt.Sprintf("%s: %s -> %s", c.Attr, c.From, c.To)
	case Init, HardenedInit:
		return fmt.Sprintf("%s: init at %s", c.Attr, c.To)
	case Remove:
		return c.Attr + ": remove"
	case HardenedBump:
		return fmt.Sprintf("linux/hardened/patches/%s: v%s -> v%s", c.Branch, c.From, c.To)
	}
	return ""
}
