package gittest

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// The git CLI pushes with chunked bodies; a push and a clone round-trip.
func TestPushAndClone(t *testing.T) {
	root := t.TempDir()
	git(t, root, "init", "-q", "--bare", "-b", "main", "r.git")
	h := &Handler{Root: root}
	srv := httptest.NewServer(h)
	defer srv.Close()

	work := t.TempDir()
	git(t, work, "init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(work, "f"), []byte(strings.Repeat("x", 1<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, work, "add", "f")
	git(t, work, "commit", "-qm", "first")
	git(t, work, "-c", "http.postBuffer=1024", "push", "-q", srv.URL+"/r.git", "main")

	clone := t.TempDir()
	git(t, clone, "clone", "-q", srv.URL+"/r.git", "c")
	if got := git(t, filepath.Join(clone, "c"), "log", "--format=%s"); got != "first" {
		t.Errorf("cloned log = %q, want first", got)
	}
	if h.Requests() == 0 {
		t.Error("no requests counted")
	}
}
