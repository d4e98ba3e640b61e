package xanmod

import (
	"context"
	"fmt"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/suffixed"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/srcarchive"
)

// candidate is a release of one variant.
type candidate struct {
	rel Release
	suffixed.Release
}

// newer reports whether release (a, as) is newer than (b, bs): by kernel
// version, then by the suffix's number.
func newer(a kernelorg.Version, as string, b kernelorg.Version, bs string) bool {
	return suffixed.Release{Version: a, Suffix: as}.Newer(suffixed.Release{Version: b, Suffix: bs})
}

type payload struct {
	version kernelorg.Version
	suffix  string
	sum     []byte
}

// Plan bumps each variant to xanmod's newest release of it.
func (f *Family) Plan(ctx context.Context, t *family.Tree) (*family.Plan, error) {
	p := &family.Plan{}
	xf, err := read(t)
	if err != nil {
		err = fmt.Errorf("%w: kupdate cannot update the xanmod kernels until the file has the blocks update-xanmod.sh edits", err)
		p.Held = append(p.Held, family.Note{Family: Name, Branch: Name, Reason: err.Error(), Err: err})
		return p, nil
	}
	rels, err := f.src.Releases(ctx)
	if err != nil {
		err = fmt.Errorf("listing xanmod releases: %w", err)
		p.Held = append(p.Held, family.Note{Family: Name, Branch: Name, Reason: err.Error(), Err: err})
		return p, nil
	}
	for _, v := range xf.Variants {
		if c, ok := newest(rels, v, p); ok {
			f.bump(ctx, v, c, p)
		}
	}
	return p, nil
}

func newest(rels []Release, v Variant, p *family.Plan) (candidate, bool) {
	var cands []candidate
	var vs []suffixed.Release
	for _, r := range rels {
		if r.Variant != v.Name {
			continue
		}
		ver, suffix, ok := ParseTag(r.Tag)
		if !ok {
			skip(p, v.Name, "xanmod's tag %q is not <X.Y.Z>-xanmod<N>: skipped, never written", r.Tag)
			continue
		}
		c := candidate{rel: r, Release: suffixed.Release{Version: ver, Suffix: suffix}}
		cands, vs = append(cands, c), append(vs, c.Release)
	}
	i, verdict := suffixed.Pick(suffixed.Release{Version: v.Version, Suffix: v.Suffix}, vs)
	switch verdict {
	case suffixed.Ahead:
		skip(p, v.Name, "the tree has %s, newer than xanmod's newest %s; never going backwards", v.Release(), cands[i])
	case suffixed.Move:
		return cands[i], true
	}
	return candidate{}, false
}

func skip(p *family.Plan, variant, format string, args ...any) {
	p.Skipped = append(p.Skipped, family.Note{Family: Name, Branch: variant, Reason: fmt.Sprintf(format, args...)})
}

func (f *Family) bump(ctx context.Context, v Variant, c candidate, p *family.Plan) {
	attr := Attr(v.Name)
	sum, err := f.src.Hash(ctx, c.rel)
	if err != nil {
		err = fmt.Errorf("xanmod %s: %w", c.rel.Tag, err)
		p.Held = append(p.Held, family.Note{Family: Name, Branch: v.Name, Attr: attr, Reason: err.Error(), Err: err})
		return
	}
	p.Changes = append(p.Changes, Made(family.Change{Attr: attr, Branch: v.Name, From: v.Release(), To: c.String(), LTS: v.IsLTS, ChangeLog: c.rel.WebURL}, sum))
}

// Made is a bump as the planner makes it from Attr, Branch, From, To
// (<version>-<suffix>) and the archive's NAR sha256. Its title names
// the versions as the file's version lines hold them, with a suffix only
// when it is not xanmod1.
func Made(c family.Change, sum []byte) family.Change {
	ver, suffix, _ := ParseTag(c.To)
	c.Kind = Bump
	c.Hash = "sha256:" + srcarchive.Nix32(sum)
	c.Title = Title(c.Attr, shown(c.From), shown(c.To))
	c.Key = family.Key{Family: Name, Attr: c.Attr, Target: c.To}
	c.Own = "update"
	c.Intro = fmt.Sprintf("A new xanmod release for `%s`: %s.", c.Attr, c.To)
	c.Build = []string{c.Attr}
	c.Files = []string{Path}
	c.Payload = &payload{version: ver, suffix: suffix, sum: sum}
	return c
}

func shown(release string) string { return strings.TrimSuffix(release, "-xanmod1") }

// Apply rewrites the variant's block as update-xanmod.sh does.
func (f *Family) Apply(t *family.Tree, c family.Change) (map[string][]byte, error) {
	pl, _ := c.Payload.(*payload)
	if c.Kind != Bump || pl == nil {
		return nil, fmt.Errorf("not a xanmod bump (kind %q)", c.Kind)
	}
	xf, err := read(t)
	if err != nil {
		return nil, err
	}
	v, ok := xf.Variant(c.Branch)
	switch {
	case !ok:
		return nil, fmt.Errorf("%s has no variant %s", Path, c.Branch)
	case v.Release() != c.From:
		return nil, fmt.Errorf("%s:%d: %s is at %s, not %s: the change is stale", Path, v.VersionLine, c.Attr, v.Release(), c.From)
	}
	b, err := xf.With(v.Name, pl.version, pl.suffix, pl.sum)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{Path: b}, nil
}
