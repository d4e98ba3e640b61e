package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// PR is a pull request's revisions as the check needs them
// (workflow.PRRevisions reads them from GitHub).
type PR struct {
	Number    int
	MergeBase string // where GitHub's diff starts
	Head      string
	Commits   int // in MergeBase..Head
	// FetchURL and FetchRef are where git finds the head's commits.
	FetchURL, FetchRef string
}

// cacheMarker is written into the repository OpenCache creates, so kupdate
// only ever writes into a directory it made itself.
const cacheMarker = "kupdate-check-cache"

// OpenCache opens kupdate check's own bare repository in dir, creating it
// when it does not exist. It holds shallow fetches of pull requests: the
// check never needs more history than a PR's own commits. secrets are the
// Repo's Secrets.
func OpenCache(ctx context.Context, dir string, secrets []string) (*Repo, error) {
	r := &Repo{Dir: dir, Secrets: secrets}
	marker := filepath.Join(dir, cacheMarker)
	switch _, err := os.Stat(marker); {
	case err == nil:
		return r, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("check cache %s: %w", dir, err)
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("check cache %s exists and is not kupdate's (no %s): choose another nixpkgs.cache_dir or remove it", dir, cacheMarker)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("check cache: %w", err)
	}
	if _, err := r.git(ctx, nil, "init", "--quiet", "--bare", "."); err != nil {
		return nil, err
	}
	if err := os.WriteFile(marker, []byte("a bare repository kupdate check fetches pull requests into\n"), 0o644); err != nil {
		return nil, fmt.Errorf("check cache: %w", err)
	}
	return r, nil
}

// PRRef is the local ref a pull request's head is fetched to.
func PRRef(number int) string { return "refs/kupdate/check/pr-" + strconv.Itoa(number) }

// FetchPR fetches the PR's head into r. With shallow (kupdate's own cache
// repository, never a maintainer's checkout, which --depth would make
// shallow) only the PR's commits and their merge base are fetched. It fails
// when the PR moved on since it was read, or the merge base did not come.
func (r *Repo) FetchPR(ctx context.Context, pr PR, shallow bool) error {
	if pr.FetchURL == "" || !strings.HasPrefix(pr.FetchRef, "refs/") || pr.Head == "" || pr.MergeBase == "" {
		return fmt.Errorf("PR #%d: incomplete revisions %+v", pr.Number, pr)
	}
	args := []string{"fetch", "--quiet", "--no-tags", "--no-write-fetch-head"}
	if shallow {
		// Depth counts generations from the head: the merge base is at most
		// one more than the PR's commits away.
		args = append(args, "--depth="+strconv.Itoa(pr.Commits+1))
	}
	args = append(args, "--end-of-options", pr.FetchURL, "+"+pr.FetchRef+":"+PRRef(pr.Number))
	if _, err := r.git(ctx, nil, args...); err != nil {
		return fmt.Errorf("fetching PR #%d (%s of %s): %w", pr.Number, pr.FetchRef, pr.FetchURL, err)
	}
	got, err := r.Resolve(ctx, PRRef(pr.Number))
	if err != nil {
		return err
	}
	if got != pr.Head {
		return fmt.Errorf("PR #%d moved from %s to %s while it was being checked; run the check again", pr.Number, short(pr.Head), short(got))
	}
	if _, err := r.Resolve(ctx, pr.MergeBase); err != nil {
		return fmt.Errorf("PR #%d: its merge base %s did not come with the fetch (its history is deeper than its %d commits); check it in a full checkout with --nixpkgs: %w", pr.Number, short(pr.MergeBase), pr.Commits, err)
	}
	return nil
}
