package gitops_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/gitops/gittest"
)

// checkout is a maintainer's clone of a synthetic nixpkgs, on branch "work".
func checkout(t *testing.T) (dir, upstream string) {
	t.Helper()
	upstream = filepath.Join(t.TempDir(), "upstream.git")
	if err := (gittest.Synth{Files: 400, Commits: 3, Branch: base, Seed: 7}).Generate(context.Background(), upstream); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	gitCmd(t, dir, "clone", "-q", upstream, ".")
	gitCmd(t, dir, "switch", "-q", "-c", "work")
	return dir, upstream
}

func openLocal(t *testing.T, dir string) *gitops.Repo {
	t.Helper()
	r, err := gitops.OpenLocal(context.Background(), dir, opts(day1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestCommitLocal(t *testing.T) {
	t.Parallel()
	dir, _ := checkout(t)
	head := gitCmd(t, dir, "rev-parse", "HEAD")
	// The maintainer's own unfinished work elsewhere stays as it is.
	unrelated := strings.SplitN(gitCmd(t, dir, "ls-files", "pkgs/by-name"), "\n", 2)[0]
	mine := []byte("work in progress\n")
	if err := os.WriteFile(filepath.Join(dir, unrelated), mine, 0o644); err != nil {
		t.Fatal(err)
	}
	untracked := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(untracked, []byte("todo\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := openLocal(t, dir)
	if r.Base().String() != head {
		t.Fatalf("Base() = %s, want HEAD %s", r.Base(), head)
	}
	hashes, err := r.CommitLocal(context.Background(), plan1())
	if err != nil {
		t.Fatal(err)
	}
	if got := gitCmd(t, dir, "log", "--format=%s", head+"..HEAD"); got != "linux_7_0: init at 7.0\nlinux_6_18: 6.18.2 -> 6.18.3\nlinux_6_12: 6.12.63 -> 6.12.64" {
		t.Errorf("commits:\n%s", got)
	}
	if got := gitCmd(t, dir, "rev-parse", "HEAD"); got != hashes[2].String() {
		t.Errorf("HEAD = %s, want %s", got, hashes[2])
	}
	if got := gitCmd(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/work" {
		t.Errorf("HEAD is %s, want still refs/heads/work", got)
	}
	if got := gitCmd(t, dir, "show", "--format=", "--name-only", "HEAD"); got != strings.Join([]string{kernelsOrg, aliases, kernelsNix}, "\n") {
		t.Errorf("init commit files = %q", got)
	}
	for path, want := range plan1()[2].Files {
		got, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil || string(got) != string(want) {
			t.Errorf("worktree %s = %q, %v; want %q", path, got, err, want)
		}
	}
	// The index holds the new blobs with the files' stat data: git sees
	// them clean without re-reading them (diff-files does not refresh).
	if got := gitCmd(t, dir, "diff-files", "--name-only"); got != unrelated {
		t.Errorf("git diff-files = %q, want only the maintainer's %s", got, unrelated)
	}
	if got := gitCmd(t, dir, "status", "--porcelain"); got != "M "+unrelated+"\n?? notes.txt" && got != " M "+unrelated+"\n?? notes.txt" {
		t.Errorf("git status:\n%s", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, unrelated)); string(got) != string(mine) {
		t.Errorf("unrelated file changed: %q", got)
	}
	if got, _ := os.ReadFile(untracked); string(got) != "todo\n" {
		t.Errorf("untracked file changed: %q", got)
	}
	gitCmd(t, dir, "fsck", "--strict")
	if _, err := os.Stat(filepath.Join(dir, ".git", "index.lock")); !os.IsNotExist(err) {
		t.Errorf("index.lock left behind: %v", err)
	}

	// The same commits at the same time are the same hashes in a managed
	// clone: nothing depends on where they are made.
	w := newWorld(t, "file")
	built := build(t, w.open(day1), plan1())
	if built[0].Hashes[0] != hashes[0] || built[0].Hashes[1] != hashes[1] {
		t.Errorf("managed hashes %v differ from local %v", built[0].Hashes, hashes[:2])
	}
}

func TestCommitLocalRefusesDirty(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string // the files named
	}{
		{"modified", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, kernelsOrg), "{}\n")
		}, kernelsOrg}, // a plain modification goes without saying
		{"staged", func(t *testing.T, dir string) {
			orig, _ := os.ReadFile(filepath.Join(dir, aliases))
			writeFile(t, filepath.Join(dir, aliases), "{}\n")
			gitCmd(t, dir, "add", aliases)
			writeFile(t, filepath.Join(dir, aliases), string(orig)) // the worktree as HEAD, the index not
		}, aliases + " (staged)"},
		{"deleted", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, kernelsNix))
		}, kernelsNix + " (deleted)"},
		{"two files", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, kernelsOrg), "{}\n")
			os.Remove(filepath.Join(dir, kernelsNix))
		}, kernelsOrg + ", " + kernelsNix + " (deleted)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, _ := checkout(t)
			tc.setup(t, dir)
			head := gitCmd(t, dir, "rev-parse", "HEAD")
			status := gitCmd(t, dir, "status", "--porcelain")
			r := openLocal(t, dir)
			_, err := r.CommitLocal(context.Background(), plan1())
			want := fmt.Sprintf("nixpkgs checkout %s: uncommitted changes in files kupdate would change: %s; commit or stash them, then run kupdate again", dir, tc.want)
			if errText(err) != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
			var dirty *gitops.DirtyError
			if !errors.As(err, &dirty) || dirty.Dir != dir {
				t.Errorf("error %#v is not a *DirtyError for %s", err, dir)
			}
			// CheckClean is the same check, alone.
			if err := r.CheckClean(context.Background(), []string{aliases, kernelsOrg, kernelsNix}); errText(err) != want {
				t.Errorf("CheckClean:\n%v\nwant:\n%s", err, want)
			}
			if got := gitCmd(t, dir, "rev-parse", "HEAD"); got != head {
				t.Errorf("HEAD moved to %s", got)
			}
			if got := gitCmd(t, dir, "status", "--porcelain"); got != status {
				t.Errorf("status changed:\n%s\nwas:\n%s", got, status)
			}
			if _, err := os.Stat(filepath.Join(dir, ".git", "index.lock")); !os.IsNotExist(err) {
				t.Errorf("index.lock left behind: %v", err)
			}
		})
	}
}

