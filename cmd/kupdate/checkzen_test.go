package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/check"
	"github.com/kupdate/kupdate/family/zen"
	"github.com/kupdate/kupdate/srcarchive/srcarchivetest"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// kupdate check verifies a zen bump against zen-kernel's release and its
// tarball's hash, with nothing in check knowing zen (the registry gives
// it the family), and names the line of a wrong hash.
func TestCheckZen(t *testing.T) {
	t.Parallel()
	s := newCheckSetup(t, false)
	if err := s.gh.CreateRepo("zen-kernel", "zen-kernel", "main"); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"v6.18.4-zen1", "v6.18.9-zen1"} {
		if err := s.gh.PublishRelease("zen-kernel", "zen-kernel", githubtest.Release{Tag: tag, Source: srcarchivetest.Kernel("zen-kernel-"+tag[1:], tag)}); err != nil {
			t.Fatal(err)
		}
	}
	work := filepath.Join(t.TempDir(), "work")
	gitIn(t, filepath.Dir(work), "clone", "--quiet", "--branch", "staging-nixos", s.gh.GitURL("contributor", "nixpkgs"), work)
	path := filepath.Join(work, filepath.FromSlash(zen.Path))
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	commit := func(branch, hash string) {
		gitIn(t, work, "checkout", "--quiet", "-b", branch, "origin/staging-nixos")
		b := bytes.Replace(orig, []byte(`version = "6.18.4"; # zen`), []byte(`version = "6.18.9"; # zen`), 1)
		b = bytes.Replace(b, []byte("sha256-pAddOc2WneZbvp1VIcX+BOEzO2lSDnYvFgBnI0bUCUk="), []byte(hash), 1)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		gitIn(t, work, "commit", "--quiet", "-am", "linuxKernel.kernels.linux_zen: 6.18.4-zen1 -> 6.18.9-zen1")
	}
	// The hash Nix computes for the tarball (family/zen's nix test builds it).
	const good = "sha256-oscx6pKBXa24U2xEmVYf1cCEw1gBlPtSSHpkvawmZkQ="
	commit("zen", good)
	code, stdout, stderr := s.kupdate("check", "--nixpkgs", work, "--base", "origin/staging-nixos", "--head", "zen")
	base := gitIn(t, work, "rev-parse", "origin/staging-nixos")
	head := gitIn(t, work, "rev-parse", "zen")
	want := fmt.Sprintf("kupdate check %s..%s (1 commit): pass: 1 kernel change verified against zen-kernel\nok %s:20: \"zen\" 6.18.4-zen1 -> 6.18.9-zen1\n", base[:12], head[:12], zen.Path)
	if code != exitOK || stdout != want {
		t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", code, stdout, want, stderr)
	}

	// The hash of the release it replaces: exit 3, the finding at the line.
	commit("wrong", "sha256-pAddOc2WneZbvp1VIcX+BOEzO2lSDnYvFgBnI0bUCUk=")
	code, stdout, stderr = s.kupdate("check", "--nixpkgs", work, "--base", "origin/staging-nixos", "--head", "wrong", "--json")
	if code != exitFindings {
		t.Fatalf("exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	var rep check.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	wantF := []check.Finding{{File: zen.Path, Line: 22, Rule: check.RuleHash,
		Message: "linux_zen: sha256-pAddOc2WneZbvp1VIcX+BOEzO2lSDnYvFgBnI0bUCUk= is not the hash of v6.18.9-zen1's tarball: want " + good}}
	if d := cmp.Diff(wantF, rep.Findings); d != "" || rep.Conclusion != check.Fail {
		t.Errorf("conclusion %s, findings (-want +got):\n%s", rep.Conclusion, d)
	}
}
