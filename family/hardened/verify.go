package hardened

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// What kupdate check verifies of a pull request that changes
// hardened/patches.json: every changed entry names a real linux-hardened
// release whose patch has the recorded hash (downloaded and checked as the
// planner does), for a kernel whose tarball has kernel.org's signed hash;
// only the latest stable and latest LTS hardened kernels are kept; a kernel
// the base removed does not come back; added and dropped variants come with
// their linux-kernels.nix and aliases.nix parts. And the titles of its
// commits (verify_titles.go).

var _ family.Verifier = (*Family)(nil)

const (
	patchesJSON  = kernelfiles.PatchesJSONPath
	kernelsJSON  = kernelfiles.KernelsJSONPath
	linuxKernels = kernelfiles.LinuxKernelsPath
	aliasesNix   = kernelfiles.AliasesPath
)

// Sources: the kernel's hash is kernel.org's, the patch linux-hardened's.
func (*Family) Sources() []string { return []string{"kernel.org", "linux-hardened"} }

// EntryFiles: titles name patches.json's entries.
func (*Family) EntryFiles() []string { return []string{patchesJSON} }

// claimRE matches the titles of a change of a patches.json entry: a
// hardened bump, init or removal.
var claimRE = regexp.MustCompile(`^(?:linux_(?:[0-9]+_[0-9]+|testing)_hardened: (?:\S+ -> \S+|init at \S+|remove)|linux/hardened/patches/\S+: \S+ -> \S+)$`)

// ClaimsChange: `linux/hardened/patches/6.12: v… -> v…`,
// `linux_6_19_hardened: init at 6.19.1-hardened1`.
func (*Family) ClaimsChange(title string) bool { return claimRE.MatchString(title) }

// Verify checks the changed entries of patches.json.
func (f *Family) Verify(ctx context.Context, pr family.PR, out *family.Results) (family.Titler, error) {
	v := &verification{f: f, up: vanilla.UpstreamOf(pr.Head, f.kernels), base: pr.Base, head: pr.Head, out: out, rejected: map[string]bool{}}
	v.patches(ctx)
	return v, nil
}

// verification is one check of patches.json in a pull request.
type verification struct {
	f          *Family
	up         *vanilla.Upstream
	base, head *family.Tree
	out        *family.Results

	rejected map[string]bool // attributes added that the base removed
	releases []Release       // linux-hardened's releases, listed on demand
}

// hEntry is one branch of hardened/patches.json.
type hEntry struct {
	Branch  string
	Line    int
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Patch   struct {
		Extra  string `json:"extra"`
		Name   string `json:"name"`
		SHA256 string `json:"sha256"`
		URL    string `json:"url"`
	} `json:"patch"`
	err string
}

// tag is the entry's release as the family's titles name it, without the
// "v" of the GitHub tag: 6.12.64-hardened1.
func (h *hEntry) tag() string { return h.Version + h.Patch.Extra }

type hardenedChange struct {
	Branch   string
	Old, New *hEntry
}

