package gitops_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/kupdate/kupdate/childproc"
)

// survivor starts, as kupdate starts a build, a command in dir that leaves
// a process behind and exits: what a build that ignored kupdate's death
// leaves. It returns a func that kills the process and waits until dir's
// lock is free.
func survivor(t *testing.T, dir string) (kill func()) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!")
	cmd.Dir = dir
	cmd.Env = childproc.Env(os.Environ(), nil, nil)
	var out strings.Builder
	cmd.Stdout = &out
	if err := childproc.Run(cmd); err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("sh printed %q", out.String())
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	return func() {
		t.Helper()
		syscall.Kill(pid, syscall.SIGKILL)
		for range 200 {
			if busy, err := childproc.InUse(dir); err == nil && !busy {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s stayed held after its holder was killed", dir)
	}
}

// TestExportFree: while a process started in the export directory lives,
// no export writes there; the next free directory is used instead, and
// once the process is gone the export is back in the first one and the
// fallback is removed.
func TestExportFree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, "file")
	r := w.open(day1)
	built := build(t, r, plan1())
	cache := t.TempDir()
	root := filepath.Join(cache, "tree")
	// What a full export killed half-way leaves.
	writeFile(t, filepath.Join(cache, "tree.new-4242", "pkgs", "half"), "")
	writeFile(t, filepath.Join(cache, "tree-2.old", "x"), "")

	export := func(commit plumbing.Hash, want string) {
		t.Helper()
		got, err := r.ExportFree(ctx, commit, root)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("ExportFree(%s) used %s, want %s", commit, got, want)
		}
		if m, _ := os.ReadFile(filepath.Join(got, ".kupdate-export")); strings.TrimSpace(string(m)) != commit.String() {
			t.Errorf("%s holds %q, want %s", got, m, commit)
		}
		if _, err := os.Stat(filepath.Join(got, childproc.LockName)); err != nil {
			t.Errorf("%s has no lock file: %v", got, err)
		}
	}
	export(r.Base(), root)
	entries := func() []string {
		ents, _ := os.ReadDir(cache)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
	if got := strings.Join(entries(), " "); got != "tree" {
		t.Errorf("cache directory holds %s; want only tree (the interrupted exports' leftovers removed)", got)
	}
	before, _ := os.ReadFile(filepath.Join(root, kernelsOrg))

	kill := survivor(t, root)
	if err := r.Export(ctx, built[0].Head(), root); err == nil || !strings.Contains(err.Error(), "a process started there is still running (fuser -v "+filepath.Join(root, childproc.LockName)+" names it)") {
		t.Errorf("Export into a held directory: %v", err)
	}
	export(built[0].Head(), root+"-1")
	export(built[1].Head(), root+"-1")
	if m, _ := os.ReadFile(filepath.Join(root, ".kupdate-export")); strings.TrimSpace(string(m)) != r.Base().String() {
		t.Errorf("the held directory was rewritten: it holds %s", m)
	}
	if after, _ := os.ReadFile(filepath.Join(root, kernelsOrg)); string(after) != string(before) {
		t.Error("the held directory's files changed")
	}

	kill()
	export(built[0].Head(), root)
	if got := strings.Join(entries(), " "); got != "tree" {
		t.Errorf("cache directory holds %s; want only tree (tree-1 removed once free)", got)
	}
}

// TestExportFreeAllHeld: with every export directory held, nothing is
// written and the error says what holds them and what to do.
func TestExportFreeAllHeld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, "file")
	r := w.open(day1)
	root := filepath.Join(t.TempDir(), "tree")
	var dirs []string
	for _, d := range []string{root, root + "-1", root + "-2", root + "-3"} {
		if err := r.Export(ctx, r.Base(), d); err != nil {
			t.Fatal(err)
		}
		survivor(t, d)
		dirs = append(dirs, d)
	}
	_, err := r.ExportFree(ctx, r.Base(), root)
	want := "every export directory (" + strings.Join(dirs, ", ") + ") is held by a process started there that is still running (fuser -v " +
		filepath.Join(root, childproc.LockName) + " names them); kupdate writes under none of them: stop those processes"
	if err == nil || err.Error() != want {
		t.Errorf("ExportFree = %v\nwant %s", err, want)
	}
}
