package cycle_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/family"
)

func request(r family.Request) func(*cycle.Options) {
	return func(o *cycle.Options) { o.Requests = []family.Request{r} }
}

// kupdate propose ... --pr: the requested change alone, on its own branch
// and PR through the same cycle (a dry run shows it and writes nothing);
// the state of the last whole cycle is left alone; asked again, nothing
// changes.
func TestProposePR(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rm := request(family.Request{Kind: family.RequestRemove, Attr: "linux_5_15", EOLWithin: "26.05"})
	rep, err := f.cycle(dryRun, rm).Run(context.Background())
	if err != nil {
		t.Fatalf("dry run stopped: %v\n%s", err, f.logs)
	}
	golden(t, "propose-dry-run.txt", dryOutput(t, f, rep))
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes in a dry run: %v", w)
	}

	f.run(rm)
	prs := f.gh.PRs("NixOS", "nixpkgs")
	if len(prs) != 1 || prs[0].Title != "linux_5_15: remove" || prs[0].Head != "kupdate/staging-nixos/linux_5_15-remove" || prs[0].Base != "staging-nixos" {
		t.Fatalf("PRs: %+v", prs)
	}
	branches := f.forkBranches()
	if len(branches) != 1 {
		t.Errorf("fork branches: %v", branches)
	}
	if got := gitOut(t, f.gh.RepoDir("kupdate-bot", "nixpkgs"), "log", "--format=%s", "staging-nixos..kupdate/staging-nixos/linux_5_15-remove"); got != "linux_5_15: remove" {
		t.Errorf("commits: %q", got)
	}
	if _, err := os.Stat(filepath.Join(f.cache, "state.json")); !os.IsNotExist(err) {
		t.Errorf("state.json after a proposal: %v", err)
	}

	f.gh.ResetRequests()
	f.run(rm)
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes the second time: %v", w)
	}
	if got := f.forkBranches(); len(got) != 1 || got["kupdate/staging-nixos/linux_5_15-remove"] != branches["kupdate/staging-nixos/linux_5_15-remove"] {
		t.Errorf("fork branches the second time: %v (before %v)", got, branches)
	}
}

// A refused request stops the cycle before anything is pushed or opened.
func TestProposeRefusedWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, err := f.cycle(request(family.Request{Kind: family.RequestDefault, Attr: "linux_6_12"})).Run(context.Background())
	var re *family.RefusedError
	if !errors.As(err, &re) || err.Error() != "propose default linux_6_12: linux_6_12 is already linux_default" {
		t.Fatalf("err = %v", err)
	}
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes: %v", w)
	}
	if b := f.forkBranches(); len(b) != 0 {
		t.Errorf("fork branches: %v", b)
	}
}

// nixpkgs.bases: an init starts from master and its PR targets master
// (nixpkgs#509589), with master's labels; the rolling branch stays on
// nixpkgs.base. A second cycle changes nothing.
func TestInitOnItsOwnBase(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.cfg.Nixpkgs.Bases = map[string]string{"init": "master"}
	f.cfg.GitHub.Labels = map[string][]string{"master": {"6.topic: kernel"}}
	// master moves on past staging-nixos.
	up := f.gh.RepoDir("NixOS", "nixpkgs")
	moved := gitOut(t, up, "-c", "user.name=m", "-c", "user.email=m@example.org", "commit-tree", "master^{tree}", "-p", "master", "-m", "master moves on")
	gitOut(t, up, "update-ref", "refs/heads/master", moved)
	f.run()
	type pr struct {
		Title, Head, Base string
		Labels            []string
	}
	var got []pr
	for _, p := range f.gh.PRs("NixOS", "nixpkgs") {
		got = append(got, pr{p.Title, p.Head, p.Base, p.Labels})
	}
	want := []pr{
		{"kernel updates for 2026-01-10", rolling, "staging-nixos", []string{"backport release-25.11"}},
		{"linux_6_19: init at 6.19", "kupdate/master/linux_6_19-init", "master", []string{"6.topic: kernel"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("PRs (-want +got):\n%s", d)
	}
	repo := f.gh.RepoDir("kupdate-bot", "nixpkgs")
	if got, want := gitOut(t, repo, "rev-parse", "kupdate/master/linux_6_19-init^"), moved; got != want {
		t.Errorf("the init starts from %s, master is at %s", got, want)
	}
	if got, want := gitOut(t, repo, "rev-parse", rolling+"~2"), gitOut(t, up, "rev-parse", "staging-nixos"); got != want {
		t.Errorf("the rolling branch starts from %s, staging-nixos is at %s", got, want)
	}
	f.gh.ResetRequests()
	f.run()
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes the second time: %v", w)
	}
}
