package xanmod

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/srcarchive"
)

// What kupdate check verifies of a pull request that changes
// xanmod-kernels.nix: each variant it moves names a published xanmod
// release of that variant, not older than the base's, and its hash is the
// NAR hash of that release's archive. Commit titles are free (nixpkgs'
// maintainers title xanmod PRs by date); only ClaimsChange's form is held
// to a commit that changes the file.

var _ family.Verifier = (*Family)(nil)

func (*Family) Sources() []string    { return []string{"xanmod"} }
func (*Family) EntryFiles() []string { return []string{Path} }

var claimRE = regexp.MustCompile(`^linuxKernel\.kernels\.linux_xanmod[a-z_]*: \S+ -> \S+$`)

// ClaimsChange: `linuxKernel.kernels.linux_xanmod: 6.12.60 -> 6.12.61`.
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
		base, _ = Parse(b)
	}
	var rels []Release
	var listErr error
	listed := false
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
				out.Unverifiedf(Path, v.VersionLine, "xanmod's releases could not be listed: %v", listErr)
			}
		}
		if listErr == nil {
			f.verifyVariant(ctx, rels, old, had, v, out)
		}
	}
	return titler{}, nil
}

func (f *Family) verifyVariant(ctx context.Context, rels []Release, old Variant, had bool, v Variant, out *family.Results) {
	attr := Attr(v.Name)
	if had && newer(old.Version, old.Suffix, v.Version, v.Suffix) {
		out.Findingf(Path, v.VersionLine, family.RuleDowngrade, "%s goes back from %s to %s", attr, old.Release(), v.Release())
		return
	}
	i := slices.IndexFunc(rels, func(r Release) bool { return r.Tag == v.Release() && r.Variant == v.Name })
	if i < 0 {
		out.Findingf(Path, v.VersionLine, family.RuleVersion, "%s: xanmod has no published %s release %s (among its newest)", attr, v.Name, v.Release())
		return
	}
	sum, err := f.src.Hash(ctx, rels[i])
	if err != nil {
		out.Unverifiedf(Path, v.HashLine, "%s: the archive of %s could not be hashed: %v", attr, v.Release(), err)
		return
	}
	if got, _ := srcarchive.Parse(v.Hash); !bytes.Equal(got, sum) {
		out.Findingf(Path, v.HashLine, family.RuleHash, "%s: %s is not the hash of %s's archive: want %s", attr, v.Hash, v.Release(), srcarchive.SRI(sum))
		return
	}
	ver := family.Verified{File: Path, Line: v.VersionLine, Branch: v.Name, To: v.Release(), Hash: v.Hash}
	if had {
		ver.From = old.Release()
	}
	out.Verify(ver)
}

// titler: xanmod's commits are titled freely (nixpkgs titles its PRs
// by date), so it asks for no title.
type titler struct{}

func (titler) Titles(family.Commit) family.CommitTitles { return family.CommitTitles{} }
