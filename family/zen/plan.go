package zen

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

// payload is a bump's data for Apply.
type payload struct {
	version kernelorg.Version
	suffix  string
	sum     []byte
}

// Offers: what zen-kernel offers is known once its release list is read
// and the tarball hashed, which is the plan's business (the status rows
// show it through the change). Offers is asked of every registered family,
// whether or not the tree carries it: a tree without zen-kernels.nix must
// cost no request to GitHub.
func (*Family) Offers(context.Context) ([]family.Offer, error) { return nil, nil }

// Plan bumps each variant of zen-kernels.nix to zen-kernel's newest
// release of it. A release list that cannot be read holds every zen
// change; the cycle goes on.
func (f *Family) Plan(ctx context.Context, t *family.Tree) (*family.Plan, error) {
	p := &family.Plan{}
	zf, err := read(t)
	if err != nil {
		err = fmt.Errorf("%w: kupdate cannot update the zen kernels until the file has the lines update-zen.py writes", err)
		p.Held = append(p.Held, family.Note{Family: Name, Branch: Name, Reason: err.Error(), Err: err})
		return p, nil
	}
	rels, err := f.src.Releases(ctx)
	if err != nil {
		err = fmt.Errorf("listing zen-kernel releases: %w", err)
		p.Held = append(p.Held, family.Note{Family: Name, Branch: Name, Reason: err.Error(), Err: err})
		return p, nil
	}
	for _, v := range zf.Variants {
		c, ok := newest(rels, v, p)
		if !ok {
			continue
		}
		f.bump(ctx, v, c, p)
	}
	return p, nil
}

// newest is the release v should move to, if any; it notes the tags it
// skips and why.
func newest(rels []Release, v Variant, p *family.Plan) (candidate, bool) {
	var cands []candidate
	var vs []suffixed.Release
	for _, r := range rels {
		ver, variant, suffix, ok := ParseTag(r.Tag)
		if !ok {
			if strings.Contains(r.Tag, "-"+v.Name) {
				skip(p, v.Name, "zen-kernel's tag %q is not v<X.Y[.Z]>-%s<N>: skipped, never written", r.Tag, v.Name)
			}
			continue
		}
		if variant != v.Name {
			continue
		}
		c := candidate{rel: r, Release: suffixed.Release{Version: ver, Suffix: suffix}}
		cands, vs = append(cands, c), append(vs, c.Release)
	}
	i, verdict := suffixed.Pick(suffixed.Release{Version: v.Version, Suffix: v.Suffix}, vs)
	switch verdict {
	case suffixed.Ahead:
		skip(p, v.Name, "the tree has %s, newer than zen-kernel's newest %s; never going backwards", v.Release(), cands[i])
	case suffixed.Move:
		return cands[i], true
	}
	return candidate{}, false
}

func skip(p *family.Plan, variant, format string, args ...any) {
	p.Skipped = append(p.Skipped, family.Note{Family: Name, Branch: variant, Reason: fmt.Sprintf(format, args...)})
}

// bump hashes c's tarball and adds the bump of v to the plan, or holds it.
func (f *Family) bump(ctx context.Context, v Variant, c candidate, p *family.Plan) {
	attr := Attr(v.Name)
	sum, err := f.src.Hash(ctx, c.rel)
	if err != nil {
		err = fmt.Errorf("zen-kernel %s: %w", c.rel.Tag, err)
		p.Held = append(p.Held, family.Note{Family: Name, Branch: v.Name, Attr: attr, Reason: err.Error(), Err: err})
		return
	}
	ch := Made(family.Change{Kind: Bump, Attr: attr, Branch: v.Name, From: v.Release(), To: c.String(),
		ChangeLog: c.rel.HTMLURL}, sum)
	p.Changes = append(p.Changes, ch)
}

// Made is a bump as the planner makes it, from its Attr, Branch, From, To
// and the tarball's NAR sha256: its hash, title, key, branch and payload.
func Made(c family.Change, sum []byte) family.Change {
	ver, _, suffix, _ := ParseTag("v" + c.To)
	c.Kind = Bump
	c.Hash = "sha256:" + srcarchive.Nix32(sum)
	c.Title = Title(c.Attr, c.From, c.To)
	c.Key = family.Key{Family: Name, Attr: c.Attr, Target: c.To}
	c.Own = "update"
	c.Intro = fmt.Sprintf("A new zen-kernel release for `%s`: %s.", c.Attr, c.To)
	c.Build = []string{c.Attr}
	c.Files = []string{Path}
	c.Payload = &payload{version: ver, suffix: suffix, sum: sum}
	return c
}

// Apply rewrites the variant's version, suffix and hash lines.
func (f *Family) Apply(t *family.Tree, c family.Change) (map[string][]byte, error) {
	if c.Kind != Bump {
		return nil, fmt.Errorf("unknown change kind %q", c.Kind)
	}
	pl, _ := c.Payload.(*payload)
	if pl == nil {
		return nil, fmt.Errorf("no zen release in the change")
	}
	zf, err := read(t)
	if err != nil {
		return nil, err
	}
	v, ok := zf.Variant(c.Branch)
	switch {
	case !ok:
		return nil, fmt.Errorf("%s has no variant %s", Path, c.Branch)
	case v.Release() != c.From:
		return nil, fmt.Errorf("%s:%d: %s is at %s, not %s: the change is stale", Path, v.VersionLine, c.Attr, v.Release(), c.From)
	case !strings.HasPrefix(pl.suffix, v.Name):
		return nil, fmt.Errorf("release %s-%s is not of variant %s", pl.version, pl.suffix, v.Name)
	}
	b, err := zf.With(v.Name, pl.version, pl.suffix, pl.sum)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{Path: b}, nil
}