// A file an init creates must not replace the maintainer's untracked one.
func TestCommitLocalRefusesUntrackedTarget(t *testing.T) {
	t.Parallel()
	dir, _ := checkout(t)
	newFile := "pkgs/os-specific/linux/kernel/linux-7.0.nix"
	writeFile(t, filepath.Join(dir, newFile), "mine\n")
	c := plan1()[2]
	c.Files[newFile] = []byte("kupdate's\n")
	_, err := openLocal(t, dir).CommitLocal(context.Background(), []gitops.Commit{c})
	want := fmt.Sprintf("nixpkgs checkout %s: uncommitted changes in files kupdate would change: %s (untracked, would be overwritten); commit or stash them, then run kupdate again", dir, newFile)
	if errText(err) != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestCommitLocalIndexLocked(t *testing.T) {
	t.Parallel()
	dir, _ := checkout(t)
	lock := filepath.Join(dir, ".git", "index.lock")
	writeFile(t, lock, "")
	_, err := openLocal(t, dir).CommitLocal(context.Background(), plan1())
	want := fmt.Sprintf("nixpkgs checkout %s: %s exists: another git command is running there; wait for it (or remove the lock if none is) and run kupdate again", dir, lock)
	if errText(err) != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Errorf("someone else's lock was removed: %v", err)
	}
}

