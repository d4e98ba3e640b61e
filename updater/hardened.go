package updater

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/nix-community/go-nix/pkg/nixbase32"
)

// HardenedSource is where linux-hardened releases come from (GitHub's
// anthraxx/linux-hardened; see GitHubHardened).
type HardenedSource interface {
	// Releases lists the published releases.
	Releases(ctx context.Context) ([]HardenedRelease, error)
	// Download fetches the bytes of a release asset.
	Download(ctx context.Context, url string) ([]byte, error)
}

// HardenedRelease is one release of linux-hardened and its patch asset.
type HardenedRelease struct {
	Tag         string // v6.12.64-hardened1 (old tags have no "v")
	PatchName   string // linux-hardened-v6.12.64-hardened1.patch
	URL         string // the patch's canonical URL, written into patches.json
	DownloadURL string // where the patch bytes are fetched from
	Digest      string // "sha256:<hex>" as GitHub reports the asset, "" if it does not
	SigURL      string // the detached signature (<patch>.sig), "" if the release has none
}

var hardenedTagRE = regexp.MustCompile(`^v?([1-9][0-9]*\.[0-9]+(?:\.[0-9]+)?)(-hardened([1-9][0-9]*))$`)

// parseHardenedTag splits v6.12.64-hardened1 into the kernel version, the
// extra ("-hardened1") and the hardened release number.
func parseHardenedTag(tag string) (kernelorg.Version, string, int, bool) {
	m := hardenedTagRE.FindStringSubmatch(tag)
	if m == nil {
		return kernelorg.Version{}, "", 0, false
	}
	v, err := kernelorg.ParseVersion(m[1])
	if err != nil {
		return kernelorg.Version{}, "", 0, false
	}
	n, _ := strconv.Atoi(m[3])
	return v, m[2], n, true
}

type hardenedCand struct {
	rel   HardenedRelease
	ver   kernelorg.Version
	extra string
	n     int
}

func (a hardenedCand) newer(b hardenedCand) bool {
	if c := a.ver.Compare(b.ver); c != 0 {
		return c > 0
	}
	return a.n > b.n
}

func (a hardenedCand) String() string { return a.ver.String() + a.extra }

// planHardened plans hardened-bumps for the branches of patches.json and at
// most one hardened-init: the newest series in the tree that has hardened
// releases and is newer than every hardened kernel the tree has. nixpkgs
// keeps only the latest stable and the latest LTS hardened kernel, so the
// init drops the older non-LTS hardened kernels.
func (p *Planner) planHardened(ctx context.Context, work *Tree, plan *Plan) error {
	rels, err := p.Hardened.Releases(ctx)
	if err != nil {
		return fmt.Errorf("listing linux-hardened releases: %w", err)
	}
	latest := map[string]hardenedCand{}
	for _, r := range rels {
		v, extra, n, ok := parseHardenedTag(r.Tag)
		if !ok || v.IsRC() || r.DownloadURL == "" {
			continue
		}
		c := hardenedCand{rel: r, ver: v, extra: extra, n: n}
		if cur, ok := latest[v.Series()]; !ok || c.newer(cur) {
			latest[v.Series()] = c
		}
	}
	variants := work.HardenedVariants()
	var init string
	for _, s := range slices.SortedFunc(maps.Keys(latest), kernelorg.CompareSeries) {
		if !work.Has(s) || slices.Contains(variants, s) {
			continue
		}
		if _, has := work.HardenedEntry(s); has {
			continue
		}
		if len(variants) > 0 && kernelorg.CompareSeries(s, variants[len(variants)-1]) <= 0 {
			continue
		}
		if w, removed := work.Removed(Attr(s) + "_hardened"); removed {
			plan.skip(s, "hardened: %s_hardened was removed from the tree (%s); never added back", Attr(s), w)
			continue
		}
		if init == "" || kernelorg.CompareSeries(s, init) > 0 {
			init = s
		}
	}
	var ch Change
	if init != "" {
		c, attr := latest[init], Attr(init)+"_hardened"
		e, _ := work.Entry(init)
		ch = titled(Change{Kind: HardenedInit, Attr: attr, Branch: init, To: c.String(), LTS: e.LTS})
		for _, v := range variants {
			if ve, ok := work.Entry(v); ok && ve.LTS {
				continue
			}
			ch.Drops = append(ch.Drops, v)
		}
	}
	var bumps []Change
	for _, h := range work.Hardened() {
		c, ok := latest[h.Branch]
		if !ok {
			continue
		}
		if slices.Contains(ch.Drops, h.Branch) {
			plan.skip(h.Branch, "hardened: %s_hardened is dropped by %s", Attr(h.Branch), ch.Title)
			continue
		}
		cur := hardenedCand{ver: h.Version, extra: h.Extra}
		cur.n, _ = strconv.Atoi(strings.TrimPrefix(h.Extra, "-hardened"))
		switch {
		case c.newer(cur):
			bumps = append(bumps, titled(Change{Kind: HardenedBump, Attr: Attr(h.Branch) + "_hardened", Branch: h.Branch,
				From: cur.String(), To: c.String()}))
		case cur.newer(c):
			plan.skip(h.Branch, "hardened: tree has %s, newer than linux-hardened's %s; never going backwards", cur, c)
		}
	}
	for i := range bumps {
		p.addHardened(ctx, work, &bumps[i], latest[bumps[i].Branch], plan)
	}

	if ch.Kind != "" {
		p.addHardened(ctx, work, &ch, latest[ch.Branch], plan)
	}
	return nil
}

