package zen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/srcarchive"
)

// What kupdate check verifies of a pull request that changes
// zen-kernels.nix: each variant it moves names a published zen-kernel
// release of that variant, not older than the base's, and its hash is the
// NAR hash of that release's tarball; and each commit is titled as nixpkgs
// titles a zen bump.

var _ family.Verifier = (*Family)(nil)

// Sources: zen-kernel's releases on GitHub.
func (*Family) Sources() []string { return []string{"zen-kernel"} }

// EntryFiles: titles name zen-kernels.nix's variants.
func (*Family) EntryFiles() []string { return []string{Path} }

var claimRE = regexp.MustCompile(`^linuxKernel\.kernels\.linux_[a-z]+: \S+ -> \S+$`)

// ClaimsChange: `linuxKernel.kernels.linux_zen: 6.19.12-zen1 -> 7.0.3-zen1`.
func (*Family) ClaimsChange(title string) bool { return claimRE.MatchString(title) }

// Verify checks the variants the pull request changes.
func (f *Family) Verify(ctx context.Context, pr family.PR, out *family.Results) (family.Titler, error) {
	headB := pr.Head.File(Path)
	if headB == nil || bytes.Equal(headB, pr.Base.File(Path)) {
		return titler{}, nil
	}
	head, err := Parse(headB)
	if err != nil {
		var pe *kernelfiles.FileError
		errors.As(err, &pe)
		out.Findingf(Path, pe.Line, family.RuleSyntax, "%v", pe.Err)
		return titler{}, nil
	}
	var base *File
	if b := pr.Base.File(Path); b != nil {
		if base, err = Parse(b); err != nil {
			pr.Log.Warn("the base's zen-kernels.nix does not parse; every variant counts as added", "error", err)
		}
	}
	var (
		rels    []Release
		listed  bool
		listErr error
	)
	for _, v := range head.Variants {
		old, had := Variant{}, false
		if base != nil {
			old, had = base.Variant(v.Name)
		}
		if had && old.Release() == v.Release() && old.Hash == v.Hash {
			continue
		}
		if !listed {
			rels, listErr = f.src.Releases(ctx)
			listed = true
			if listErr != nil {
				out.Unverifiedf(Path, v.VersionLine, "zen-kernel's releases could not be listed: %v", listErr)
			}
		}
		if listErr != nil {
			continue
		}
		f.verifyVariant(ctx, rels, old, had, v, out)
	}
	return titler{}, nil
}

// verifyVariant checks one changed variant against zen-kernel.
func (f *Family) verifyVariant(ctx context.Context, rels []Release, old Variant, had bool, v Variant, out *family.Results) {
	if had && newer(old.Version, old.Suffix, v.Version, v.Suffix) {
		out.Findingf(Path, v.VersionLine, family.RuleDowngrade, "%s goes back from %s to %s", Attr(v.Name), old.Release(), v.Release())
		return
	}
	i := slices.IndexFunc(rels, func(r Release) bool { return r.Tag == v.Tag() })
	if i < 0 {
		out.Findingf(Path, v.VersionLine, family.RuleVersion, "%s: zen-kernel has no published release %s (among its newest 100)", Attr(v.Name), v.Tag())
		return
	}
	sum, err := f.src.Hash(ctx, rels[i])
	if err != nil {
		out.Unverifiedf(Path, v.HashLine, "%s: the tarball of %s could not be hashed: %v", Attr(v.Name), v.Tag(), err)
		return
	}
	got, _ := srcarchive.Parse(v.Hash) // Parse checked it
	if !bytes.Equal(got, sum) {
		out.Findingf(Path, v.HashLine, family.RuleHash, "%s: %s is not the hash of %s's tarball: want %s", Attr(v.Name), v.Hash, v.Tag(), srcarchive.SRI(sum))
		return
	}
	ver := family.Verified{File: Path, Line: v.VersionLine, Branch: v.Name, To: v.Release(), Hash: v.Hash}
	if had {
		ver.From = old.Release()
	}
	out.Verify(ver)
}

// titler gives each commit the titles of the variants it moves.
type titler struct{}

// Titles: `linuxKernel.kernels.linux_zen: A -> B` per variant whose release
// the commit changes; a hash fixed in place is titled freely after
// `linuxKernel.kernels.linux_zen: `.
func (titler) Titles(c family.Commit) family.CommitTitles {
	if !slices.Contains(c.Files, Path) || c.Tree.File(Path) == nil {
		return family.CommitTitles{}
	}
	after, err := Parse(c.Tree.File(Path))
	if err != nil {
		return family.CommitTitles{}
	}
	var before *File
	if b := c.Parent.File(Path); b != nil {
		before, _ = Parse(b)
	}
	var ct family.CommitTitles
	for _, v := range after.Variants {
		old, had := Variant{}, false
		if before != nil {
			old, had = before.Variant(v.Name)
		}
		var t family.Title
		switch {
		case !had:
			continue // a new variant is a person's work, titled freely
		case old.Release() != v.Release():
			t = family.Title{Text: Title(Attr(v.Name), old.Release(), v.Release()),
				What: fmt.Sprintf("changes %s from %s to %s", Attr(v.Name), old.Release(), v.Release())}
		case old.Hash != v.Hash:
			t = family.Title{Text: "linuxKernel.kernels." + Attr(v.Name) + ": ", Prefix: true,
				What: fmt.Sprintf("changes the hash of %s", Attr(v.Name))}
		default:
			continue
		}
		if ct.File == "" {
			ct.File, ct.Line = Path, v.VersionLine
		}
		ct.Want = append(ct.Want, t)
	}
	return ct
}
