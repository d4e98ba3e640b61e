// Package hardened is the family of nixpkgs' linux-hardened kernels:
// hardened/patches.json (one entry per branch: the kernel version and hash,
// and anthraxx/linux-hardened's patch), and linux_X_Y_hardened in
// linux-kernels.nix and aliases.nix. nixpkgs' master dropped them in 2026;
// older release branches and forks keep them, and so does kupdate.
//
// A newer vX.Y.Z-hardenedN of a branch in patches.json is a hardened bump
// (`linux/hardened/patches/6.12: v6.12.63-hardened1 ->
// v6.12.64-hardened1`); the newest series in the tree with hardened releases
// that is newer than every hardened kernel of the tree is a hardened init
// (`linux_7_0_hardened: init at 7.0.1-hardened1`), which drops the tree's
// non-LTS hardened kernels (nixpkgs keeps the latest stable and the latest
// LTS). The patch's sha256 is computed from the downloaded bytes, checked
// against GitHub's asset digest, and its .sig against hardened/anthraxx.asc
// when the tree has that key; the kernel's hash is kernel.org's.
//
// Its changes come after kernel.org's in the plan (the registry's order, so
// a hardened init may build on a new kernel.org branch of the same plan):
// the hardened bumps, then at most one hardened init. A kernel.org branch
// that is removed takes its hardened variant with it (package vanilla). A
// release list that cannot be read holds every hardened change; the cycle
// goes on.
package hardened

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// Name is the family's name in commit trailers and state.
const Name = "hardened"

// The kinds of change the family makes.
const (
	Bump family.Kind = "hardened-bump" // linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.64-hardened1
	Init family.Kind = "hardened-init" // linux_6_19_hardened: init at 6.19.1-hardened1
)

// Source is where linux-hardened releases come from (GitHub's
// anthraxx/linux-hardened; see GitHub).
type Source interface {
	// Releases lists the published releases.
	Releases(ctx context.Context) ([]Release, error)
	// Download fetches the bytes of a release asset.
	Download(ctx context.Context, url string) ([]byte, error)
}

// KernelOrg is kernel.org for the kernels the patches apply to;
// *kernelorg.Client is one. The plan takes the verified hash of a release
// from it; kupdate check also reads releases.json, to tell a release not
// signed yet from no release at all, and which series are longterm.
type KernelOrg = vanilla.Source

// Release is one release of linux-hardened and its patch asset.
type Release struct {
	Tag         string // v6.12.64-hardened1 (old tags have no "v")
	PatchName   string // linux-hardened-v6.12.64-hardened1.patch
	URL         string // the patch's canonical URL, written into patches.json
	DownloadURL string // where the patch bytes are fetched from
	Digest      string // "sha256:<hex>" as GitHub reports the asset, "" if it does not
	SigURL      string // the detached signature (<patch>.sig), "" if the release has none
}

// Patch is one release of anthraxx/linux-hardened as patches.json records
// it: the Payload of the family's changes.
type Patch struct {
	Version      kernelorg.Version // the kernel version it applies to: 6.12.64
	Extra        string            // "-hardened1"
	Name         string            // linux-hardened-v6.12.64-hardened1.patch
	URL          string            // the release asset's download URL
	SHA256       string            // nix32 of the patch file (verified by kupdate)
	KernelSHA256 string            // nix32 of linux-<Version>.tar.xz (signed by kernel.org)
}

// PatchOf is the patch a change of the family writes, nil for another
// change.
func PatchOf(c family.Change) *Patch {
	if pl, ok := c.Payload.(*payload); ok {
		return pl.patch
	}
	return nil
}

// Family is the hardened kernels of a tree.
type Family struct {
	src     Source
	kernels KernelOrg
}

// New is the family with its sources.
func New(src Source, kernels KernelOrg) *Family { return &Family{src: src, kernels: kernels} }

var _ family.Family = (*Family)(nil)

func (*Family) Name() string { return Name }

func (*Family) Paths() []string {
	return []string{kernelfiles.PatchesJSONPath, kernelfiles.HardenedKeyPath}
}

// Present: a tree carries hardened kernels when it has patches.json.
func (*Family) Present(t *family.Tree) bool { return t.Has(kernelfiles.PatchesJSONPath) }

func (*Family) Load(t *family.Tree) error { _, err := kernelfiles.Read(t); return err }

