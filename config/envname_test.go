package config

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// pasted are values shaped like GitHub's tokens, one per kind: classic
// personal, OAuth, user-to-server, installation, refresh, fine-grained, and
// the 40 hex digits of tokens made before 2021. Every one is a valid
// identifier, so only their shape tells them from a variable's name.
var pasted = []struct{ token, shape string }{
	{"ghp_Q7pUd0T9mZ1aB2cD3eF4gH5iJ6kL7mN8oP9q", `a GitHub token (it starts with "ghp_")`},
	{"gho_16C7e42F292c6912E7710c838347Ae178B4a", `a GitHub token (it starts with "gho_")`},
	{"ghu_16C7e42F292c6912E7710c838347Ae178B4a", `a GitHub token (it starts with "ghu_")`},
	{"ghs_16C7e42F292c6912E7710c838347Ae178B4a", `a GitHub token (it starts with "ghs_")`},
	{"ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498", `a GitHub token (it starts with "ghr_")`},
	{"github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWX", `a GitHub token (it starts with "github_pat_")`},
	{"e72e16c7e42f292c6912e7710c838347ae178b4a", "an old-style GitHub token (40 hex digits)"},
}

// A token pasted into any *_env key is refused with what to do, and never
// repeated.
func TestTokenInEnvKey(t *testing.T) {
	keys := []struct{ section, key, example string }{
		{"git", "token_env", "KUPDATE_GIT_TOKEN"},
		{"github", "token_env", "GITHUB_TOKEN"},
		{"serve", "webhook_secret_env", "KUPDATE_WEBHOOK_SECRET"},
	}
	for _, k := range keys {
		for _, p := range pasted {
			t.Run(k.section+"."+k.key+"/"+p.token[:4], func(t *testing.T) {
				_, err := Parse("c.toml", []byte(fmt.Sprintf("[%s]\n%s = %q\n", k.section, k.key, p.token)))
				want := fmt.Sprintf("c.toml:2:1: %s.%s: %s, not the name of an environment variable: remove it from the file, and revoke it on GitHub if others can read the file (the Nix store is world-readable); export the secret as e.g. %s and write %s.%s = %q",
					k.section, k.key, p.shape, k.example, k.section, k.key, k.example)
				if err == nil || err.Error() != want {
					t.Errorf("Parse error:\n got %v\nwant %s", err, want)
				}
				if err != nil && strings.Contains(err.Error(), p.token) {
					t.Errorf("the error repeats the token: %v", err)
				}
			})
		}
	}
}

// Names kupdate's users write stay accepted, including ones that share a
// prefix with a token's but not its exact spelling.
func TestEnvNamesAccepted(t *testing.T) {
	for _, name := range []string{"", "GITHUB_TOKEN", "GHP_TOKEN", "gh_token", "github_token", "_X", "ghp", "e72e16c7e42f292c6912e7710c838347ae178b4"} {
		if err := EnvName(name).Check(); err != nil {
			t.Errorf("EnvName(%q).Check() = %v, want nil", name, err)
		}
		if got := EnvName(name).String(); got != name {
			t.Errorf("EnvName(%q).String() = %q", name, got)
		}
	}
}

// A Config built in code is not validated; its EnvName still never prints
// or looks up a refused value, whichever way it is formatted.
func TestEnvNameNeverPrintsARefusedValue(t *testing.T) {
	for _, v := range append([]string{"s3cr3t value"}, func() []string {
		var ts []string
		for _, p := range pasted {
			ts = append(ts, p.token)
		}
		return ts
	}()...) {
		n := EnvName(v)
		cfg := Default()
		cfg.GitHub.TokenEnv = n
		var logs strings.Builder
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "env", n, "github", cfg.GitHub)
		slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "env", n)
		text, _ := n.MarshalText()
		for _, got := range []string{n.String(), fmt.Sprintf("%s %v %q %+v", n, n, n, cfg), string(text), logs.String()} {
			if strings.Contains(got, v) {
				t.Errorf("%q printed: %s", v, got)
			}
			if !strings.Contains(got, "<not a variable name>") {
				t.Errorf("%q: no placeholder in %s", v, got)
			}
		}
		looked := false
		if got := n.Lookup(func(string) string { looked = true; return "x" }); got != "" || looked {
			t.Errorf("Lookup of %q = %q, looked up %v: want \"\", not looked up", v, got, looked)
		}
	}
	if got := EnvName("GITHUB_TOKEN").Lookup(func(k string) string { return "value of " + k }); got != "value of GITHUB_TOKEN" {
		t.Errorf("Lookup = %q", got)
	}
}

func TestSecretRefusesATokenAsName(t *testing.T) {
	_, err := Secret(EnvName(pasted[0].token))
	want := `a GitHub token (it starts with "ghp_"), not the name of an environment variable: remove it from the file, and revoke it on GitHub if others can read the file (the Nix store is world-readable)`
	if err == nil || err.Error() != want {
		t.Errorf("Secret error:\n got %v\nwant %s", err, want)
	}
}
