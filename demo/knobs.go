package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/srcarchive/srcarchivetest"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// What happens between cycles: thin, named pass-throughs to the simulators,
// so tests and the demo read as the story they tell.

// PublishRelease makes kernel.org publish a release (signed in its
// sha256sums.asc at once), replacing the row it supersedes in releases.json
// ("6.12.71" replaces "6.12.70"; a mainline rc or release replaces the
// mainline row).
func (e *Env) PublishRelease(sp kernelorgtest.Spec) error {
	if err := e.KernelOrg.Upsert(sp); err != nil {
		return fmt.Errorf("demo: publishing %s: %w", sp.Version, err)
	}
	return nil
}

// PublishHardened publishes the linux-hardened release tag
// ("v6.12.71-hardened1") with its patch, HardenedPatch(tag).
func (e *Env) PublishHardened(tag string) error {
	err := e.GitHub.PublishRelease(HardenedOwner, HardenedRepo, githubtest.Release{Tag: tag, Assets: []githubtest.Asset{
		{Name: "linux-hardened-" + tag + ".patch", Data: HardenedPatch(tag), ContentType: "text/x-diff"},
	}})
	if err != nil {
		return fmt.Errorf("demo: publishing linux-hardened %s: %w", tag, err)
	}
	e.mu.Lock()
	e.hardened = append(e.hardened, tag)
	e.mu.Unlock()
	return nil
}

// PublishZen publishes a zen-kernel release (v6.18.9-zen1) with its tag
// tarball (srcarchivetest.Kernel: a pure function of the tag, so its hash is
// reproducible).
func (e *Env) PublishZen(tag string) error {
	top := ZenRepo + "-" + strings.TrimPrefix(tag, "v")
	if err := e.GitHub.PublishRelease(ZenOwner, ZenRepo, githubtest.Release{Tag: tag, Source: srcarchivetest.Kernel(top, tag)}); err != nil {
		return fmt.Errorf("demo: publishing zen-kernel %s: %w", tag, err)
	}
	return nil
}

// Hardened lists the linux-hardened tags published, oldest first.
func (e *Env) Hardened() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.hardened)
}

// PRs are the pull requests on NixOS/nixpkgs, by number.
func (e *Env) PRs() []githubtest.PullRequest { return e.GitHub.PRs(Owner, Repo) }

// PR is pull request number of NixOS/nixpkgs.
func (e *Env) PR(number int) (githubtest.PullRequest, error) { return e.GitHub.PR(Owner, Repo, number) }

// BranchSHA is the commit a branch of NixOS/nixpkgs points at ("" if none).
func (e *Env) BranchSHA(branch string) string { return e.GitHub.BranchSHA(Owner, Repo, branch) }

// ForkBranchSHA is the commit a branch of the fork points at ("" if none).
func (e *Env) ForkBranchSHA(branch string) string { return e.GitHub.BranchSHA(ForkOwner, Repo, branch) }

// Approve submits Maintainer's approving review of the PR's current head.
func (e *Env) Approve(number int) error {
	return e.GitHub.Review(Owner, Repo, number, Maintainer, "APPROVED")
}

// RequestChanges submits Maintainer's review asking for changes.
func (e *Env) RequestChanges(number int) error {
	return e.GitHub.Review(Owner, Repo, number, Maintainer, "CHANGES_REQUESTED")
}

// MarkReady takes the PR out of draft, as Maintainer would in the web
// interface.
func (e *Env) MarkReady(number int) error { return e.GitHub.SetDraft(Owner, Repo, number, false) }

// Close closes the PR unmerged, as a maintainer declining it would.
func (e *Env) ClosePR(number int) error { return e.GitHub.ClosePR(Owner, Repo, number) }

// SetCheck posts a commit status on sha as CI would: state "pending",
// "success", "failure" or "error" for context (e.g. "ci/hydra").
func (e *Env) SetCheck(sha, context, state string) error {
	return e.GitHub.SetStatus(Owner, Repo, sha, context, state)
}

// RequireChecks protects branch: merging into it needs every context green.
func (e *Env) RequireChecks(branch string, contexts ...string) error {
	return e.GitHub.Protect(Owner, Repo, branch, githubtest.Protection{RequiredChecks: contexts})
}

// Merge merges the PR as Maintainer, through the REST API (PUT
// /pulls/{number}/merge): a real merge commit on its base, refused as
// GitHub would refuse it (a draft, failing required checks).
func (e *Env) Merge(ctx context.Context, number int) error {
	url := e.GitHub.APIURL() + "repos/" + Owner + "/" + Repo + "/pulls/" + strconv.Itoa(number) + "/merge"
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader([]byte(`{"merge_method":"merge"}`)))
	if err != nil {
		return fmt.Errorf("demo: merging #%d: %w", number, err)
	}
	req.Header.Set("Authorization", "Bearer "+e.maintainerToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.GitHub.Client().Do(req)
	if err != nil {
		return fmt.Errorf("demo: merging #%d: %w", number, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		var msg struct{ Message string }
		json.Unmarshal(body, &msg)
		return fmt.Errorf("demo: merging #%d: GitHub answered %s: %s", number, resp.Status, strings.TrimSpace(msg.Message))
	}
	return nil
}

// PublishUnsigned makes kernel.org publish a release whose tarball its
// signed sha256sums.asc does not list yet, as happens for a while after a
// release: kupdate holds it back until Sign.
func (e *Env) PublishUnsigned(sp kernelorgtest.Spec) error {
	if err := e.PublishRelease(sp); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Contains(e.unsigned, sp.Version) {
		e.unsigned = append(e.unsigned, sp.Version)
	}
	e.omitUnsigned(sp.Version)
	return nil
}

// Sign makes kernel.org list version's tarball in its signed sha256sums.asc,
// ending PublishUnsigned's wait.
func (e *Env) Sign(version string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.unsigned = slices.DeleteFunc(e.unsigned, func(v string) bool { return v == version })
	e.omitUnsigned(version)
}

// Unsigned lists the releases published but not yet signed, oldest first.
func (e *Env) Unsigned() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.unsigned)
}

// omitUnsigned sets the fault of the sha256sums.asc that lists (or will
// list) version: it leaves out every unsigned tarball it would list.
// e.mu is held.
func (e *Env) omitUnsigned(version string) {
	path := kernelorgtest.ChecksumsPath(version)
	var omit []string
	for _, v := range e.unsigned {
		if kernelorgtest.ChecksumsPath(v) == path {
			omit = append(omit, "linux-"+v+".tar.xz")
		}
	}
	if len(omit) == 0 {
		e.KernelOrg.ClearFault(path)
		return
	}
	e.KernelOrg.SetFault(path, kernelorgtest.Fault{OmitFiles: omit})
}
