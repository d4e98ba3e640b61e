// Package vanilla is the family of the kernel.org kernels nixpkgs carries:
// one entry per branch in kernels-org.json (version, hash, lts), with its
// kernels and vanillaPackages entries in linux-kernels.nix and its aliases
// in aliases.nix; linux_testing follows mainline's release candidates.
//
// The planner's rules (kept as nixpkgs' maintainers and update-mainline.py
// apply them):
//
//   - One change per commit, in a fixed order: removals, bumps (branch
//     ascending), testing, new branches. Titles are nixpkgs': `linux_6_12:
//     6.12.63 -> 6.12.64`, `linux_testing: 6.19-rc3 -> 6.19-rc4`,
//     `linux_7_0: init at 7.0.1`, `linux_5_10: remove`.
//   - Never backwards; never re-adds a kernel the tree turned into a throw
//     (in linux-kernels.nix or aliases.nix), nor one EOL upstream; skips
//     branches older than the tree's oldest, and branches between the
//     tree's oldest and newest that it does not have (only new majors are
//     added).
//   - An init copies its predecessor's entry (same kernelPatches) and adds
//     the vanillaPackages entry and both aliases, moving linux_latest when
//     it is the newest, all in one commit.
//   - A branch kernel.org marks EOL is removed: its kernels-org.json key
//     deleted, throws in linux-kernels.nix's kernels and vanillaPackages in
//     each section's own wording, `# Added YYYY-MM-DD` where that section
//     dates them; linux_latest moves to the newest remaining branch,
//     linux_default to the newest remaining longterm one. Its hardened
//     variant goes with it. aliases.nix is left alone, as nixpkgs does
//     since Dec 2025 (its aliases resolve to those throws); AliasThrows
//     (nixpkgs.alias_throws) turns them into dated throws as in 2025.
//   - On a maintainer's request (Propose): a longterm branch is removed
//     before its end of life, every throw worded "linux X.Y was removed
//     because it will reach its end of life within YY.MM" (4.19's and
//     5.4's wording); linux_default moves to a newer longterm branch, one
//     commit titled `linuxPackages: 6.12 -> 6.18` (nixpkgs#485549).
//   - lts follows kernel.org when the tree records it (trees from before Aug
//     2025 stay without it). A move between stable and longterm rides along
//     with a bump, or is a change of its own titled `linux_6_18: mark as
//     longterm` when the version did not change.
//   - testing is bumped to a newer rc. While kernel.org lists a final
//     release and no rc, it stays at its last rc until the next rc1, as
//     nixpkgs' update-mainline.py does (linux_testing then evaluates to
//     linux_latest).
//
// Hashes are kernel.org's signed checksums (the NAR hash of the snapshot for
// an rc); a missing one means "not yet" and holds only that change.
package vanilla