// A detached HEAD and a linked worktree (index in .git/worktrees/<name>).
func TestCommitLocalDetachedWorktree(t *testing.T) {
	t.Parallel()
	dir, _ := checkout(t)
	wt := filepath.Join(t.TempDir(), "wt")
	gitCmd(t, dir, "worktree", "add", "-q", "--detach", wt)
	head := gitCmd(t, wt, "rev-parse", "HEAD")
	hashes, err := openLocal(t, wt).CommitLocal(context.Background(), plan1()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if got := gitCmd(t, wt, "rev-parse", "HEAD"); got != hashes[0].String() {
		t.Errorf("worktree HEAD = %s, want %s", got, hashes[0])
	}
	if got := gitCmd(t, dir, "rev-parse", "work"); got != head {
		t.Errorf("branch work moved to %s", got)
	}
	if got := gitCmd(t, wt, "status", "--porcelain"); got != "" {
		t.Errorf("worktree status:\n%s", got)
	}
	if got := gitCmd(t, dir, "status", "--porcelain"); got != "" {
		t.Errorf("main checkout status:\n%s", got)
	}
}

func TestOpenManagedDirectory(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "file")
	ctx := context.Background()

	t.Run("not kupdate's", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		_, err := gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, opts(day1))
		want := fmt.Sprintf("managed clone %s: the directory exists but kupdate did not make it; remove it or set nixpkgs.cache_dir elsewhere", dir)
		if errText(err) != want {
			t.Errorf("error:\n%v\nwant:\n%s", err, want)
		}
	})
	t.Run("no such branch", func(t *testing.T) {
		t.Parallel()
		_, err := gitops.OpenManaged(ctx, filepath.Join(t.TempDir(), "c"), w.upstreamRemote(), "nope", opts(day1))
		want := fmt.Sprintf("fetching nope from %s: the remote has no branch nope; check nixpkgs.base and nixpkgs.remote", w.upstreamURL)
		if errText(err) != want {
			t.Errorf("error:\n%v\nwant:\n%s", err, want)
		}
	})
	t.Run("objects lost", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "c")
		r, err := gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, opts(day1))
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*"))
		for _, p := range packs {
			os.Remove(p)
		}
		r, err = gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, opts(day1))
		if err != nil {
			t.Fatalf("after losing its packs: %v", err)
		}
		defer r.Close()
		if got := gitCmd(t, w.upstream, "rev-parse", base); r.Base().String() != got {
			t.Errorf("Base() = %s, want %s", r.Base(), got)
		}
		gitCmd(t, dir, "fsck", "--connectivity-only")
	})
	t.Run("another remote", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "c")
		r, err := gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, opts(day1))
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		other := filepath.Join(t.TempDir(), "other.git")
		if err := (gittest.Synth{Files: 300, Commits: 2, Branch: base, Seed: 99}).Generate(ctx, other); err != nil {
			t.Fatal(err)
		}
		r, err = gitops.OpenManaged(ctx, dir, gitops.Remote{URL: "file://" + other}, base, opts(day1))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if want := gitCmd(t, other, "rev-parse", base); r.Base().String() != want {
			t.Errorf("Base() = %s, want %s", r.Base(), want)
		}
		gitCmd(t, dir, "fsck", "--connectivity-only", r.Base().String())
	})
	t.Run("too many packs", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "c")
		r, err := gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, opts(day1))
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		for i := range 33 {
			writeFile(t, filepath.Join(dir, "objects", "pack", fmt.Sprintf("pack-junk%d.pack", i)), "")
		}
		r, err = gitops.OpenManaged(ctx, dir, w.upstreamRemote(), base, opts(day1))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
		if len(packs) != 1 {
			t.Errorf("%d packs after re-cloning, want 1", len(packs))
		}
		if _, err := os.Stat(dir + ".old"); !os.IsNotExist(err) {
			t.Errorf("old clone left behind: %v", err)
		}
	})
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "file")
	r := w.open(day1)
	same, err := r.ReadFile(context.Background(), r.Base(), kernelsOrg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"no change", map[string][]byte{kernelsOrg: same}, `change "t": its files are already as planned; nothing to commit`},
		{"absolute", map[string][]byte{"/etc/passwd": nil}, `change "t": file path "/etc/passwd": want a slash path relative to the repository root`},
		{"dot dot", map[string][]byte{"pkgs/../x": {}}, `change "t": file path "pkgs/../x": want a slash path relative to the repository root`},
		{".git", map[string][]byte{".git/config": {}}, `change "t": file path ".git/config": want a slash path relative to the repository root`},
		{"directory", map[string][]byte{"pkgs/top-level": {}}, `change "t": file path "pkgs/top-level": the repository has a directory there, not a regular file`},
		{"through a file", map[string][]byte{aliases + "/x": {}}, `change "t": path "pkgs/top-level/aliases.nix": the repository has a file there, not a directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := plan1()[0]
			c.Change.Title, c.Files = "t", tc.files
			_, err := r.Build(context.Background(), r.Base(), gitops.Branch{Name: "kupdate/x", Base: base, Commits: []gitops.Commit{c}})
			want := fmt.Sprintf("building kupdate/x on %s: %s", r.Base().String()[:12], tc.want)
			if errText(err) != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}

	// A new file in a new directory, and a removal.
	c := plan1()[0]
	c.Files = map[string][]byte{"pkgs/new/dir/file.nix": []byte("{ }\n"), aliases: nil}
	b, err := r.Build(context.Background(), r.Base(), gitops.Branch{Name: "kupdate/x", Base: base, Commits: []gitops.Commit{c}})
	if err != nil {
		t.Fatal(err)
	}
	got := gitCmd(t, w.cache, "diff-tree", "-r", "--name-status", "--no-commit-id", b.Head().String())
	if want := "A\tpkgs/new/dir/file.nix\nD\t" + aliases; got != want {
		t.Errorf("diff-tree:\n%s\nwant:\n%s", got, want)
	}
	gitCmd(t, w.cache, "fsck", "--strict", "--connectivity-only")
	d, err := r.Diff(context.Background(), b.Head())
	if err != nil {
		t.Fatal(err)
	}
	if want := gitCmd(t, w.cache, "show", "--full-index", "--format=", b.Head().String()); strings.TrimSpace(d) != want {
		t.Errorf("Diff:\n%s\nwant (git show):\n%s", d, want)
	}
	if _, err := r.ReadFile(context.Background(), plumbing.ZeroHash, aliases); err == nil {
		t.Error("ReadFile of the zero commit succeeded")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, "file")
	r := w.open(day1)
	built := build(t, r, plan1())
	dir := filepath.Join(t.TempDir(), "tree")
	listing := func() string {
		var files []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() != ".kupdate-export" && d.Name() != ".kupdate-lock" {
				rel, _ := filepath.Rel(dir, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		return strings.Join(files, "\n")
	}
	check := func(commit plumbing.Hash) {
		t.Helper()
		if got, want := listing(), gitCmd(t, w.cache, "ls-tree", "-r", "--name-only", commit.String()); got != want {
			t.Errorf("export of %s lists\n%s\nwant\n%s", commit, got, want)
		}
		for _, f := range []string{kernelsOrg, aliases, kernelsNix} {
			got, gerr := os.ReadFile(filepath.Join(dir, f))
			want, err := r.ReadFile(ctx, commit, f)
			if (err != nil) != (gerr != nil) || string(got) != string(want) {
				t.Errorf("export of %s: %s differs (%v, %v)", commit, f, err, gerr)
			}
		}
	}
	for _, c := range []plumbing.Hash{r.Base(), built[0].Head(), built[1].Head(), r.Base()} {
		if err := r.Export(ctx, c, dir); err != nil {
			t.Fatal(err)
		}
		check(c)
	}
	// A new file, a removal, and an export cut short (no marker): redone whole.
	c := plan1()[0]
	c.Files = map[string][]byte{"pkgs/new/dir/file.nix": []byte("{ }\n"), aliases: nil}
	b, err := r.Build(ctx, r.Base(), gitops.Branch{Name: "kupdate/x", Base: base, Commits: []gitops.Commit{c}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Export(ctx, b.Head(), dir); err != nil {
		t.Fatal(err)
	}
	check(b.Head())
	os.Remove(filepath.Join(dir, ".kupdate-export"))
	writeFile(t, filepath.Join(dir, "stray"), "left by an interrupted run\n")
	if err := r.Export(ctx, built[1].Head(), dir); err != nil {
		t.Fatal(err)
	}
	check(built[1].Head())
}

func TestWriteLocal(t *testing.T) {
	t.Parallel()
	dir, _ := checkout(t)
	head := gitCmd(t, dir, "rev-parse", "HEAD")
	if err := openLocal(t, dir).WriteLocal(context.Background(), plan1()); err != nil {
		t.Fatal(err)
	}
	if got := gitCmd(t, dir, "rev-parse", "HEAD"); got != head {
		t.Errorf("HEAD moved to %s", got)
	}
	if got := gitCmd(t, dir, "status", "--porcelain"); got != strings.TrimSpace(strings.Join([]string{" M " + kernelsOrg, " M " + aliases, " M " + kernelsNix}, "\n")) {
		t.Errorf("status:\n%s", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, kernelsOrg)); string(got) != json3 {
		t.Errorf("kernels-org.json = %q, want the last change's", got)
	}
	// Run again: now the files differ from HEAD, and kupdate says so.
	err := openLocal(t, dir).WriteLocal(context.Background(), plan1())
	if !strings.Contains(errText(err), "uncommitted changes in files kupdate would change: "+kernelsOrg+", ") {
		t.Errorf("second run: %v", err)
	}
}

// writeFiles writes commits' final content into the checkout as a caller of
// CommitWritten does (nil: removed).
func writeFiles(t *testing.T, dir string, commits []gitops.Commit) {
	t.Helper()
	for _, c := range commits {
		for p, data := range c.Files {
			if data == nil {
				if err := os.Remove(filepath.Join(dir, p)); err != nil {
					t.Fatal(err)
				}
				continue
			}
			writeFile(t, filepath.Join(dir, p), string(data))
		}
	}
}

// CommitWritten commits what the caller wrote (and validated) in the
// worktree: the same commits as CommitLocal, the worktree as written, the
// index up to date, the maintainer's other work untouched.
func TestCommitWritten(t *testing.T) {
	t.Parallel()
	dir, _ := checkout(t)
	head := gitCmd(t, dir, "rev-parse", "HEAD")
	unrelated := strings.SplitN(gitCmd(t, dir, "ls-files", "pkgs/by-name"), "\n", 2)[0]
	writeFile(t, filepath.Join(dir, unrelated), "work in progress\n")
	r := openLocal(t, dir)
	ctx := context.Background()
	if err := r.CheckClean(ctx, []string{kernelsOrg, aliases, kernelsNix}); err != nil {
		t.Fatalf("CheckClean of a checkout clean at those paths: %v", err)
	}

	var hashes []plumbing.Hash
	for _, c := range plan1() {
		writeFiles(t, dir, []gitops.Commit{c})
		h, err := r.CommitWritten(ctx, []gitops.Commit{c})
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h...)
	}
	// A removal the caller made.
	rm := gitops.Commit{Change: family.Change{Title: "drop aliases"}, Files: map[string][]byte{aliases: nil}}
	writeFiles(t, dir, []gitops.Commit{rm})
	h, err := r.CommitWritten(ctx, []gitops.Commit{rm})
	if err != nil {
		t.Fatal(err)
	}
	if got := gitCmd(t, dir, "log", "--format=%s", head+"..HEAD"); got != "drop aliases\nlinux_7_0: init at 7.0\nlinux_6_18: 6.18.2 -> 6.18.3\nlinux_6_12: 6.12.63 -> 6.12.64" {
		t.Errorf("commits:\n%s", got)
	}
	if got := gitCmd(t, dir, "rev-parse", "HEAD"); got != h[0].String() || r.Base() != h[0] {
		t.Errorf("HEAD = %s, Base() = %s, want %s", got, r.Base(), h[0])
	}
	if got := gitCmd(t, dir, "diff-files", "--name-only"); got != unrelated {
		t.Errorf("git diff-files = %q, want only the maintainer's %s", got, unrelated)
	}
	if got := gitCmd(t, dir, "status", "--porcelain"); got != "M "+unrelated && got != " M "+unrelated {
		t.Errorf("git status:\n%s", got)
	}
	gitCmd(t, dir, "fsck", "--strict")

	// Commit by commit, at the same time: the hashes CommitLocal makes in
	// one go.
	other, _ := checkout(t)
	want, err := openLocal(t, other).CommitLocal(ctx, plan1())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(hashes) != fmt.Sprint(want) {
		t.Errorf("CommitWritten made %v, CommitLocal %v", hashes, want)
	}
}

// CommitWritten refuses a worktree that does not hold what the caller wrote,
// or an index that differs from HEAD, and leaves the worktree to the caller.
func TestCommitWrittenRefuses(t *testing.T) {
	t.Parallel()
	c := plan1()[0] // kernels-org.json only
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"changed", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, kernelsOrg), "{}\n")
		}, kernelsOrg + " (changed since it was written)"},
		{"not written", func(t *testing.T, dir string) {}, kernelsOrg + " (changed since it was written)"},
		{"deleted", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, kernelsOrg))
		}, kernelsOrg + " (deleted since it was written)"},
		{"staged", func(t *testing.T, dir string) {
			writeFiles(t, dir, []gitops.Commit{c})
			gitCmd(t, dir, "add", kernelsOrg)
		}, kernelsOrg + " (staged)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, _ := checkout(t)
			if tc.name != "not written" {
				writeFiles(t, dir, []gitops.Commit{c})
			}
			tc.setup(t, dir)
			head := gitCmd(t, dir, "rev-parse", "HEAD")
			status := gitCmd(t, dir, "status", "--porcelain")
			before, _ := os.ReadFile(filepath.Join(dir, kernelsOrg))
			_, err := openLocal(t, dir).CommitWritten(context.Background(), []gitops.Commit{c})
			want := fmt.Sprintf("nixpkgs checkout %s: uncommitted changes in files kupdate would change: %s; commit or stash them, then run kupdate again", dir, tc.want)
			if errText(err) != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
			if got := gitCmd(t, dir, "rev-parse", "HEAD"); got != head {
				t.Errorf("HEAD moved to %s", got)
			}
			if got := gitCmd(t, dir, "status", "--porcelain"); got != status {
				t.Errorf("status changed:\n%s\nwas:\n%s", got, status)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, kernelsOrg)); string(got) != string(before) {
				t.Errorf("the worktree was changed: %q, was %q", got, before)
			}
			if _, err := os.Stat(filepath.Join(dir, ".git", "index.lock")); !os.IsNotExist(err) {
				t.Errorf("index.lock left behind: %v", err)
			}
		})
	}
}

// A caller offers its own way out; CheckClean needs a checkout and sane
// paths.
func TestCheckClean(t *testing.T) {
	t.Parallel()
	dir, _ := checkout(t)
	writeFile(t, filepath.Join(dir, aliases), "mine\n")
	writeFile(t, filepath.Join(dir, "new.nix"), "mine\n")
	r := openLocal(t, dir)
	ctx := context.Background()
	err := r.CheckClean(ctx, []string{aliases, kernelsOrg, "new.nix", "absent.nix"})
	var dirty *gitops.DirtyError
	if !errors.As(err, &dirty) {
		t.Fatalf("CheckClean: %v, want a *DirtyError", err)
	}
	if want := []gitops.DirtyFile{{Path: aliases, Why: "modified"}, {Path: "new.nix", Why: "untracked, would be overwritten"}}; fmt.Sprint(dirty.Files) != fmt.Sprint(want) {
		t.Errorf("Files = %v, want %v", dirty.Files, want)
	}
	dirty.Or = "pass --no-commit"
	want := fmt.Sprintf("nixpkgs checkout %s: uncommitted changes in files kupdate would change: %s, new.nix (untracked, would be overwritten); commit or stash them (or pass --no-commit), then run kupdate again", dir, aliases)
	if errText(err) != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	if err := r.CheckClean(ctx, []string{"../outside"}); errText(err) != fmt.Sprintf(`nixpkgs checkout %s: file path "../outside": want a slash path relative to the repository root`, dir) {
		t.Errorf("a path outside: %v", err)
	}
	w := newWorld(t, "file")
	if err := w.open(day1).CheckClean(ctx, []string{aliases}); err == nil || !strings.Contains(err.Error(), "is a managed clone, not a checkout") {
		t.Errorf("a managed clone: %v", err)
	}
}

// In a checkout, another base is the local branch, else origin's as last
// fetched; a branch it has neither of is an error that says what to do.
func TestBranchTipLocal(t *testing.T) {
	t.Parallel()
	dir, _ := checkout(t)
	r := openLocal(t, dir)
	for _, tc := range []struct{ name, want string }{
		{base, gitCmd(t, dir, "rev-parse", "origin/"+base)},
		{"work", gitCmd(t, dir, "rev-parse", "work")},
	} {
		got, err := r.BranchTip(context.Background(), tc.name)
		if err != nil || got.String() != tc.want {
			t.Errorf("BranchTip(%s) = %s, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	_, err := r.BranchTip(context.Background(), "master2")
	if want := "nixpkgs checkout " + dir + ": no branch master2 (nor origin/master2): fetch it, or change nixpkgs.bases"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if _, err := r.BranchTip(context.Background(), "a..b"); err == nil || err.Error() != `base branch "a..b" is not a valid branch name: check nixpkgs.bases` {
		t.Errorf("err = %v", err)
	}
}
