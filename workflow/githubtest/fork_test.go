package githubtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v92/github"
)

// TestForkSharesObjects: after a PR is merged upstream, a push into the fork
// of a branch built on the new staging-nixos tip, sending only the branch's
// own objects (as gitops does), is accepted: the fork shares upstream's
// objects, as on GitHub. With UnsharedForks the fork lacks the merge commit
// and git refuses the push, which is what a fork hosted elsewhere answers.
func TestForkSharesObjects(t *testing.T) {
	for _, tc := range []struct {
		name     string
		unshared bool
		want     []string
	}{
		{"shared", false, []string{"unpack ok", "ok refs/heads/kupdate/staging-nixos/next"}},
		{"unshared", true, []string{"unpack ok", "ng refs/heads/kupdate/staging-nixos/next missing necessary objects"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Options{Root: t.TempDir(), Clock: func() time.Time { return epoch }, UnsharedForks: tc.unshared})
			must(t, err)
			t.Cleanup(s.Close)
			must(t, s.CreateRepo("NixOS", "nixpkgs", "master"))
			_, err = s.Commit("NixOS", "nixpkgs", "master", map[string]string{"README": "nixpkgs\n"}, "init")
			must(t, err)
			must(t, s.CreateBranch("NixOS", "nixpkgs", "staging-nixos", "master"))
			must(t, s.ForkRepo("NixOS", "nixpkgs", "kupdate-bot"))
			must(t, s.CreateBranch("kupdate-bot", "nixpkgs", "kupdate/staging-nixos/updates", "staging-nixos"))
			_, err = s.Commit("kupdate-bot", "nixpkgs", "kupdate/staging-nixos/updates", map[string]string{"kernels-org.json": "{}\n"}, "linux_6_12: 6.12.63 -> 6.12.64")
			must(t, err)
			gh, err := github.NewClient(github.WithHTTPClient(s.Client()), github.WithEnterpriseURLs(s.URL(), s.URL()))
			must(t, err)

			// The PR is merged upstream: staging-nixos moves to a merge
			// commit made in NixOS/nixpkgs only.
			ctx := context.Background()
			_, _, err = gh.PullRequests.Create(ctx, "NixOS", "nixpkgs", github.CreatePullRequest{
				Title: new("Kernel updates for 2026-01-10"), Head: "kupdate-bot:kupdate/staging-nixos/updates", Base: "staging-nixos",
			})
			must(t, err)
			_, _, err = gh.PullRequests.Merge(ctx, "NixOS", "nixpkgs", 1, "", &github.PullRequestOptions{MergeMethod: "merge"})
			must(t, err)
			tip := s.BranchSHA("NixOS", "nixpkgs", "staging-nixos")

			// A commit on the new tip, and a pack of its own objects only.
			scratch := filepath.Join(t.TempDir(), "scratch.git")
			run(t, "", "", "git", "clone", "--quiet", "--bare", s.RepoDir("NixOS", "nixpkgs"), scratch)
			blob := run(t, scratch, "linux_6_12 6.12.65\n", "git", "hash-object", "-w", "--stdin")
			tree := run(t, scratch, fmt.Sprintf("100644 blob %s\tkernels-org.json\n", blob), "git", "mktree")
			commit := run(t, scratch, "", "git", "commit-tree", tree, "-p", tip, "-m", "linux_6_12: 6.12.64 -> 6.12.65")
			pack := run(t, scratch, commit+"\n^"+tip+"\n", "git", "pack-objects", "--stdout", "--revs")

			got := receivePack(t, s.GitURL("kupdate-bot", "nixpkgs"), "refs/heads/kupdate/staging-nixos/next", commit, pack)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("receive-pack report (-want +got):\n%s", diff)
			}
			wantRef := commit
			if tc.unshared {
				wantRef = ""
			}
			if ref := s.BranchSHA("kupdate-bot", "nixpkgs", "kupdate/staging-nixos/next"); ref != wantRef {
				t.Errorf("fork's branch at %q, want %q", ref, wantRef)
			}
		})
	}
}

// run runs a command in dir with stdin and returns its trimmed output
// (binary output, a pack, is returned as is).
func run(t *testing.T, dir, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=kupdate", "GIT_AUTHOR_EMAIL=kupdate@example.org", "GIT_AUTHOR_DATE=2026-01-10T12:00:00Z",
		"GIT_COMMITTER_NAME=kupdate", "GIT_COMMITTER_EMAIL=kupdate@example.org", "GIT_COMMITTER_DATE=2026-01-10T12:00:00Z")
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	if args[0] == "pack-objects" {
		return string(out)
	}
	return strings.TrimSpace(string(out))
}

// receivePack creates ref at commit in the repository at url over smart
// HTTP, sending pack as the only objects, and returns git's report-status
// lines.
func receivePack(t *testing.T, url, ref, commit, pack string) []string {
	t.Helper()
	var body bytes.Buffer
	line := fmt.Sprintf("%s %s %s\x00report-status\n", strings.Repeat("0", 40), commit, ref)
	fmt.Fprintf(&body, "%04x%s0000%s", len(line)+4, line, pack)
	resp, err := http.Post(url+"/git-receive-pack", "application/x-git-receive-pack-request", &body)
	must(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(t, err)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("receive-pack: %s: %s", resp.Status, raw)
	}
	var lines []string
	for len(raw) >= 4 {
		var n int
		if _, err := fmt.Sscanf(string(raw[:4]), "%04x", &n); err != nil {
			t.Fatalf("report-status: bad pkt-line %q", raw)
		}
		if n == 0 {
			raw = raw[4:]
			continue
		}
		lines = append(lines, strings.TrimSuffix(string(raw[4:n]), "\n"))
		raw = raw[n:]
	}
	return lines
}