// hardenedEntries parses patches.json leniently: a malformed entry is kept
// with err set. A missing file has no entries.
func hardenedEntries(b []byte) ([]hEntry, error) {
	if b == nil {
		return nil, nil
	}
	ms, err := kernelfiles.Members(b)
	if err != nil {
		return nil, err
	}
	out := make([]hEntry, 0, len(ms))
	for _, m := range ms {
		h := hEntry{Branch: m.Key, Line: m.Line}
		dec := json.NewDecoder(bytes.NewReader(m.Raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&h); err != nil {
			h.err = fmt.Sprintf("want {\"patch\": {\"extra\", \"name\", \"sha256\", \"url\"}, \"sha256\", \"version\"}: %v", err)
		}
		h.Branch, h.Line = m.Key, m.Line
		out = append(out, h)
	}
	return out, nil
}

func diffHardened(base, head []hEntry) []hardenedChange {
	bm := map[string]*hEntry{}
	for i := range base {
		bm[base[i].Branch] = &base[i]
	}
	var out []hardenedChange
	seen := map[string]bool{}
	for i := range head {
		h := &head[i]
		seen[h.Branch] = true
		b := bm[h.Branch]
		if b != nil && b.Version == h.Version && b.SHA256 == h.SHA256 && b.Patch == h.Patch && b.err == h.err {
			continue
		}
		out = append(out, hardenedChange{Branch: h.Branch, Old: b, New: h})
	}
	for i := range base {
		if !seen[base[i].Branch] {
			out = append(out, hardenedChange{Branch: base[i].Branch, Old: &base[i]})
		}
	}
	return out
}

// patches checks a change to patches.json. A change is verified when
// nothing was found wrong with it and everything about it could be checked:
// its release and hashes, the kept set, and the nix parts of an added or
// dropped variant.
func (v *verification) patches(ctx context.Context) {
	baseB, headB := v.base.File(patchesJSON), v.head.File(patchesJSON)
	if bytes.Equal(baseB, headB) || headB == nil {
		return
	}
	head, err := hardenedEntries(headB)
	if err != nil {
		if se := (*kernelfiles.SyntaxError)(nil); errors.As(err, &se) {
			v.out.Findingf(patchesJSON, se.Line, family.RuleSyntax, "not valid JSON: %s; fix the file (kupdate update writes it correctly)", se.Msg)
		}
		return
	}
	base, _ := hardenedEntries(baseB)
	kernelfiles.CheckFormat(v.out, patchesJSON, headB)
	changes := diffHardened(base, head)
	v.readded(changes)
	ok := map[string]bool{}
	for _, ch := range changes {
		if ch.New != nil && !v.rejected[Attr(ch.Branch)] {
			ok[ch.Branch] = v.entry(ctx, ch.New)
		}
	}
	faulted := v.kept(ctx, head, changes)
	for _, ch := range changes {
		if faulted[ch.Branch] || v.rejected[Attr(ch.Branch)] || (ch.New != nil && !ok[ch.Branch]) {
			continue
		}
		vf := family.Verified{File: patchesJSON, Branch: ch.Branch, Variant: Name, Hardened: true}
		if ch.Old != nil {
			vf.From = ch.Old.tag()
		}
		if ch.New != nil {
			vf.Line, vf.To, vf.Hash = ch.New.Line, ch.New.tag(), ch.New.Patch.SHA256
		}
		v.out.Verify(vf)
	}
}

// readded rejects added entries whose kernel the base turned into a throw.
func (v *verification) readded(changes []hardenedChange) {
	m, err := kernelfiles.Read(v.base)
	if err != nil {
		return // kernel.org's kernels report a base kupdate cannot read
	}
	for _, ch := range changes {
		attr := Attr(ch.Branch)
		if ch.Old != nil {
			continue
		}
		if w, ok := m.Removed(attr); ok {
			v.out.Findingf(patchesJSON, ch.New.Line, family.RuleReadded, "hardened %q was removed from this tree before (%s is a throw at %s); kupdate never adds a removed kernel back: drop the entry", ch.Branch, attr, w)
			v.rejected[attr] = true
		}
	}
}

// entry checks one added or changed patches.json entry. It reports whether
// all of it was verified.
func (v *verification) entry(ctx context.Context, h *hEntry) bool {
	f, line, br := patchesJSON, h.Line, h.Branch
	if h.err != "" {
		v.out.Findingf(f, line, family.RuleEntry, "hardened %q is not a valid entry: %s", br, h.err)
		return false
	}
	ver, err := kernelorg.ParseVersion(h.Version)
	if err != nil || ver.IsRC() || ver.Series() != br {
		v.out.Findingf(f, line, family.RuleVersion, "hardened %q: version %q is not a release of %s; fix the version", br, h.Version, br)
		return false
	}
	ok := v.kernelHash(ctx, h, ver)
	tag := "v" + h.tag()
	wantName := "linux-hardened-" + tag + ".patch"
	if h.Patch.Name != wantName {
		v.out.Findingf(f, line, family.RuleHardened, "hardened %q: patch name %q, want %q for %s and extra %q", br, h.Patch.Name, wantName, h.Version, h.Patch.Extra)
		return false
	}
	return v.patch(ctx, h, tag) && ok
}

// kernelHash checks the kernel tarball's hash: kernel.org's signed
// checksum, written bare (no "sha256:").
func (v *verification) kernelHash(ctx context.Context, h *hEntry, ver kernelorg.Version) bool {
	f, line, br := patchesJSON, h.Line, h.Branch
	switch want, notRelease, err := v.up.Hash(ctx, ver); {
	case notRelease:
		v.out.Findingf(f, line, family.RuleVersion, "hardened %q: %s is not a kernel.org release: releases.json does not list it and %s; fix the version", br, ver, vanilla.NotPublished(ver))
	case err != nil:
		v.out.Unverifiedf(f, line, "hardened %q %s: %v", br, ver, err)
	case "sha256:"+h.SHA256 != want:
		v.out.Findingf(f, line, family.RuleHash, "hardened %q sha256 %s does not match %s (%s); run kupdate update or fix the hash", br, h.SHA256, vanilla.HashSource(ver), strings.TrimPrefix(want, "sha256:"))
	default:
		return true
	}
	return false
}

// patch checks the entry's patch against the linux-hardened release tagged
// tag: its URL and the hash of its downloaded bytes.
func (v *verification) patch(ctx context.Context, h *hEntry, tag string) bool {
	f, line, br := patchesJSON, h.Line, h.Branch
	if v.f.src == nil {
		v.out.Unverifiedf(f, line, "hardened %q %s: the patch hash is not verified: no linux-hardened source is configured", br, tag)
		return false
	}
	rel, err := v.release(ctx, tag)
	if err != nil {
		v.out.Unverifiedf(f, line, "hardened %q %s: could not list linux-hardened releases: %v", br, tag, err)
		return false
	}
	if rel == nil {
		v.out.Findingf(f, line, family.RuleHardened, "hardened %q: linux-hardened has no release %s; fix the version or extra", br, tag)
		return false
	}
	ok := true
	if h.Patch.URL != rel.URL {
		v.out.Findingf(f, line, family.RuleHardened, "hardened %q: patch url %q, want the release asset %q", br, h.Patch.URL, rel.URL)
		ok = false
	}
	sum, err := VerifyPatch(ctx, v.f.src, *rel, v.head.File(kernelfiles.HardenedKeyPath))
	if err != nil {
		v.out.Unverifiedf(f, line, "hardened %q %s: could not verify the patch: %v", br, tag, err)
		return false
	}
	if h.Patch.SHA256 != sum {
		v.out.Findingf(f, line, family.RuleHash, "hardened %q patch sha256 %s does not match the release asset %s (%s); run kupdate update or fix the hash", br, h.Patch.SHA256, rel.PatchName, sum)
		return false
	}
	return ok
}

// release finds the linux-hardened release tagged tag (old tags have no
// "v"); nil when there is none. The releases are listed once per check.
func (v *verification) release(ctx context.Context, tag string) (*Release, error) {
	if v.releases == nil {
		rels, err := v.f.src.Releases(ctx)
		if err != nil {
			return nil, err
		}
		v.releases = rels
	}
	for i, rel := range v.releases {
		if rel.Tag == tag || "v"+rel.Tag == tag {
			return &v.releases[i], nil
		}
	}
	return nil, nil
}