func (*Family) Attrs(t *family.Tree) []family.Attr {
	m, err := kernelfiles.Read(t)
	if err != nil {
		return nil
	}
	var out []family.Attr
	for _, h := range m.Hardened() {
		out = append(out, family.Attr{Name: Attr(h.Branch), Branch: h.Branch, Version: h.Version.String() + h.Extra})
	}
	return out
}

// Offers: what linux-hardened offers is known once its releases are read
// and verified, which is the plan's business; a hardened kernel's row shows
// it through its change.
func (*Family) Offers(context.Context) ([]family.Offer, error) { return nil, nil }

func (*Family) CheckFile(path string, data []byte) (bool, error) {
	if path != kernelfiles.PatchesJSONPath {
		return false, nil
	}
	return true, kernelfiles.CheckPatchesJSON(data)
}

// EvalChecks are the .drvPath of each kernel c builds, and for an init its
// package set.
func (*Family) EvalChecks(c family.Change) []string {
	var out []string
	for _, a := range c.Build {
		out = append(out, "p.linuxKernel.kernels."+a+".drvPath")
	}
	if c.Kind == Init {
		out = append(out, "p.linuxKernel.packages."+c.Attr+".kernel.drvPath")
	}
	return out
}

// Entries: a hardened kernel reads its branch's patches.json entry; no
// other kernel reads patches.json.
func (*Family) Entries(path string, _ []byte, c family.Change, attr string) ([]string, bool) {
	if path != kernelfiles.PatchesJSONPath {
		return nil, false
	}
	if IsAttr(attr) {
		return []string{c.Branch}, true
	}
	return nil, true
}

// Ahead: the base's patches for the branch are older than the target. A
// branch without patches in the base counts as ahead.
func (*Family) Ahead(base *family.Tree, k family.Key) bool {
	m, err := kernelfiles.Read(base)
	if err != nil {
		return true
	}
	branch := strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(k.Attr, "linux_"), "_hardened"), "_", ".")
	h, has := m.HardenedEntry(branch)
	if !has {
		return true
	}
	return less(h.Version.String()+h.Extra, k.Target)
}

// Attr is the hardened kernel of a branch: linux_6_12_hardened.
func Attr(branch string) string { return kernelfiles.Attr(branch) + "_hardened" }

// IsAttr reports whether attr is a hardened kernel (linux_6_12_hardened, or
// linux_hardened, the hardened linux_default).
func IsAttr(attr string) bool {
	return attr == "linux_hardened" || strings.HasSuffix(attr, "_hardened")
}

// Title is nixpkgs' commit title for a change of the family.
func Title(c family.Change) string {
	switch c.Kind {
	case Bump:
		return fmt.Sprintf("linux/hardened/patches/%s: v%s -> v%s", c.Branch, c.From, c.To)
	case Init:
		return fmt.Sprintf("%s: init at %s", c.Attr, c.To)
	}
	return ""
}

// Made is c as the planner makes it, for those who build changes by hand:
// its attribute when it has none, and its title, key and branch from Kind,
// Branch, From and To; p is its patch (nil: none).
func Made(c family.Change, p *Patch, drops ...string) family.Change {
	if c.Attr == "" {
		c.Attr = Attr(c.Branch)
	}
	if p != nil || drops != nil {
		c.Payload = &payload{patch: p, drops: drops}
	}
	return finish(c)
}

// finish gives c its title, key and branch.
func finish(c family.Change) family.Change {
	c.Title = Title(c)
	c.Key = family.Key{Family: Name, Attr: c.Attr, Target: c.To}
	if c.Kind == Init {
		c.Own = "init"
		c.Intro = fmt.Sprintf("Hardened patches for a new kernel branch: `%s` at %s.", c.Attr, c.To)
	}
	return c
}

// less reports whether hardened version a ("6.12.70-hardened1") is older
// than b.
func less(a, b string) bool {
	av, an := split(a)
	bv, bn := split(b)
	x, errA := kernelorg.ParseVersion(av)
	y, errB := kernelorg.ParseVersion(bv)
	if errA != nil || errB != nil {
		return a != b
	}
	if c := x.Compare(y); c != 0 {
		return c < 0
	}
	return an < bn
}

func split(s string) (string, int) {
	v, n, _ := strings.Cut(s, "-hardened")
	i, _ := strconv.Atoi(n)
	return v, i
}
