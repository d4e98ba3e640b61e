// Package xanmod is the family of nixpkgs' xanmod kernels:
// xanmod-kernels.nix, whose variants (lts: linux_xanmod, with isLTS; main:
// linux_xanmod_latest) are releases of xanmod/linux on GitLab, fetched with
// fetchFromGitLab from the tag <version>-<suffix>.
//
// As update-xanmod.sh does, a bump rewrites the variant block's version and
// hash lines, drops its suffix line and adds one only for a suffix other
// than xanmod1; isLTS and everything else stay. A release's variant is the
// one its first asset link names (…/releases/lts/6.12.61-xanmod1/), as the
// script reads it: lts follows xanmod's LTS releases, main its mainline
// ones. kupdate takes the newest release of the variant, never of a series
// older than the tree's, never backwards; a tag that does not parse is
// named and skipped. The hash is the NAR hash of the tag's archive as
// fetchFromGitLab unpacks it (package srcarchive).
//
// Each bump is its own pull request, titled as nixpkgs' update scripts
// title a bump: `linuxKernel.kernels.linux_xanmod: 6.12.60 -> 6.12.61`.
// (nixpkgs' maintainers often bump both variants in one PR titled
// `linux_xanmod, linux_xanmod_latest: <date>`; kupdate's branches are per
// attribute.)
package xanmod

import (
	"context"
	"fmt"
	"regexp"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg"
)

// Name is the family's name in commit trailers and state.
const Name = "xanmod"

// Path is the file the family keeps.
const Path = "pkgs/os-specific/linux/kernel/xanmod-kernels.nix"

// Bump is the one kind of change the family makes.
const Bump family.Kind = "xanmod-bump"

// Source is where xanmod's releases come from (GitLab; see GitLab).
type Source interface {
	Releases(ctx context.Context) ([]Release, error)
	// Hash is the SHA-256 of the NAR of r's tag archive, unpacked as
	// fetchFromGitLab unpacks it.
	Hash(ctx context.Context, r Release) ([]byte, error)
}

// Release is one release of xanmod/linux.
type Release struct {
	Tag        string // 6.12.61-xanmod1
	Variant    string // lts, main: from the first asset link; "" if it names none
	ArchiveURL string
	WebURL     string // the release's page
}

// Family is the xanmod kernels of a tree.
type Family struct{ src Source }

// New is the family reading releases from src.
func New(src Source) *Family { return &Family{src: src} }

var _ family.Family = (*Family)(nil)

func (*Family) Name() string    { return Name }
func (*Family) Paths() []string { return []string{Path} }

// Present: a tree carries xanmod kernels when it has xanmod-kernels.nix.
func (*Family) Present(t *family.Tree) bool { return t.Has(Path) }

// Load accepts any file: one kupdate cannot read holds xanmod's changes
// (Plan), never the other families'.
func (*Family) Load(*family.Tree) error { return nil }

func (*Family) Attrs(t *family.Tree) []family.Attr {
	f, err := read(t)
	if err != nil {
		return nil
	}
	var out []family.Attr
	for _, v := range f.Variants {
		out = append(out, family.Attr{Name: Attr(v.Name), Branch: v.Name, Version: v.Release()})
	}
	return out
}

// Attr is the kernel of a variant, as linux-kernels.nix names it.
func Attr(variant string) string {
	switch variant {
	case "lts":
		return "linux_xanmod"
	case "main":
		return "linux_xanmod_latest"
	}
	return "linux_xanmod_" + variant
}

// Title is the commit title of a bump.
func Title(attr, from, to string) string {
	return fmt.Sprintf("linuxKernel.kernels.%s: %s -> %s", attr, from, to)
}

var tagRE = regexp.MustCompile(`^([1-9][0-9]*\.[0-9]+\.[0-9]+)-(xanmod[1-9][0-9]*)$`)

// ParseTag splits 6.12.61-xanmod1.
func ParseTag(tag string) (kernelorg.Version, string, bool) {
	m := tagRE.FindStringSubmatch(tag)
	if m == nil {
		return kernelorg.Version{}, "", false
	}
	v, err := kernelorg.ParseVersion(m[1])
	return v, m[2], err == nil
}

// Offers: none here (the plan reads the releases); a tree without
// xanmod-kernels.nix must cost no request to GitLab.
func (*Family) Offers(context.Context) ([]family.Offer, error) { return nil, nil }

func (*Family) CheckFile(string, []byte) (bool, error) { return false, nil }

func (*Family) EvalChecks(c family.Change) []string {
	return []string{"p.linuxKernel.kernels." + c.Attr + ".drvPath"}
}

func (*Family) Entries(string, []byte, family.Change, string) ([]string, bool) { return nil, false }

// Ahead: the base's variant is older than the target; a base without it
// dropped it.
func (*Family) Ahead(base *family.Tree, k family.Key) bool {
	if !base.Has(Path) {
		return false
	}
	f, err := read(base)
	if err != nil {
		return true
	}
	for _, v := range f.Variants {
		if Attr(v.Name) == k.Attr {
			ver, suffix, ok := ParseTag(k.Target)
			return !ok || newer(ver, suffix, v.Version, v.Suffix)
		}
	}
	return false
}
