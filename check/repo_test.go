package check

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// testRepo is a real git repository in a temporary directory.
type testRepo struct {
	t   testing.TB
	dir string
}

func newTestRepo(t testing.TB) *testRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required: %v", err)
	}
	r := &testRepo{t: t, dir: t.TempDir()}
	r.run("init", "-q", "-b", "main")
	return r
}

func (r *testRepo) run(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.org",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.org",
		"GIT_AUTHOR_DATE=2026-01-10T12:00:00Z", "GIT_COMMITTER_DATE=2026-01-10T12:00:00Z",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (a nil value deletes the file) and commits them.
func (r *testRepo) commit(title string, files map[string][]byte) string {
	r.t.Helper()
	for name, data := range files {
		p := filepath.Join(r.dir, filepath.FromSlash(name))
		if data == nil {
			if err := os.Remove(p); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.run("add", "-A")
	r.run("commit", "-q", "--allow-empty", "-m", title)
	return r.run("rev-parse", "HEAD")
}

// copyTree commits every file below dir.
func (r *testRepo) commitDir(title, dir string) string {
	r.t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return r.commit(title, files)
}

func TestRepo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr := newTestRepo(t)
	c1 := tr.commit("first", map[string][]byte{"a/b.txt": []byte("one\n"), "c.txt": []byte("c\n")})
	c2 := tr.commit("linux_6_12: 6.12.63 -> 6.12.64", map[string][]byte{"a/b.txt": []byte("two\n")})
	tr.run("checkout", "-q", "-b", "side", c1)
	c3 := tr.commit("side", map[string][]byte{"d.txt": []byte("d\n")})
	tr.run("checkout", "-q", "main")
	tr.run("merge", "-q", "--no-ff", "-m", "Merge side", "side")
	merge := tr.run("rev-parse", "HEAD")

	r := &Repo{Dir: tr.dir}
	if got, err := r.Resolve(ctx, "main~1"); err != nil || got != c2 {
		t.Errorf("Resolve(main~1) = %q, %v; want %q", got, err, c2)
	}
	if _, err := r.Resolve(ctx, "nosuchbranch"); err == nil || !strings.Contains(err.Error(), `revision "nosuchbranch" is not a commit`) {
		t.Errorf("Resolve(nosuchbranch) error = %v", err)
	}
	if _, err := r.Resolve(ctx, "--output=x"); err == nil {
		t.Errorf("Resolve accepted an option as a revision")
	}
	if got, err := r.MergeBase(ctx, c2, c3); err != nil || got != c1 {
		t.Errorf("MergeBase = %q, %v; want %q", got, err, c1)
	}

	commits, err := r.Commits(ctx, c1, merge)
	if err != nil {
		t.Fatal(err)
	}
	want := []Commit{
		{SHA: c3, Parents: []string{c1}, Title: "side", Files: []string{"d.txt"}},
		{SHA: c2, Parents: []string{c1}, Title: "linux_6_12: 6.12.63 -> 6.12.64", Files: []string{"a/b.txt"}},
		{SHA: merge, Parents: []string{c2, c3}, Title: "Merge side"},
	}
	// --topo-order may put either side branch first; the merge is last.
	if commits[0].SHA == c2 {
		want[0], want[1] = want[1], want[0]
	}
	if diff := cmp.Diff(want, commits); diff != "" {
		t.Errorf("Commits (-want +got):\n%s", diff)
	}

	b, err := r.ReadFile(ctx, c1, "a/b.txt")
	if err != nil || string(b) != "one\n" {
		t.Errorf("ReadFile(c1, a/b.txt) = %q, %v", b, err)
	}
	if _, err := r.ReadFile(ctx, c1, "d.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := r.ReadFile(ctx, c1, "a"); err == nil {
		t.Errorf("ReadFile of a directory succeeded")
	}

	// The revision as an fs.FS passes the standard library's conformance test.
	if err := fstest.TestFS(r.FS(ctx, merge), "a/b.txt", "c.txt", "d.txt"); err != nil {
		t.Error(err)
	}
}

func TestFetchPR(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	up := newTestRepo(t)
	base := up.commit("base", map[string][]byte{"a": []byte("1\n")})
	up.run("checkout", "-q", "-b", "pr")
	up.commit("one", map[string][]byte{"a": []byte("2\n")})
	head := up.commit("two", map[string][]byte{"a": []byte("3\n")})
	url := "file://" + up.dir

	dir := filepath.Join(t.TempDir(), "check.git")
	r, err := OpenCache(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCache(ctx, dir, nil); err != nil {
		t.Errorf("reopening the cache: %v", err)
	}
	pr := PR{Number: 7, MergeBase: base, Head: head, Commits: 2, FetchURL: url, FetchRef: "refs/heads/pr"}
	if err := r.FetchPR(ctx, pr, true); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Resolve(ctx, PRRef(7)); err != nil || got != head {
		t.Errorf("%s = %s, %v; want %s", PRRef(7), got, err, head)
	}
	if shallow, err := os.ReadFile(filepath.Join(dir, "shallow")); err != nil || strings.TrimSpace(string(shallow)) != base {
		t.Errorf("shallow boundary %q, %v; want the merge base %s", shallow, err, base)
	}
	if got, err := r.ReadFile(ctx, base, "a"); err != nil || string(got) != "1\n" {
		t.Errorf("the merge base's file: %q, %v", got, err)
	}

	for _, tc := range []struct {
		pr   PR
		want string
	}{
		{PR{Number: 7, MergeBase: base, Head: base, Commits: 2, FetchURL: url, FetchRef: "refs/heads/pr"},
			"PR #7 moved from " + base[:12] + " to " + head[:12] + " while it was being checked; run the check again"},
		{PR{Number: 8, MergeBase: "1111111111111111111111111111111111111111", Head: head, Commits: 2, FetchURL: url, FetchRef: "refs/heads/pr"},
			"PR #8: its merge base 111111111111 did not come with the fetch"},
		{PR{Number: 9, MergeBase: base, Head: head, Commits: 2, FetchURL: url, FetchRef: "refs/heads/nosuch"},
			"fetching PR #9 (refs/heads/nosuch of " + url + "): git fetch"},
		{PR{Number: 10, MergeBase: base, Head: head, FetchURL: url, FetchRef: "pr"}, "PR #10: incomplete revisions"},
	} {
		if err := r.FetchPR(ctx, tc.pr, true); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FetchPR(%+v) error = %v, want it to contain %q", tc.pr, err, tc.want)
		}
	}

	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCache(ctx, foreign, nil); err == nil || !strings.Contains(err.Error(), "exists and is not kupdate's") {
		t.Errorf("OpenCache of a foreign directory: %v", err)
	}
}
