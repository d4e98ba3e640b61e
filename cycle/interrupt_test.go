package cycle_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// seenPR is a PR as anyone sees it, with what differs between two worlds
// for reasons that do not matter (ports, commit ids) replaced.
type seenPR struct {
	Number                   int
	Title, State, Head, Base string
	Draft                    bool
	Labels                   []string
	Body                     string
	Statuses                 []githubtest.Status
}

type seenWorld struct {
	PRs      []seenPR
	Branches map[string]string // fork branch -> its commits' trees and titles
	Labels   []string
}

func (f *fixture) seen() seenWorld {
	f.t.Helper()
	w := seenWorld{Branches: map[string]string{}, Labels: f.gh.Labels("NixOS", "nixpkgs")}
	repo := f.gh.RepoDir("kupdate-bot", "nixpkgs")
	heads := f.forkBranches()
	for name := range heads {
		w.Branches[name] = gitOut(f.t, repo, "log", "--format=%T %s", "staging-nixos.."+name)
	}
	for _, p := range f.gh.PRs("NixOS", "nixpkgs") {
		body := f.stable(p.Body)
		for name, sha := range heads {
			body = strings.ReplaceAll(body, sha, "HEAD("+name+")")
			body = strings.ReplaceAll(body, sha[:12], "HEAD("+name+")")
		}
		w.PRs = append(w.PRs, seenPR{p.Number, p.Title, p.State, p.Head, p.Base, p.Draft, p.Labels, body, f.gh.Statuses("NixOS", "nixpkgs", p.HeadSHA)})
	}
	return w
}

// cancelAfter is a transport that cancels the cycle once GitHub has
// answered a request that when accepts: the write is made, the cycle does
// not learn more.
type cancelAfter struct {
	rt     http.RoundTripper
	when   func(*http.Request, *http.Response) bool
	cancel context.CancelFunc
}

func (c *cancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err == nil && c.when(r, resp) {
		c.cancel()
	}
	return resp, err
}

// TestInterrupted cuts a cycle short at several points; the next cycle
// ends in the state an uninterrupted cycle leaves, with nothing duplicated.
func TestInterrupted(t *testing.T) {
	t.Parallel()
	ref := newFixture(t)
	ref.run()
	want := ref.seen()
	if len(want.PRs) != 2 || len(want.Branches) != 2 {
		t.Fatalf("reference world: %+v", want)
	}

	for _, tc := range []struct {
		name string
		cut  func(f *fixture, cancel context.CancelFunc) func(*cycle.Options)
		// cutWorld is what the cut cycle left: PRs (number: labels) and
		// fork branches.
		cutPRs      map[int][]string
		cutBranches []string
	}{
		{"after the plan", func(f *fixture, cancel context.CancelFunc) func(*cycle.Options) {
			return func(o *cycle.Options) {
				o.AfterStep = func(s cycle.Step, branch string) {
					if s == cycle.StepPlanned {
						cancel()
					}
				}
			}
		}, nil, nil},
		{"mid-build", func(f *fixture, cancel context.CancelFunc) func(*cycle.Options) {
			return func(o *cycle.Options) {
				o.Progress = func(p build.Progress) {
					if p.Status == build.Running {
						cancel()
					}
				}
			}
		}, nil, nil},
		{"after the push of the first branch", func(f *fixture, cancel context.CancelFunc) func(*cycle.Options) {
			return func(o *cycle.Options) {
				o.AfterStep = func(s cycle.Step, branch string) {
					if s == cycle.StepPushed && branch == rolling {
						cancel()
					}
				}
			}
		}, nil, []string{rolling}},
		{"after a PR is opened, before its labels", func(f *fixture, cancel context.CancelFunc) func(*cycle.Options) {
			return func(o *cycle.Options) {
				o.GitHubTransport = &cancelAfter{rt: o.GitHubTransport, cancel: cancel, when: func(r *http.Request, resp *http.Response) bool {
					return r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/pulls") && resp.StatusCode == http.StatusCreated
				}}
			}
		}, map[int][]string{1: nil}, []string{rolling}},
		{"after the first PR is synced", func(f *fixture, cancel context.CancelFunc) func(*cycle.Options) {
			return func(o *cycle.Options) {
				o.AfterStep = func(s cycle.Step, branch string) {
					if s == cycle.StepSynced {
						cancel()
					}
				}
			}
		}, map[int][]string{1: {"backport release-25.11"}}, []string{rolling}},
		{"after the build of the second branch", func(f *fixture, cancel context.CancelFunc) func(*cycle.Options) {
			return func(o *cycle.Options) {
				o.AfterStep = func(s cycle.Step, branch string) {
					if s == cycle.StepBuilt && branch == initBr {
						cancel()
					}
				}
			}
		}, map[int][]string{1: {"backport release-25.11"}}, []string{rolling}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := f.cycle(tc.cut(f, cancel)).Run(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cut cycle: err = %v, want context.Canceled\n%s", err, f.logs)
			}
			prs := map[int][]string{}
			for _, p := range f.gh.PRs("NixOS", "nixpkgs") {
				prs[p.Number] = p.Labels
			}
			var branches []string
			for b := range f.forkBranches() {
				branches = append(branches, b)
			}
			if diff := cmp.Diff(tc.cutPRs, prs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("PRs after the cut (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.cutBranches, branches, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("fork branches after the cut (-want +got):\n%s", diff)
			}
			f.run()
			if diff := cmp.Diff(want, f.seen()); diff != "" {
				t.Errorf("after the next cycle (-uninterrupted +interrupted):\n%s\nlog:\n%s", diff, f.logs)
			}
		})
	}
}
