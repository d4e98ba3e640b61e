package state

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	day1 = time.Date(2026, 4, 29, 9, 0, 0, 0, time.UTC)
	day2 = day1.Add(24 * time.Hour)
)

func pr(n int, st PRState) *PR {
	return &PR{Number: n, URL: "https://github.com/NixOS/nixpkgs/pull/" + string(rune('0'+n)), State: st}
}

// The merge rule: a cycle updates only what it looked at.
func TestMerge(t *testing.T) {
	rolling := "kupdate/staging-nixos/updates"
	prev := &State{
		Attrs: []Attr{
			{Attr: "linux_6_12", Branch: "6.12", Nixpkgs: "6.12.64", Upstream: "6.12.65", Checked: day1,
				Change: &Change{Title: "linux_6_12: 6.12.64 -> 6.12.65", Outcome: "opened", Branch: rolling},
				Result: "linux_6_12: 6.12.64 -> 6.12.65: PR #1 opened", PR: pr(1, Draft), Build: "passed"},
			{Attr: "linux_6_18", Branch: "6.18", Nixpkgs: "6.18.5", Upstream: "6.18.6", Checked: day1,
				Change: &Change{Title: "linux_6_18: 6.18.5 -> 6.18.6", Outcome: "opened", Branch: rolling},
				Result: "linux_6_18: 6.18.5 -> 6.18.6: PR #1 opened", PR: pr(1, Draft), Build: "passed"},
			{Attr: "linux_7_0", Branch: "7.0", Upstream: "7.0.1", Checked: day1,
				Change: &Change{Title: "linux_7_0: init at 7.0.1", Outcome: "opened", Branch: "kupdate/staging-nixos/linux_7_0-init"},
				Result: "linux_7_0: init at 7.0.1: PR #2 opened", PR: pr(2, Draft), Build: "passed"},
		},
		Branches: []Branch{
			{Name: rolling, Head: "aaa", Push: "pushed", PR: pr(1, Draft)},
			{Name: "kupdate/staging-nixos/linux_7_0-init", Head: "bbb", Push: "pushed", PR: pr(2, Draft)},
		},
	}
	// What a cycle on day 2 looked at: 6.12 again (a new point release),
	// the others' records as the tree and kernel.org have them now.
	cur := func() *State {
		return &State{
			Attrs: []Attr{
				{Attr: "linux_6_12", Branch: "6.12", Nixpkgs: "6.12.64", Upstream: "6.12.66", Checked: day2,
					Change: &Change{Title: "linux_6_12: 6.12.64 -> 6.12.66", Outcome: "updated", Branch: rolling},
					Result: "linux_6_12: 6.12.64 -> 6.12.66: PR #1 updated", PR: pr(1, Open), Build: "passed"},
				{Attr: "linux_6_18", Branch: "6.18", Nixpkgs: "6.18.5", Upstream: "6.18.6", Checked: day2, Result: "up to date"},
				{Attr: "linux_7_0", Branch: "7.0", Upstream: "7.0.1", Checked: day2, Result: "up to date"},
			},
			Branches: []Branch{{Name: rolling, Head: "ccc", Push: "pushed", PR: pr(1, Open)}},
		}
	}
	for _, tc := range []struct {
		name      string
		prev      *State
		notLooked map[string]string
		want      func(*State)
	}{
		{name: "no earlier state", notLooked: map[string]string{"linux_7_0": "not selected by --only"}},
		{name: "everything looked at", prev: prev},
		{name: "--only left 7.0 out", prev: prev, notLooked: map[string]string{"linux_7_0": "not selected by --only"},
			want: func(st *State) {
				st.Attrs[2] = prev.Attrs[2]
				st.Attrs[2].NotChecked = "not selected by --only"
				st.Branches = append(st.Branches, prev.Branches[1])
			}},
		{name: "looked at, but the branch was kept as proposed", prev: prev, notLooked: map[string]string{"linux_6_18": ""},
			want: func(st *State) {
				st.Attrs[1].PR, st.Attrs[1].Build = prev.Attrs[1].PR, prev.Attrs[1].Build
			}},
		{name: "held by a failure", prev: prev, notLooked: map[string]string{"linux_6_18": "held: no verified hash for 6.18.7"},
			want: func(st *State) {
				st.Attrs[1] = prev.Attrs[1]
				st.Attrs[1].NotChecked = "held: no verified hash for 6.18.7"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := cur()
			if tc.want != nil {
				tc.want(want)
			}
			if diff := cmp.Diff(want, Merge(tc.prev, cur(), tc.notLooked)); diff != "" {
				t.Errorf("Merge (-want +got):\n%s", diff)
			}
		})
	}
	a := prev.Attrs[2]
	a.NotChecked = "not selected by --only"
	if got, want := a.Reason(), "linux_7_0: init at 7.0.1: PR #2 opened (not checked this cycle: not selected by --only)"; got != want {
		t.Errorf("Reason() = %q, want %q", got, want)
	}
}

