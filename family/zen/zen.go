// Package zen is the family of nixpkgs' zen kernels: zen-kernels.nix, whose
// variants (linux_zen; linux_lqx in files that still carry Liquorix) are
// releases of zen-kernel/zen-kernel on GitHub, fetched with
// fetchFromGitHub from the tag v<version>-<suffix>.
//
// As update-zen.py does, a bump rewrites a variant's three marked lines —
// `version = "…"; # zen`, `suffix = "…"; # zen` and the hash line (`hash`
// in SRI, or `sha256` in the older files, in the encoding it already
// holds) — and nothing else. The variant follows the newest release whose
// tag is v<X.Y[.Z]>-<variant><N>; kupdate never moves it back, nor to a
// series older than the one it is on, and a tag that looks like the
// variant's but does not parse is named and skipped, never written. The
// hash is the NAR hash of the tag's tarball as fetchzip unpacks it
// (package srcarchive), which update-zen.py's nix-prefetch-git computes
// too for a tree without submodules.
//
// Each bump is its own pull request (nixpkgs merges zen bumps apart from
// kernel.org's point releases), titled as nixpkgs titles them:
// `linuxKernel.kernels.linux_zen: 6.19.12-zen1 -> 7.0.3-zen1`.
package zen

import (
	"context"
	"fmt"
	"regexp"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg"
)

// Name is the family's name in commit trailers and state.
const Name = "zen"

// Path is the file the family keeps.
const Path = "pkgs/os-specific/linux/kernel/zen-kernels.nix"

// Bump is the one kind of change the family makes.
const Bump family.Kind = "zen-bump"

// Source is where zen-kernel's releases come from (GitHub; see GitHub).
type Source interface {
	// Releases lists the published releases, newest first.
	Releases(ctx context.Context) ([]Release, error)
	// Hash is the SHA-256 of the NAR of r's tag tarball, unpacked as
	// fetchFromGitHub unpacks it.
	Hash(ctx context.Context, r Release) ([]byte, error)
}

// Release is one release of zen-kernel.
type Release struct {
	Tag        string // v6.18.2-zen1
	ArchiveURL string // the tag's tarball, where fetchFromGitHub fetches it
	HTMLURL    string // the release's page: the change log of a bump
}

// Family is the zen kernels of a tree.
type Family struct{ src Source }

// New is the family reading releases from src (nil: a family that can load
// and apply changes but not plan).
func New(src Source) *Family { return &Family{src: src} }

var _ family.Family = (*Family)(nil)

func (*Family) Name() string    { return Name }
func (*Family) Paths() []string { return []string{Path} }

// Present: a tree carries zen kernels when it has zen-kernels.nix.
func (*Family) Present(t *family.Tree) bool { return t.Has(Path) }

// Load accepts any zen-kernels.nix: the file is not kupdate's alone (a
// maintainer may reshape it), and one that kupdate cannot read must not
// stop the kernel.org kernels. Plan holds every zen change with the
// parse error instead (a failure: the cycle reports it and exits
// non-zero), and kupdate check reports it as a syntax finding.
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

// Attr is the kernel of a variant: linux_zen.
func Attr(variant string) string { return "linux_" + variant }

// Title is nixpkgs' commit title for a bump.
func Title(attr, from, to string) string {
	return fmt.Sprintf("linuxKernel.kernels.%s: %s -> %s", attr, from, to)
}

// tagRE matches a release tag: v6.18.2-zen1, v6.1-lqx3.
var tagRE = regexp.MustCompile(`^v([1-9][0-9]*\.[0-9]+(?:\.[0-9]+)?)-([a-z]+)([1-9][0-9]*)$`)

// ParseTag splits v6.18.2-zen1 into the kernel version, the variant and
// the suffix ("zen1").
func ParseTag(tag string) (kernelorg.Version, string, string, bool) {
	m := tagRE.FindStringSubmatch(tag)
	if m == nil {
		return kernelorg.Version{}, "", "", false
	}
	v, err := kernelorg.ParseVersion(m[1])
	if err != nil {
		return kernelorg.Version{}, "", "", false
	}
	return v, m[2], m[2] + m[3], true
}

func (*Family) CheckFile(string, []byte) (bool, error) { return false, nil }

// EvalChecks: the kernel's derivation, whose source hash is part of it.
func (*Family) EvalChecks(c family.Change) []string {
	return []string{"p.linuxKernel.kernels." + c.Attr + ".drvPath"}
}

func (*Family) Entries(string, []byte, family.Change, string) ([]string, bool) { return nil, false }

// Ahead: the base's variant is older than the target. A base without the
// variant dropped it: the change withdraws nothing.
func (*Family) Ahead(base *family.Tree, k family.Key) bool {
	if !base.Has(Path) {
		return false
	}
	f, err := read(base)
	if err != nil {
		return true
	}
	for _, v := range f.Variants {
		if Attr(v.Name) != k.Attr {
			continue
		}
		ver, _, suffix, ok := ParseTag("v" + k.Target)
		if !ok {
			return true
		}
		return newer(ver, suffix, v.Version, v.Suffix)
	}
	return false
}
