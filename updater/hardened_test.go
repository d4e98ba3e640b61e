package updater

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// hardenedPlan plans the tree with only new linux-hardened releases upstream.
func hardenedPlan(t *testing.T, gh *ghSim, withKey bool) *family.Plan {
	t.Helper()
	dir := copyTree(t)
	if withKey {
		if err := os.WriteFile(filepath.Join(dir, kernelfiles.HardenedKeyPath), gh.armoredKey(t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return planWith(t, []kernelorg.Release{rel("longterm", "6.12.64", false), rel("stable", "6.18.5", false)}, &tableHasher{}, gh, loadTree(t, dir))
}

func titles(p *family.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Title)
	}
	return out
}

func TestHardenedRequests(t *testing.T) {
	gh := newGHSim(t, "v6.12.63-hardened1", "6.12.60-hardened2", "v6.12.64-hardened1", "v6.12.64-hardened2", "v6.18.4-hardened1")
	plan := hardenedPlan(t, gh, true)
	if d := cmp.Diff([]string{"linux/hardened/patches/6.12: v6.12.63-hardened1 -> v6.12.64-hardened2"}, titles(plan)); d != "" {
		t.Errorf("titles (-want +got):\n%s", d)
	}
	c := hardened.PatchOf(plan.Changes[0])
	if c.SHA256 != nixHashOf(hardenedPatchBytes("v6.12.64-hardened2")) || c.URL != "https://github.com/anthraxx/linux-hardened/releases/download/v6.12.64-hardened2/linux-hardened-v6.12.64-hardened2.patch" {
		t.Errorf("patch = %+v", c)
	}
	want := []string{
		"GET /repos/anthraxx/linux-hardened/releases?per_page=100",
		"GET /anthraxx/linux-hardened/releases/download/v6.12.64-hardened2/linux-hardened-v6.12.64-hardened2.patch",
		"GET /anthraxx/linux-hardened/releases/download/v6.12.64-hardened2/linux-hardened-v6.12.64-hardened2.patch.sig",
	}
	if d := cmp.Diff(want, gh.requests); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestHardenedRefusesBadPatches(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*ghSim)
		key  bool
		want string
	}{{
		name: "bad signature", key: true,
		set:  func(g *ghSim) { g.badSig["v6.12.64-hardened1"] = true },
		want: "hardened v6.12.64-hardened1: linux-hardened-v6.12.64-hardened1.patch: signature ",
	}, {
		name: "digest mismatch", key: true,
		set:  func(g *ghSim) { g.badDig["v6.12.64-hardened1"] = true },
		want: "does not match the digest GitHub lists",
	}, {
		name: "API failure",
		set:  func(g *ghSim) { g.status = 502 },
		want: "hardened: listing linux-hardened releases: GET ",
	}, {
		name: "rate limit",
		set:  func(g *ghSim) { g.status = 429 },
		want: "GitHub answered 429 Too Many Requests: simulated failure (gave up after 4 tries; rate limited by GitHub: set a token in the environment variable named by github.token_env for a higher limit; the next cycle tries again)",
	}} {
		t.Run(c.name, func(t *testing.T) {
			gh := newGHSim(t, "v6.12.63-hardened1", "v6.12.64-hardened1")
			c.set(gh)
			plan := hardenedPlan(t, gh, c.key)
			if len(plan.Changes) != 0 {
				t.Errorf("planned %v", titles(plan))
			}
			f := plan.Failed()
			if len(f) != 1 || !strings.Contains(f[0].String(), c.want) {
				t.Errorf("failed = %v, want one containing %q", f, c.want)
			}
		})
	}
	// Without the tree's key the signature is not checked (nixpkgs trees
	// need not carry anthraxx.asc); the digest still is.
	gh := newGHSim(t, "v6.12.63-hardened1", "v6.12.64-hardened1")
	gh.badSig["v6.12.64-hardened1"] = true
	if plan := hardenedPlan(t, gh, false); len(plan.Changes) != 1 {
		t.Errorf("without a key: %s", planSummary(plan))
	}
}
