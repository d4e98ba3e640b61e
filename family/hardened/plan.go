package hardened

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
	"github.com/nix-community/go-nix/pkg/nixbase32"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

var tagRE = regexp.MustCompile(`^v?([1-9][0-9]*\.[0-9]+(?:\.[0-9]+)?)(-hardened([1-9][0-9]*))$`)

// ParseTag splits v6.12.64-hardened1 into the kernel version, the extra
// ("-hardened1") and the hardened release number.
func ParseTag(tag string) (kernelorg.Version, string, int, bool) {
	m := tagRE.FindStringSubmatch(tag)
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

type candidate struct {
	rel   Release
	ver   kernelorg.Version
	extra string
	n     int
}

func (a candidate) newer(b candidate) bool {
	if c := a.ver.Compare(b.ver); c != 0 {
		return c > 0
	}
	return a.n > b.n
}

func (a candidate) String() string { return a.ver.String() + a.extra }

// Plan plans hardened bumps for the branches of patches.json and at most
// one hardened init: the newest series in the tree that has hardened
// releases and is newer than every hardened kernel the tree has. nixpkgs
// keeps only the latest stable and the latest LTS hardened kernel, so the
// init drops the older non-LTS hardened kernels. A release list that cannot
// be read holds every hardened change (the cycle goes on).
func (f *Family) Plan(ctx context.Context, t *family.Tree) (*family.Plan, error) {
	p := &family.Plan{}
	m, err := kernelfiles.Read(t)
	if err != nil {
		return nil, err
	}
	rels, err := f.src.Releases(ctx)
	if err != nil {
		err = fmt.Errorf("listing linux-hardened releases: %w", err)
		p.Held = append(p.Held, family.Note{Family: Name, Branch: Name, Reason: err.Error(), Err: err})
		return p, nil
	}
	latest := newest(rels)
	init := initFor(m, latest, p)
	for _, c := range bumps(m, latest, init, p) {
		f.verify(ctx, m, c, latest[c.Branch], p)
	}
	if init.Kind != "" {
		f.verify(ctx, m, init, latest[init.Branch], p)
	}
	return p, nil
}

// newest is the newest release of each series.
func newest(rels []Release) map[string]candidate {
	latest := map[string]candidate{}
	for _, r := range rels {
		v, extra, n, ok := ParseTag(r.Tag)
		if !ok || v.IsRC() || r.DownloadURL == "" {
			continue
		}
		c := candidate{rel: r, ver: v, extra: extra, n: n}
		if cur, ok := latest[v.Series()]; !ok || c.newer(cur) {
			latest[v.Series()] = c
		}
	}
	return latest
}

// initFor is the hardened init the tree needs, if any (Kind "" when none).
func initFor(m *kernelfiles.Model, latest map[string]candidate, p *family.Plan) family.Change {
	variants := m.HardenedVariants()
	var init string
	for _, s := range slices.SortedFunc(maps.Keys(latest), kernelorg.CompareSeries) {
		if !m.Has(s) || slices.Contains(variants, s) {
			continue
		}
		if _, has := m.HardenedEntry(s); has {
			continue
		}
		if len(variants) > 0 && kernelorg.CompareSeries(s, variants[len(variants)-1]) <= 0 {
			continue
		}
		if w, removed := m.Removed(Attr(s)); removed {
			skip(p, s, "hardened: %s was removed from the tree (%s); never added back", Attr(s), w)
			continue
		}
		if init == "" || kernelorg.CompareSeries(s, init) > 0 {
			init = s
		}
	}
	if init == "" {
		return family.Change{}
	}
	e, _ := m.Entry(init)
	ch := family.Change{Kind: Init, Attr: Attr(init), Branch: init, To: latest[init].String(), LTS: e.LTS}
	var drops []string
	for _, v := range variants {
		if ve, ok := m.Entry(v); ok && ve.LTS {
			continue
		}
		drops = append(drops, v)
	}
	ch.Payload = &payload{drops: drops}
	return finish(ch)
}

// bumps are the hardened bumps of patches.json's branches.
func bumps(m *kernelfiles.Model, latest map[string]candidate, init family.Change, p *family.Plan) []family.Change {
	var drops []string
	if pl, ok := init.Payload.(*payload); ok {
		drops = pl.drops
	}
	var out []family.Change
	for _, h := range m.Hardened() {
		c, ok := latest[h.Branch]
		if !ok {
			continue
		}
		if slices.Contains(drops, h.Branch) {
			skip(p, h.Branch, "hardened: %s is dropped by %s", Attr(h.Branch), init.Title)
			continue
		}
		cur := candidate{ver: h.Version, extra: h.Extra}
		cur.n, _ = strconv.Atoi(strings.TrimPrefix(h.Extra, "-hardened"))
		switch {
		case c.newer(cur):
			out = append(out, finish(family.Change{Kind: Bump, Attr: Attr(h.Branch), Branch: h.Branch, From: cur.String(), To: c.String()}))
		case cur.newer(c):
			skip(p, h.Branch, "hardened: tree has %s, newer than linux-hardened's %s; never going backwards", cur, c)
		}
	}
	return out
}

func skip(p *family.Plan, branch, format string, args ...any) {
	p.Skipped = append(p.Skipped, family.Note{Family: Name, Branch: branch, Reason: fmt.Sprintf(format, args...)})
}

// payload is a change's Payload: its patch, and for an init the branches
// whose hardened kernels it drops.
type payload struct {
	patch *Patch
	drops []string
}

// verify fetches and verifies the patch of c, hashes its kernel, and adds
// the change to the plan.
func (f *Family) verify(ctx context.Context, m *kernelfiles.Model, ch family.Change, c candidate, p *family.Plan) {
	patch, err := f.fetchPatch(ctx, c.rel, m.HardenedKey())
	if err != nil {
		p.Held = append(p.Held, family.Note{Family: Name, Branch: ch.Branch, Attr: ch.Attr, Variant: Name,
			Reason: "linux-hardened " + c.rel.Tag + ": " + err.Error(), Err: err})
		return
	}
	h, err := f.kernels.Hash(ctx, c.ver)
	if err != nil {
		n := vanilla.Held(ch.Branch, ch.Attr, c.ver, err)
		n.Family, n.Variant = Name, Name
		p.Held = append(p.Held, n)
		return
	}
	ch.Hash = h
	pt := &Patch{Version: c.ver, Extra: c.extra, Name: c.rel.PatchName, URL: c.rel.URL,
		SHA256: patch, KernelSHA256: strings.TrimPrefix(h, "sha256:")}
	if ip, ok := ch.Payload.(*payload); ok {
		ip.patch = pt
	} else {
		ch.Payload = &payload{patch: pt}
	}
	e, _ := m.Entry(ch.Branch)
	ch.LTS = e.LTS
	switch {
	case ch.Kind == Init || m.HasHardenedVariant(ch.Branch):
		ch.Build = []string{ch.Attr}
	case m.Default() == kernelfiles.Attr(ch.Branch):
		ch.Build = []string{"linux_hardened"} // the patches serve linux_default's hardened kernel
	}
	p.Changes = append(p.Changes, ch)
}

// fetchPatch downloads a release's patch, checks it against the digest
// GitHub reports and, when the release has a signature and the tree has
// hardened/anthraxx.asc, against the signature; it returns the nix32
// sha256 of the patch bytes.
func (f *Family) fetchPatch(ctx context.Context, r Release, key []byte) (string, error) {
	return VerifyPatch(ctx, f.src, r, key)
}

// VerifyPatch downloads the patch of release r from src and checks it as
// the planner does (GitHub's digest; the detached signature against key,
// the tree's hardened/anthraxx.asc, when both exist); it returns the nix32
// sha256 that patches.json must record. kupdate check verifies a person's
// change with it.
func VerifyPatch(ctx context.Context, src Source, r Release, key []byte) (string, error) {
	data, err := src.Download(ctx, r.DownloadURL)
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
		sig, err := src.Download(ctx, r.SigURL)
		if err != nil {
			return "", err
		}
		if err := checkDetached(key, data, sig); err != nil {
			return "", fmt.Errorf("%s: signature %s does not verify with %s: %w", r.PatchName, r.SigURL, kernelfiles.HardenedKeyPath, err)
		}
	}
	return nixbase32.EncodeToString(sum[:]), nil
}

// checkDetached verifies a detached signature, binary or armored.
func checkDetached(armoredKey, data, sig []byte) error {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armoredKey))
	if err != nil {
		return fmt.Errorf("reading %s: %w", kernelfiles.HardenedKeyPath, err)
	}
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN")) {
		_, err = openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(data), bytes.NewReader(sig), nil)
	} else {
		_, err = openpgp.CheckDetachedSignature(ring, bytes.NewReader(data), bytes.NewReader(sig), nil)
	}
	return err
}
