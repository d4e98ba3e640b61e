package gitops_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/gitops/gittest"
)

func TestPlanBranches(t *testing.T) {
	t.Parallel()
	change := func(c family.Change) gitops.Commit {
		c.Title = c.Attr + " " + string(c.Kind)
		return gitops.Commit{Change: c}
	}
	plan := []gitops.Commit{
		change(vanilla.Made(family.Change{Kind: vanilla.Init, Branch: "7.0"})),
		change(vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: "6.12"})),
		change(hardened.Made(family.Change{Kind: hardened.Bump, Branch: "6.12"}, nil)),
		change(vanilla.Made(family.Change{Kind: vanilla.Remove, Branch: "6.17"})),
		change(vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: "testing"})),
		change(hardened.Made(family.Change{Kind: hardened.Init, Branch: "7.0"}, nil)),
	}
	type branch struct {
		Name, Base string
		Titles     []string
	}
	var got []branch
	for _, b := range gitops.PlanBranches("staging-nixos", plan) {
		var titles []string
		for _, c := range b.Changes() {
			titles = append(titles, c.Title)
		}
		got = append(got, branch{b.Name, b.Base, titles})
	}
	want := []branch{
		{"kupdate/staging-nixos/updates", "staging-nixos", []string{"linux_6_12 bump", "linux_6_12_hardened hardened-bump", "linux_testing bump"}},
		{"kupdate/staging-nixos/linux_7_0-init", "staging-nixos", []string{"linux_7_0 init"}},
		{"kupdate/staging-nixos/linux_6_17-remove", "staging-nixos", []string{"linux_6_17 remove"}},
		{"kupdate/staging-nixos/linux_7_0_hardened-init", "staging-nixos", []string{"linux_7_0_hardened hardened-init"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PlanBranches (-want +got):\n%s", diff)
	}
	if bs := gitops.PlanBranches("staging-nixos", nil); len(bs) != 0 {
		t.Errorf("PlanBranches(nil) = %v", bs)
	}

	// Every name can exist at once in a real repository (no ref is a
	// directory of another), next to the base.
	dir := t.TempDir()
	gitCmd(t, dir, "init", "-q", "-b", "staging-nixos")
	gitCmd(t, dir, "commit", "-q", "--allow-empty", "-m", "base")
	for _, b := range want {
		gitCmd(t, dir, "branch", b.Name)
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    family.Change
		want string
	}{
		{
			vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: "6.12", From: "6.12.63", To: "6.12.64", ChangeLog: "https://cdn.kernel.org/pub/linux/kernel/v6.x/ChangeLog-6.12.64"}),
			// The title alone and the trailers: the ChangeLog link is the PR's.
			"linux_6_12: 6.12.63 -> 6.12.64\n\n" +
				"Prepared-by: kupdate\nKupdate-Family: kernel.org\nKupdate-Attr: linux_6_12\nKupdate-Target: 6.12.64\n",
		},
		{
			vanilla.Made(family.Change{Kind: vanilla.Remove, Branch: "6.17", From: "6.17.13"}),
			"linux_6_17: remove\n\n" +
				"Prepared-by: kupdate\nKupdate-Family: kernel.org\nKupdate-Attr: linux_6_17\nKupdate-Target: removed\n",
		},
		{
			// A change without a Key (made by hand): the trailer alone.
			family.Change{Title: "drop aliases"},
			"drop aliases\n\nPrepared-by: kupdate\n",
		},
	} {
		if got := gitops.Message(tc.c); got != tc.want {
			t.Errorf("Message(%q):\n%s\nwant:\n%s", tc.c.Title, got, tc.want)
		}
	}
}

// The generator is deterministic and writes what it says (kept small here;
// the benchmark generates 40,000 files).
func TestSynth(t *testing.T) {
	t.Parallel()
	s := gittest.Synth{Files: 50, Commits: 4, Branch: "main", Seed: 3}
	var heads []string
	for _, name := range []string{"a.git", "b.git"} {
		dir := filepath.Join(t.TempDir(), name)
		if err := s.Generate(context.Background(), dir); err != nil {
			t.Fatal(err)
		}
		gitCmd(t, dir, "fsck", "--strict")
		if got := gitCmd(t, dir, "rev-list", "--count", "main"); got != "4" {
			t.Errorf("%s commits, want 4", got)
		}
		files := gitCmd(t, dir, "ls-tree", "-r", "--name-only", "main")
		if n := len(strings.Split(files, "\n")); n != 50 {
			t.Errorf("%d files, want 50", n)
		}
		for _, f := range gittest.KernelFiles() {
			gitCmd(t, dir, "cat-file", "-e", "main:"+f)
		}
		heads = append(heads, gitCmd(t, dir, "rev-parse", "main"))
	}
	if heads[0] != heads[1] {
		t.Errorf("same seed, different heads: %v", heads)
	}
}

func TestAuthFromEnv(t *testing.T) {
	t.Setenv("KUPDATE_TEST_TOKEN", "")
	if _, err := gitops.AuthFromEnv("KUPDATE_TEST_TOKEN"); errText(err) != "git push token: environment variable KUPDATE_TEST_TOKEN is empty or unset: export it with the secret" {
		t.Errorf("unset: %v", err)
	}
	t.Setenv("KUPDATE_TEST_TOKEN", token)
	auth, err := gitops.AuthFromEnv("KUPDATE_TEST_TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	if got := auth.String(); strings.Contains(got, token) || !strings.Contains(got, "x-access-token") {
		t.Errorf("String() = %q: want the user, not the token", got)
	}
}
