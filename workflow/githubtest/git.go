package githubtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// git runs the git CLI in a bare repository. Identity, dates and config are
// fixed so that merge commits made by the simulator are reproducible and the
// host's git configuration cannot leak in.
func git(ctx context.Context, dir string, when time.Time, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	date := when.UTC().Format(time.RFC3339)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=GitHub",
		"GIT_AUTHOR_EMAIL=noreply@github.com",
		"GIT_COMMITTER_NAME=GitHub",
		"GIT_COMMITTER_EMAIL=noreply@github.com",
		"GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_DATE="+date,
	)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// gitWithIndex is git with a private index file, for building trees in a
// bare repository without a worktree.
func gitWithIndex(ctx context.Context, dir, index string, when time.Time, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_INDEX_FILE="+index, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// heads lists the branches of the bare repository at dir: name -> commit.
func heads(ctx context.Context, dir string) (map[string]string, error) {
	out, err := git(ctx, dir, time.Time{}, "", "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		sha, ref, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		m[strings.TrimPrefix(ref, "refs/heads/")] = sha
	}
	return m, nil
}

// sortedNames returns the keys of m in order.
func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// resolve returns the commit a branch or commit id names in dir, or "" when
// there is none.
func resolve(ctx context.Context, dir, rev string) string {
	out, err := git(ctx, dir, time.Time{}, "", "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return ""
	}
	return out
}

// commitFiles writes a commit on branch (a root commit when the branch does
// not exist) that sets files; returns its id.
func commitFiles(ctx context.Context, dir, branch string, files map[string]string, message string, when time.Time) (string, error) {
	parent := resolve(ctx, dir, "refs/heads/"+branch)
	tmp, err := os.MkdirTemp("", "githubtest-index-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	index := filepath.Join(tmp, "index")
	if parent != "" {
		if _, err := gitWithIndex(ctx, dir, index, when, "", "read-tree", parent); err != nil {
			return "", err
		}
	}
	paths := sortedNames(files)
	for _, p := range paths {
		blob, err := gitWithIndex(ctx, dir, index, when, files[p], "hash-object", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		if _, err := gitWithIndex(ctx, dir, index, when, "", "update-index", "--add", "--cacheinfo", "100644,"+blob+","+p); err != nil {
			return "", err
		}
	}
	tree, err := gitWithIndex(ctx, dir, index, when, "", "write-tree")
	if err != nil {
		return "", err
	}
	args := []string{"commit-tree", tree, "-m", message}
	if parent != "" {
		args = append(args, "-p", parent)
	}
	commit, err := git(ctx, dir, when, "", args...)
	if err != nil {
		return "", err
	}
	if _, err := git(ctx, dir, when, "", "update-ref", "refs/heads/"+branch, commit, parent); err != nil {
		return "", err
	}
	return commit, nil
}

// errConflict is a merge that does not apply cleanly.
var errConflict = errors.New("merge conflict")

// mergeTree computes the merge of head into base without touching any ref:
// the tree id, or errConflict.
func mergeTree(ctx context.Context, dir, base, head string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", "merge-tree", "--write-tree", "--no-messages", base, head)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return "", errConflict
	}
	if err != nil {
		return "", fmt.Errorf("git merge-tree %s %s in %s: %w: %s", base, head, dir, err, strings.TrimSpace(errb.String()))
	}
	tree, _, _ := strings.Cut(strings.TrimSpace(out.String()), "\n")
	return tree, nil
}

// mergeCommit merges head into branch in dir with a real merge commit and
// moves the branch, guarded by its expected old value.
func mergeCommit(ctx context.Context, dir, branch, base, head, message string, when time.Time) (string, error) {
	tree, err := mergeTree(ctx, dir, base, head)
	if err != nil {
		return "", err
	}
	commit, err := git(ctx, dir, when, "", "commit-tree", tree, "-p", base, "-p", head, "-m", message)
	if err != nil {
		return "", err
	}
	if _, err := git(ctx, dir, when, "", "update-ref", "refs/heads/"+branch, commit, base); err != nil {
		return "", err
	}
	return commit, nil
}

// fetchInto copies the commits of ref in src into dst under dstRef, the way
// GitHub keeps refs/pull/N/head of a fork's PR in the base repository.
func fetchInto(ctx context.Context, dst, src, srcRef, dstRef string) error {
	_, err := git(ctx, dst, time.Time{}, "", "fetch", "--quiet", "--no-tags", src, "+"+srcRef+":"+dstRef)
	return err
}

// revList counts the commits reachable from head but not from base, newest
// first, at most limit ids returned.
func revList(ctx context.Context, dir, base, head string, limit int) (count int, ids []string, err error) {
	out, err := git(ctx, dir, time.Time{}, "", "rev-list", base+".."+head)
	if err != nil {
		return 0, nil, err
	}
	if out == "" {
		return 0, nil, nil
	}
	all := strings.Split(out, "\n")
	if len(all) > limit {
		ids = all[:limit]
	} else {
		ids = all
	}
	return len(all), ids, nil
}