// addHardened fetches and verifies the patch of c, hashes its kernel, and
// adds the change to the plan if it applies.
func (p *Planner) addHardened(ctx context.Context, work *Tree, ch *Change, c hardenedCand, plan *Plan) {
	patch, err := p.fetchPatch(ctx, c.rel, work.HardenedKey())
	if err != nil {
		plan.Held = append(plan.Held, Note{Branch: ch.Branch, Attr: ch.Attr, Reason: "linux-hardened " + c.rel.Tag + ": " + err.Error(), Err: err})
		return
	}
	h, err := p.Hasher.Hash(ctx, c.ver)
	if err != nil {
		plan.hold(ch.Branch, ch.Attr, c.ver, err)
		return
	}
	kernel := strings.TrimPrefix(h, "sha256:")
	ch.Hash = h
	ch.Patch = &HardenedPatch{Version: c.ver, Extra: c.extra, Name: c.rel.PatchName, URL: c.rel.URL,
		SHA256: patch, KernelSHA256: kernel}
	e, _ := work.Entry(ch.Branch)
	ch.LTS = e.LTS
	switch {
	case ch.Kind == HardenedInit || slices.Contains(work.HardenedVariants(), ch.Branch):
		ch.Build = []string{ch.Attr}
	case work.Default() == Attr(ch.Branch):
		ch.Build = []string{"linux_hardened"} // the patches serve linux_default's hardened kernel
	}
	p.apply(work, *ch, plan)
}

// fetchPatch downloads a release's patch, checks it against the digest
// GitHub reports and, when the release has a signature and the tree has
// hardened/anthraxx.asc, against the signature; it returns the nix32
// sha256 of the patch bytes.
func (p *Planner) fetchPatch(ctx context.Context, r HardenedRelease, key []byte) (string, error) {
	data, err := p.Hardened.Download(ctx, r.DownloadURL)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	if r.Digest != "" {
		want, ok := strings.CutPrefix(r.Digest, "sha256:")
		if !ok || want != hex.EncodeToString(sum[:]) {
			return "", fmt.Errorf("%s: sha256 %x does not match the digest GitHub lists (%s): refusing it", r.DownloadURL, sum, r.Digest)
		}
	}
	if r.SigURL != "" && len(key) > 0 {
		sig, err := p.Hardened.Download(ctx, r.SigURL)
		if err != nil {
			return "", err
		}
		if err := checkDetached(key, data, sig); err != nil {
			return "", fmt.Errorf("%s: signature %s does not verify with %s: %w", r.PatchName, r.SigURL, HardenedKeyPath, err)
		}
	}
	return nixbase32.EncodeToString(sum[:]), nil
}

// checkDetached verifies a detached signature, binary or armored.
func checkDetached(armoredKey, data, sig []byte) error {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armoredKey))
	if err != nil {
		return fmt.Errorf("reading %s: %w", HardenedKeyPath, err)
	}
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN")) {
		_, err = openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(data), bytes.NewReader(sig), nil)
	} else {
		_, err = openpgp.CheckDetachedSignature(ring, bytes.NewReader(data), bytes.NewReader(sig), nil)
	}
	return err
}
