package check

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestGitEnvironment: git sees none of kupdate's secrets and none of the
// GIT_* variables that would point it at another repository, and does see
// PATH, HOME and the settings the check gives it.
func TestGitEnvironment(t *testing.T) {
	ctx := context.Background()
	tr := newTestRepo(t)
	head := tr.commit("one", map[string][]byte{"a": []byte("a\n")})
	other := newTestRepo(t)
	other.commit("other", map[string][]byte{"b": []byte("b\n")})
	for name, val := range map[string]string{
		"GITHUB_TOKEN":          "kupdate-canary-github",
		"KUPDATE_GIT_TOKEN":     "kupdate-canary-git",
		"NIX_KUPDATE_CANARY":    "kupdate-canary-allowlisted",
		"AWS_SECRET_ACCESS_KEY": "kupdate-canary-unlisted",
		"GIT_ASKPASS":           "/kupdate-canary-askpass",
		"GIT_DIR":               other.dir + "/.git",
	} {
		t.Setenv(name, val)
	}
	r := &Repo{Dir: tr.dir, Secrets: []string{"GITHUB_TOKEN", "KUPDATE_GIT_TOKEN", "NIX_KUPDATE_CANARY"}}
	if got, err := r.Resolve(ctx, "main"); err != nil || got != head {
		t.Errorf("Resolve(main) = %q, %v; want %s, of the repository in Dir", got, err, head)
	}
	out, err := r.git(ctx, nil, "-c", "alias.kupdate-env=!env -0", "kupdate-env")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range strings.Split(string(out), "\x00") {
		name, val, _ := strings.Cut(kv, "=")
		got[name] = val
		if strings.Contains(kv, "kupdate-canary") || name == "GIT_DIR" && val == other.dir+"/.git" {
			t.Errorf("git saw %s", kv)
		}
	}
	// git puts its own directory first in PATH for an alias.
	if !strings.HasSuffix(got["PATH"], os.Getenv("PATH")) || got["HOME"] != os.Getenv("HOME") {
		t.Errorf("PATH = %q, HOME = %q; want kupdate's", got["PATH"], got["HOME"])
	}
	if got["GIT_TERMINAL_PROMPT"] != "0" || got["GIT_PAGER"] != "cat" {
		t.Errorf("GIT_TERMINAL_PROMPT = %q, GIT_PAGER = %q; want the check's", got["GIT_TERMINAL_PROMPT"], got["GIT_PAGER"])
	}
}
