package updater

import (
	"context"
	"encoding/json"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/vanilla"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestValidateEnvironment: what an expression in the tree reads with
// builtins.getEnv while Validate evaluates it. The tree is evaluated
// impurely, so a secret in nix-instantiate's environment would be a secret
// any change merged at the base branch could print into a log.
func TestValidateEnvironment(t *testing.T) {
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not on PATH")
	}
	canaries := map[string]string{
		"GITHUB_TOKEN":           "kupdate-canary-github",
		"KUPDATE_GIT_TOKEN":      "kupdate-canary-git",
		"KUPDATE_WEBHOOK_SECRET": "kupdate-canary-webhook",
		"NIX_KUPDATE_CANARY":     "kupdate-canary-allowlisted", // named in Secrets below
		"AWS_SECRET_ACCESS_KEY":  "kupdate-canary-unlisted",
		"KUPDATE_KERNEL_MIRROR":  "http://kupdate-canary-parent-mirror",
		"NIX_CONFIG":             "sandbox = false\naccess-tokens = github.com=kupdate-canary-nixconfig",
	}
	for name, val := range canaries {
		t.Setenv(name, val)
	}
	names := []string{"PATH", "HOME"}
	for name := range canaries {
		names = append(names, name)
	}
	quoted, _ := json.Marshal(names)
	dir := t.TempDir()
	expr := `{ }: {
  linuxKernel.kernels.linux_env.drvPath = throw ("environment: " + builtins.toJSON
    (builtins.listToAttrs (map (n: { name = n; value = builtins.getEnv n; }) (builtins.fromJSON ''` + string(quoted) + `''))));
}
`
	if err := os.WriteFile(filepath.Join(dir, "default.nix"), []byte(expr), 0o644); err != nil {
		t.Fatal(err)
	}
	c := vanilla.Made(family.Change{Kind: vanilla.Bump, Attr: "linux_env", Branch: "env", Build: []string{"linux_env"}})
	err := Validate(context.Background(), family.Registry{vanilla.New(nil)}, dir, c, ValidateOptions{
		Env:     []string{"KUPDATE_KERNEL_MIRROR=http://127.0.0.1:9"},
		Secrets: []string{"GITHUB_TOKEN", "KUPDATE_GIT_TOKEN", "KUPDATE_WEBHOOK_SECRET", "NIX_KUPDATE_CANARY"},
	})
	if err == nil {
		t.Fatal("Validate passed; the tree throws what it read")
	}
	m := regexp.MustCompile(`environment: (\{.*\})`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("Validate: %v; want the environment the tree read", err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PATH":                   os.Getenv("PATH"),
		"HOME":                   os.Getenv("HOME"),
		"KUPDATE_KERNEL_MIRROR":  "http://127.0.0.1:9",
		"NIX_CONFIG":             "sandbox = false",
		"GITHUB_TOKEN":           "",
		"KUPDATE_GIT_TOKEN":      "",
		"KUPDATE_WEBHOOK_SECRET": "",
		"NIX_KUPDATE_CANARY":     "",
		"AWS_SECRET_ACCESS_KEY":  "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the tree read (-want +got):\n%s", diff)
	}
}