// A state.json of version 1 is read as version 2: no PR link is lost.
func TestReadVersion1(t *testing.T) {
	dir := t.TempDir()
	v1 := `{
  "version": 1,
  "start": "2026-04-29T09:00:00Z",
  "end": "2026-04-29T09:04:00Z",
  "base_branch": "staging-nixos",
  "base": "182bce6de2d9",
  "source": "managed clone of https://github.com/NixOS/nixpkgs.git",
  "ok": true,
  "branches": [
    {"branch": "6.12", "attr": "linux_6_12", "nixpkgs": "6.12.64", "kernel_org": "6.12.65",
     "pr": {"number": 1, "url": "https://github.com/NixOS/nixpkgs/pull/1", "state": "draft"}, "build": "passed",
     "checked_at": "2026-04-29T09:04:00Z", "reason": "linux_6_12: 6.12.64 -> 6.12.65: PR #1 opened"},
    {"branch": "6.18", "attr": "linux_6_18", "nixpkgs": "6.18.5", "kernel_org": "6.18.6", "pr": null, "build": "",
     "checked_at": "2026-04-28T09:04:00Z", "reason": "up to date (not checked this cycle: not selected by --only)"}
  ],
  "changes": [
    {"title": "linux_6_12: 6.12.64 -> 6.12.65", "kind": "bump", "attr": "linux_6_12", "branch": "kupdate/staging-nixos/updates",
     "outcome": "opened", "build": "passed", "pr": {"number": 1, "url": "https://github.com/NixOS/nixpkgs/pull/1", "state": "draft"}}
  ],
  "prs": [
    {"branch": "kupdate/staging-nixos/updates", "head": "941d1c239fa9", "push": "pushed",
     "pr": {"number": 1, "url": "https://github.com/NixOS/nixpkgs/pull/1", "state": "draft"}}
  ]
}
`
	if err := os.WriteFile(filepath.Join(dir, File), []byte(v1), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	link := &PR{Number: 1, URL: "https://github.com/NixOS/nixpkgs/pull/1", State: Draft}
	want := &State{Version: Version, Start: day1, End: day1.Add(4 * time.Minute), BaseBranch: "staging-nixos", Base: "182bce6de2d9",
		Source: "managed clone of https://github.com/NixOS/nixpkgs.git", OK: true, LastSuccess: day1.Add(4 * time.Minute),
		Attrs: []Attr{
			{Attr: "linux_6_12", Branch: "6.12", Nixpkgs: "6.12.64", Upstream: "6.12.65", Checked: day1.Add(4 * time.Minute),
				Change: &Change{Title: "linux_6_12: 6.12.64 -> 6.12.65", Kind: "bump", Outcome: "opened", Branch: "kupdate/staging-nixos/updates"},
				Result: "linux_6_12: 6.12.64 -> 6.12.65: PR #1 opened", PR: link, Build: "passed"},
			{Attr: "linux_6_18", Branch: "6.18", Nixpkgs: "6.18.5", Upstream: "6.18.6", Checked: day1.Add(-24*time.Hour + 4*time.Minute),
				Result: "up to date", NotChecked: "not selected by --only"},
		},
		Branches: []Branch{{Name: "kupdate/staging-nixos/updates", Head: "941d1c239fa9", Push: "pushed", PR: link}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}

	// Written back, it is version 2, and reads the same.
	if err := Write(dir, got); err != nil {
		t.Fatal(err)
	}
	again, err := Read(dir)
	if err != nil || !cmp.Equal(got, again) {
		t.Errorf("read after write: %v\n%s", err, cmp.Diff(got, again))
	}

	// Another version is refused with what to do.
	if err := os.WriteFile(filepath.Join(dir, File), []byte(`{"version": 7}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); err == nil || err.Error() != filepath.Join(dir, File)+": version 7, want 2 (the next cycle writes it again)" {
		t.Errorf("version 7: %v", err)
	}
}
