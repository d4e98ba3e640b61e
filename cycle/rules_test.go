package cycle

import (
	"errors"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/workflow"
)

// The decision rules of a cycle are functions of values: these tables need
// no Nix, no simulator and no git.

func key(attr, target string) family.Key {
	fam := "kernel.org"
	if len(attr) > 9 && attr[len(attr)-9:] == "_hardened" {
		fam = "hardened"
	}
	return family.Key{Family: fam, Attr: attr, Target: target}
}

func change(attr, target string) family.Change {
	return family.Change{Attr: attr, To: target, Title: attr + ": -> " + target, Key: key(attr, target)}
}

func proposed(attr, target string) gitops.Proposed {
	return gitops.Proposed{Key: key(attr, target), Title: attr + ": -> " + target}
}

func TestOutcomeOf(t *testing.T) {
	pr := func(o workflow.Outcome) *workflow.PRResult { return &workflow.PRResult{Number: 1, Outcome: o} }
	bump := change("linux_6_12", "6.12.65")
	other := change("linux_6_18", "6.18.7")
	for _, tc := range []struct {
		name string
		ch   ChangeResult
		want Outcome
	}{
		{"failed", ChangeResult{Change: bump, Err: errors.New("x")}, Failed},
		{"waiting", ChangeResult{Change: bump, Wait: "x"}, Waiting},
		{"in no branch", ChangeResult{Change: bump}, Failed},
		{"someone else's commits", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.SkippedForeign, Err: errors.New("x")}}, Skipped},
		{"kept", ChangeResult{Change: bump, Branch: &BranchResult{Kept: []Withheld{{Attr: "linux_6_18"}}}}, Kept},
		{"push refused", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.Rejected, Err: errors.New("x")}}, PushFailed},
		{"stopped before the PR", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.Pushed}}, Stopped},
		{"PR not synced", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.Pushed, PR: &workflow.PRResult{Err: errors.New("x")}}}, PRFailed},
		{"opened", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.Pushed, PR: pr(workflow.Opened)}}, Outcome(workflow.Opened)},
		{"unchanged branch, PR up to date", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.Unchanged, PR: pr(workflow.Unchanged)}}, Unchanged},
		{"new commit, new to the PR", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.Pushed, PR: pr(workflow.Updated),
			Changes: []family.Change{other, bump}, previous: []gitops.Proposed{proposed("linux_6_18", "6.18.7")}}}, Added},
		{"new commit, another version of it", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.Pushed, PR: pr(workflow.Updated),
			Changes: []family.Change{bump}, previous: []gitops.Proposed{proposed("linux_6_12", "6.12.64")}}}, Updated},
		{"new commit, this very commit", ChangeResult{Change: other, Branch: &BranchResult{Push: gitops.Pushed, PR: pr(workflow.Updated),
			Changes: []family.Change{other, bump}, previous: []gitops.Proposed{proposed("linux_6_18", "6.18.7")}}}, Unchanged},
		{"the same commits on a new base", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.Pushed, PR: pr(workflow.Updated),
			Changes: []family.Change{bump}, previous: []gitops.Proposed{proposed("linux_6_12", "6.12.65")}}}, Updated},
		{"dry run, new to the PR", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.WouldPush, PR: pr(workflow.WouldUpdate),
			Changes: []family.Change{bump}, previous: []gitops.Proposed{proposed("linux_6_18", "6.18.7")}}}, WouldAdd},
		{"dry run, another version of it", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.WouldPush, PR: pr(workflow.WouldUpdate),
			Changes: []family.Change{bump}, previous: []gitops.Proposed{proposed("linux_6_12", "6.12.64")}}}, WouldUpdate},
		{"a commit of an earlier kupdate is read by its key", ChangeResult{Change: bump, Branch: &BranchResult{Push: gitops.Pushed, PR: pr(workflow.Updated),
			Changes: []family.Change{other, bump}, previous: []gitops.Proposed{{Title: "linux_6_12: 6.12.64 -> 6.12.65", Key: key("linux_6_12", "6.12.65")}}}}, Unchanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := outcomeOf(&tc.ch); got != tc.want {
				t.Errorf("outcome = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKeptRule(t *testing.T) {
	sourceDown := errors.New("listing linux-hardened releases: 502")
	notYet := family.Note{Family: "kernel.org", Branch: "6.18", Attr: "linux_6_18", Reason: "6.18.7 not yet signed on kernel.org"}
	failedSource := family.Note{Family: "hardened", Branch: "hardened", Reason: sourceDown.Error(), Err: sourceDown}
	prev := []gitops.Proposed{
		proposed("linux_6_12", "6.12.65"),
		proposed("linux_6_18", "6.18.7"),
		proposed("linux_6_12_hardened", "6.12.65-hardened1"),
		{Title: "someone's squashed fixup"}, // nothing kupdate can read
	}
	notAhead := func(k family.Key) bool { return k.Attr != "linux_6_18" }
	for _, tc := range []struct {
		name   string
		held   []family.Note
		failed map[string]error
		only   []string
		in     []string // attributes of the branch as rebuilt
		ahead  func(family.Key) bool
		want   []Withheld
	}{
		{name: "everything verified: nothing to keep", in: []string{"linux_6_12"}},
		{name: "a version not published yet", held: []family.Note{notYet}, in: []string{"linux_6_12", "linux_6_12_hardened"},
			want: []Withheld{{Title: "linux_6_18: -> 6.18.7", Attr: "linux_6_18", Reason: notYet.Reason, Held: true}}},
		{name: "the base has it now", held: []family.Note{notYet}, in: []string{"linux_6_12", "linux_6_12_hardened"}, ahead: notAhead},
		{name: "a whole source failed", held: []family.Note{failedSource}, in: []string{"linux_6_12", "linux_6_18"},
			want: []Withheld{{Title: "linux_6_12_hardened: -> 6.12.65-hardened1", Attr: "linux_6_12_hardened", Reason: sourceDown.Error(), Held: true}}},
		{name: "a change failed this cycle", failed: map[string]error{"linux_6_18": errors.New("does not evaluate")}, in: []string{"linux_6_12", "linux_6_12_hardened"},
			want: []Withheld{{Title: "linux_6_18: -> 6.18.7", Attr: "linux_6_18", Reason: "does not evaluate"}}},
		{name: "--only left them out", only: []string{"linux_6_12"}, in: []string{"linux_6_12"},
			want: []Withheld{
				{Title: "linux_6_18: -> 6.18.7", Attr: "linux_6_18", Reason: notSelected, Only: true},
				{Title: "linux_6_12_hardened: -> 6.12.65-hardened1", Attr: "linux_6_12_hardened", Reason: notSelected, Only: true},
			}},
		{name: "a newer version replaces it", held: []family.Note{notYet}, in: []string{"linux_6_12", "linux_6_18", "linux_6_12_hardened"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why := unverified(tc.held, tc.failed, tc.only)
			if why == nil {
				if tc.want != nil {
					t.Fatalf("unverified = nil, want reasons")
				}
				return
			}
			in := map[string]bool{}
			for _, a := range tc.in {
				in[a] = true
			}
			ahead := tc.ahead
			if ahead == nil {
				ahead = func(family.Key) bool { return true }
			}
			if diff := cmp.Diff(tc.want, keptCommits(prev, in, why, ahead)); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	built := gitops.BuiltBranch{Branch: gitops.Branch{Name: "kupdate/staging-nixos/updates"}, Hashes: []plumbing.Hash{plumbing.NewHash("02")}}
	prep := prepared{commits: []gitops.Commit{{Change: change("linux_6_12", "6.12.65")}}, built: built}
	head := plumbing.NewHash("01")
	foreign := errors.New("its head was not made by kupdate")
	noFork := errors.New("reading the branches of http://127.0.0.1:1/fork.git: 503")
	held := func(k family.Key) (Withheld, bool) {
		return Withheld{Attr: k.Attr, Reason: "held"}, k.Attr == "linux_6_18"
	}
	ahead := func(family.Key) bool { return true }
	for _, tc := range []struct {
		name    string
		fork    gitops.PushResult
		why     func(family.Key) (Withheld, bool)
		verdict verdict
		err     string
	}{
		{"a new branch", gitops.PushResult{Outcome: gitops.WouldPush}, nil, proceed, ""},
		{"the fork's branch is older", gitops.PushResult{Outcome: gitops.WouldPush, Head: head, Previous: []gitops.Proposed{proposed("linux_6_12", "6.12.64")}}, held, proceed, ""},
		{"it would withdraw a held commit", gitops.PushResult{Outcome: gitops.WouldPush, Head: head, Previous: []gitops.Proposed{proposed("linux_6_18", "6.18.7")}}, held, keep, ""},
		{"someone else's commits", gitops.PushResult{Outcome: gitops.SkippedForeign, Head: head, Err: foreign}, nil, leaveAlone, foreign.Error()},
		{"someone else's commits, and a held change", gitops.PushResult{Outcome: gitops.SkippedForeign, Head: head, Err: foreign}, held, leaveAlone, foreign.Error()},
		{"the fork cannot be read, nothing held", gitops.PushResult{Outcome: gitops.Rejected, Err: noFork}, nil, proceed, ""},
		{"the fork cannot be read, a change held", gitops.PushResult{Outcome: gitops.Rejected, Err: noFork}, held, unreadable,
			"kupdate/staging-nixos/updates: checking what the fork's branch holds: " + noFork.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := judge(tc.fork, tc.why, prep, ahead)
			if d.verdict != tc.verdict || errString(d.err) != tc.err {
				t.Errorf("judge = %d, %v; want %d, %q", d.verdict, d.err, tc.verdict, tc.err)
			}
		})
	}
}

func TestBuildTarget(t *testing.T) {
	built := gitops.BuiltBranch{Hashes: []plumbing.Hash{plumbing.NewHash("02")}}
	older := plumbing.NewHash("01")
	for _, tc := range []struct {
		name string
		fork gitops.PushResult
		want plumbing.Hash
	}{
		{"not read", gitops.PushResult{}, built.Head()},
		{"to be pushed", gitops.PushResult{Outcome: gitops.WouldPush, Head: older}, built.Head()},
		{"the fork keeps it on an older base", gitops.PushResult{Outcome: gitops.Unchanged, Head: older}, older},
		{"the fork has it as built", gitops.PushResult{Outcome: gitops.Unchanged, Head: built.Head()}, built.Head()},
	} {
		if got := buildTarget(built, tc.fork); got != tc.want {
			t.Errorf("%s: buildTarget = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