import (
	"context"
	"fmt"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// Name is the family's name in commit trailers and state.
const Name = "kernel.org"

// The kinds of change the family makes.
const (
	Bump   family.Kind = "bump"   // linux_6_12: 6.12.63 -> 6.12.64
	Init   family.Kind = "init"   // linux_6_19: init at 6.19
	Remove family.Kind = "remove" // linux_6_17: remove
)

// Source is where releases and verified hashes come from;
// *kernelorg.Client is one.
type Source interface {
	// Releases is releases.json.
	Releases(ctx context.Context) ([]kernelorg.Release, error)
	// Hash is the verified Nix hash of a release: "sha256:<nix32>" of
	// linux-V.tar.xz, the NAR hash of the unpacked snapshot for an rc. An
	// error wrapping kernelorg.ErrNotYet means kernel.org has not published
	// it yet.
	Hash(ctx context.Context, v kernelorg.Version) (string, error)
}

// Family is the kernel.org kernels of a tree.
type Family struct {
	src         Source
	aliasThrows bool
}

// New is the family with its source. Its removals leave aliases.nix alone,
// as nixpkgs does since Dec 2025 (see AliasThrows).
func New(src Source) *Family { return &Family{src: src} }

// AliasThrows sets whether a removal also turns the kernel's aliases in
// aliases.nix into dated throws, nixpkgs' 2025 convention that a release
// branch or a fork may still follow (config: nixpkgs.alias_throws).
func (f *Family) AliasThrows(on bool) *Family { f.aliasThrows = on; return f }

var _ family.Family = (*Family)(nil)

func (*Family) Name() string { return Name }

func (*Family) Paths() []string {
	return []string{kernelfiles.KernelsJSONPath, kernelfiles.LinuxKernelsPath, kernelfiles.AliasesPath}
}

func (*Family) Present(t *family.Tree) bool { return kernelfiles.Carried(t) }

func (*Family) Load(t *family.Tree) error { _, err := kernelfiles.Read(t); return err }

func (*Family) Attrs(t *family.Tree) []family.Attr {
	m, err := kernelfiles.Read(t)
	if err != nil {
		return nil
	}
	var out []family.Attr
	for _, e := range m.Kernels() {
		out = append(out, family.Attr{Name: kernelfiles.Attr(e.Branch), Branch: e.Branch, Version: e.Version.String()})
	}
	return out
}

// Offers are the newest release of each branch kernel.org lists; testing
// only matters to a tree that has linux_testing.
func (f *Family) Offers(ctx context.Context) ([]family.Offer, error) {
	rels, err := f.src.Releases(ctx)
	if err != nil {
		return nil, err
	}
	return offers(upstream(rels)), nil
}

func offers(up map[string]kernelorg.Release) []family.Offer {
	var out []family.Offer
	for _, b := range sortedBranches(up) {
		out = append(out, family.Offer{Family: Name, Attr: kernelfiles.Attr(b), Branch: b, Version: up[b].Version.String(), IfCarried: b == "testing", Released: up[b].ReleasedAt})
	}
	return out
}

func (*Family) CheckFile(path string, data []byte) (bool, error) {
	if path != kernelfiles.KernelsJSONPath {
		return false, nil
	}
	return true, kernelfiles.CheckKernelsJSON(data)
}

// EvalChecks are the .drvPath of each kernel c builds, and for an init its
// package set, linux_latest and both new aliases; for a removal,
// linux_latest and linux_default (which it may move).
func (*Family) EvalChecks(c family.Change) []string {
	var out []string
	for _, a := range c.Build {
		out = append(out, "p.linuxKernel.kernels."+a+".drvPath")
	}
	switch c.Kind {
	case Init:
		a := kernelfiles.Attr(c.Branch)
		out = append(out,
			"p.linuxKernel.packages."+a+".kernel.drvPath",
			"p.linuxKernel.packageAliases.linux_latest.kernel.version",
			"(p."+a+" or p.linuxKernel.kernels."+a+").version",
			"(p."+strings.Replace(a, "linux_", "linuxPackages_", 1)+" or p.linuxKernel.packages."+a+").kernel.version",
		)
	case Remove:
		out = append(out,
			"p.linuxKernel.packageAliases.linux_latest.kernel.version",
			"p.linuxKernel.packageAliases.linux_default.kernel.version",
		)
	case Default:
		out = append(out, "p.linuxKernel.packageAliases.linux_default.kernel.version", "(p.linuxPackages or p.linuxKernel.packageAliases.linux_default).kernel.version")
	}
	return out
}

// Entries: a kernel's derivation reads its own kernels-org.json entry, and
// linux_testing also the newest branch's, which it becomes once that is as
// new.
func (*Family) Entries(path string, data []byte, c family.Change, attr string) ([]string, bool) {
	if path != kernelfiles.KernelsJSONPath {
		return nil, false
	}
	keys := []string{c.Branch}
	if c.Branch == "testing" {
		keys = append(keys, newestSeries(data))
	}
	return keys, true
}

// Ahead: the base's entry is older than the target (or, for a removal, the
// base still has the branch; for an lts flip, the base's flag differs). A
// branch the base turned into a throw withdraws nothing; one it never had
// is still to be added.
func (*Family) Ahead(base *family.Tree, k family.Key) bool {
	m, err := kernelfiles.Read(base)
	if err != nil {
		return true
	}
	if k.Attr == DefaultAttr {
		return m.Default() != k.Target
	}
	branch := strings.ReplaceAll(strings.TrimPrefix(k.Attr, "linux_"), "_", ".")
	e, has := m.Entry(branch)
	if !has {
		_, removed := m.Removed(k.Attr)
		return !removed && k.Target != targetRemoved
	}
	switch k.Target {
	case targetRemoved:
		return true
	case targetLTS:
		return !e.LTS
	case targetNotLTS:
		return e.LTS
	}
	v, err := kernelorg.ParseVersion(k.Target)
	if err != nil {
		return true
	}
	return e.Version.Less(v)
}

// Targets of the family's keys that are not versions.
const (
	targetRemoved = "removed"
	targetLTS     = "lts=true"
	targetNotLTS  = "lts=false"
)

// Title is nixpkgs' commit title for a change of the family: Attr, Kind,
// From, To and (for a same-version bump) LTS decide it. The planner titles
// every change with it and kupdate check compares commit titles with it, so
// the two cannot drift.
func Title(c family.Change) string {
	switch c.Kind {
	case Bump:
		if c.From == c.To {
			if c.LTS {
				return c.Attr + ": mark as longterm"
			}
			return c.Attr + ": mark as not longterm"
		}
		return fmt.Sprintf("%s: %s -> %s", c.Attr, c.From, c.To)
	case Init:
		return fmt.Sprintf("%s: init at %s", c.Attr, c.To)
	case Remove:
		return c.Attr + ": remove"
	case Default:
		return fmt.Sprintf("linuxPackages: %s -> %s", c.From, c.To)
	}
	return ""
}

// Made is c as the planner makes it, for those who build changes by hand
// (tests, kupdate check's expectations): its attribute when it has none,
// and its title, key, branch and PR texts from Kind, Branch, From, To and
// LTS.
func Made(c family.Change) family.Change {
	if c.Attr == "" {
		c.Attr = kernelfiles.Attr(c.Branch)
	}
	return finish(c)
}

// finish gives c everything beyond what the planner decided: its title,
// key, branch and PR texts.
func finish(c family.Change) family.Change {
	c.Title = Title(c)
	c.Key = family.Key{Family: Name, Attr: c.Attr, Target: c.To}
	switch c.Kind {
	case Bump:
		if c.From == c.To {
			c.Key.Target = targetNotLTS
			if c.LTS {
				c.Key.Target = targetLTS
			}
		}
	case Init:
		c.Own = "init"
		c.Intro = fmt.Sprintf("A new kernel branch from kernel.org: `%s` at %s.", c.Attr, c.To)
	case Remove:
		c.Own = "remove"
		c.Key.Target = targetRemoved
		c.Intro = fmt.Sprintf("`%s` has reached its end of life upstream and is removed.", c.Attr)
		if r, ok := c.Payload.(Removal); ok && r.EOLWithin != "" {
			c.Intro = fmt.Sprintf("`%s` will reach its end of life upstream within NixOS %s's support window and is removed, as a maintainer asked.", c.Attr, r.EOLWithin)
		}
		c.Gone = removedExprs(c.Attr)
	case Default:
		// kupdate/<base>/linux_default-linux_6_18: one branch per target.
		c.Own = kernelfiles.Attr(c.To)
		c.Key.Target = kernelfiles.Attr(c.To)
		c.Intro = fmt.Sprintf("`linux_default` (`linuxPackages`, the kernel NixOS boots by default) moves from `%s` to `%s`, as a maintainer asked.", kernelfiles.Attr(c.From), kernelfiles.Attr(c.To))
	}
	return c
}

// removedExprs are the attribute paths a removal of attr turns into throws:
// its kernels and vanillaPackages entries in linux-kernels.nix, and its two
// aliases in aliases.nix.
func removedExprs(attr string) []string {
	out := []string{"linuxKernel.kernels." + attr, "linuxKernel.packages." + attr, attr}
	if rest, ok := strings.CutPrefix(attr, "linux_"); ok {
		out = append(out, "linuxPackages_"+rest)
	}
	return out
}
