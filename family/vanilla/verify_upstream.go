package vanilla

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg"
)

// Upstream is kernel.org as one run of kupdate check sees it. releases.json
// is read at most once (a failure included: every entry then says the
// same), which also keeps the source's cycle, and so its checksum lists, to
// one per check. A missing hash is told apart: not published yet for a
// version releases.json lists, not a release for one it does not.
type Upstream struct {
	src Source

	mu  sync.Mutex
	idx *releaseIndex // nil until read, or when reading failed
	err error
}

// UpstreamOf is the Upstream of the check whose head tree is head: every
// family that verifies kernel.org's kernels (linux-hardened's patches apply
// to them) shares it, so a check reads releases.json once. The first
// caller's src is the one used.
func UpstreamOf(head *family.Tree, src Source) *Upstream {
	u, _ := family.View(head, "vanilla.upstream", func(*family.Tree) (*Upstream, error) {
		return &Upstream{src: src}, nil
	})
	return u
}

// releaseIndex is releases.json arranged for lookups.
type releaseIndex struct {
	versions     map[kernelorg.Version]kernelorg.Release
	series       map[string]kernelorg.Release // newest release of each listed series (not testing)
	newestSeries string
	newest       kernelorg.Version // the newest version listed, rc or not
}

// index reads releases.json once per check; the error says why it could
// not be read, each time it is asked.
func (u *Upstream) index(ctx context.Context) (*releaseIndex, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.idx != nil || u.err != nil {
		return u.idx, u.err
	}
	if u.src == nil {
		u.err = errors.New("kernel.org releases: no kernel.org source is configured")
		return nil, u.err
	}
	rels, err := u.src.Releases(ctx)
	if err != nil {
		u.err = fmt.Errorf("kernel.org releases: %w", err)
		return nil, u.err
	}
	idx := &releaseIndex{versions: map[kernelorg.Version]kernelorg.Release{}, series: map[string]kernelorg.Release{}}
	for _, rel := range rels {
		idx.versions[rel.Version] = rel
		if idx.newest.Less(rel.Version) {
			idx.newest = rel.Version
		}
		if rel.Version.IsRC() {
			continue
		}
		s := rel.Version.Series()
		if old, ok := idx.series[s]; !ok || old.Version.Less(rel.Version) {
			idx.series[s] = rel
		}
		if idx.newestSeries == "" || kernelorg.CompareSeries(idx.newestSeries, s) < 0 {
			idx.newestSeries = s
		}
	}
	u.idx = idx
	return idx, nil
}

// Hash is kernel.org's hash of v. kernelorg.ErrNotYet (no signed checksum,
// or git.kernel.org answers 404 for an rc's snapshot) means what
// releases.json says: for a version it lists, kernel.org has not published
// the hash yet, and err says so (the check is incomplete, never failed);
// for a version it does not list, v is not a kernel.org release
// (notRelease, a finding the caller words with NotPublished). Any other
// failure, and a releases.json that could not be read, leave v unverified.
func (u *Upstream) Hash(ctx context.Context, v kernelorg.Version) (hash string, notRelease bool, err error) {
	if u.src == nil {
		return "", false, errors.New("could not get kernel.org's hash: no kernel.org source is configured")
	}
	hash, err = u.src.Hash(ctx, v)
	switch {
	case err == nil:
		return hash, false, nil
	case !errors.Is(err, kernelorg.ErrNotYet):
		return "", false, fmt.Errorf("could not get kernel.org's hash: %w", err)
	}
	idx, ierr := u.index(ctx)
	if ierr != nil {
		return "", false, fmt.Errorf("%s, and kernel.org's releases could not be read to tell whether it is a release: %w", NotPublished(v), ierr)
	}
	if _, listed := idx.versions[v]; listed {
		return "", false, fmt.Errorf("kernel.org lists the release but %s yet; re-run the check later", NotPublished(v))
	}
	return "", true, nil
}

// SeriesLTS is kernel.org's longterm flag of a series it lists; listed is
// false when it does not list it or releases.json could not be read.
func (u *Upstream) SeriesLTS(ctx context.Context, series string) (lts, listed bool) {
	idx, err := u.index(ctx)
	if err != nil {
		return false, false
	}
	rel, ok := idx.series[series]
	return rel.LTS, ok
}

// HashSource names what a version's hash is checked against, for messages.
func HashSource(v kernelorg.Version) string {
	if v.IsRC() {
		return fmt.Sprintf("the NAR hash of kernel.org's snapshot linux-%s.tar.gz", v)
	}
	return fmt.Sprintf("kernel.org's signed checksum for linux-%s.tar.xz", v)
}

// NotPublished says what kernel.org lacks for v, for messages.
func NotPublished(v kernelorg.Version) string {
	if v.IsRC() {
		return fmt.Sprintf("git.kernel.org has no snapshot linux-%s.tar.gz", v)
	}
	return fmt.Sprintf("kernel.org's signed checksum list has no linux-%s.tar.xz", v)
}
