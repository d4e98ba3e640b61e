package xanmod

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/srcarchive"
)

type candidate struct {
	rel     Release
	version kernelorg.Version
	suffix  string
}

func (c candidate) String() string { return c.version.String() + "-" + c.suffix }

func newer(a kernelorg.Version, as string, b kernelorg.Version, bs string) bool {
	if c := a.Compare(b); c != 0 {
		return c > 0
	}
	an, _ := strconv.Atoi(strings.TrimPrefix(as, "xanmod"))
	bn, _ := strconv.Atoi(strings.TrimPrefix(bs, "xanmod"))
	return an > bn
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
	var best candidate
	found := false
	for _, r := range rels {
		if r.Variant != v.Name {
			continue
		}
		ver, suffix, ok := ParseTag(r.Tag)
		if !ok {
			skip(p, v.Name, "xanmod's tag %q is not <X.Y.Z>-xanmod<N>: skipped, never written", r.Tag)
			continue
		}
		if kernelorg.CompareSeries(ver.Series(), v.Version.Series()) < 0 {
			continue
		}
		if !found || newer(ver, suffix, best.version, best.suffix) {
			best, found = candidate{rel: r, version: ver, suffix: suffix}, true
		}
	}
	switch {
	case !found:
		return candidate{}, false
	case newer(v.Version, v.Suffix, best.version, best.suffix):
		skip(p, v.Name, "the tree has %s, newer than xanmod's newest %s; never going backwards", v.Release(), best)
		return candidate{}, false
	case !newer(best.version, best.suffix, v.Version, v.Suffix):
		return candidate{}, false
	}
	return best, true
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
