package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The config.toml at the repository root documents the defaults: it must
// decode to exactly Default().
func TestRootConfigIsTheDefault(t *testing.T) {
	got, err := Load("../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), *got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("config.toml differs from Default() (-want +got):\n%s", diff)
	}
}

func TestEmptyIsDefault(t *testing.T) {
	got, err := Parse("empty.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), *got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestOverrides(t *testing.T) {
	got, err := Parse("c.toml", []byte(`
[kernelorg]
url = "http://127.0.0.1:9999"
timeout = "90s"
[build.commands]
eval = ["nix-instantiate", "--eval", "-A", "x.{attr}"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got.KernelOrg.URL != "http://127.0.0.1:9999" || got.KernelOrg.Timeout.D() != 90*time.Second {
		t.Errorf("kernelorg = %+v", got.KernelOrg)
	}
	if got.KernelOrg.GitURL != "https://git.kernel.org" {
		t.Errorf("git_url lost its default: %q", got.KernelOrg.GitURL)
	}
	if want := Default().Build.Commands["configfile"]; !cmp.Equal(got.Build.Commands["configfile"], want) {
		t.Errorf("an overridden [build.commands] dropped the other tiers: %v", got.Build.Commands)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown key", "[kernelorg]\nurl = \"https://x\"\nmirror = 1\n", "c.toml:3:1: unknown key \"kernelorg.mirror\""},
		{"unknown table", "[kernel]\nurl = 1\n", "c.toml:1:2: unknown key \"kernel\""},
		{"wrong type", "[build]\nconcurrency = \"two\"\n", "c.toml:2:15: build.concurrency: want an integer, got a string"},
		{"bad duration", "[build]\ntimeout = \"forever\"\n", "invalid duration \"forever\""},
		{"bad url", "\n[kernelorg]\ngit_url = \"ftp://x\"\n", "c.toml:3:1: kernelorg.git_url: want an http(s) URL, got \"ftp://x\""},
		{"bad fingerprint", "[kernelorg]\nfingerprint = \"B886 8C80\"\n", "c.toml:2:1: kernelorg.fingerprint: want the signing key's primary fingerprint as 40 hex digits"},
		{"bad tier", "[build]\ntiers = [\"eval\", \"boot\"]\n", "c.toml:2:1: build.tiers: unknown tier \"boot\""},
		{"bad cron", "[serve]\n  schedule = \"every hour\"\n", "c.toml:2:3: serve.schedule: invalid cron expression \"every hour\""},
		{"bad pair", "[promote]\npairs = [{ from = \"master\", to = \"master\" }]\n", "c.toml:2:1: promote.pairs: pair 1"},
		{"syntax", "[build\n", "c.toml:1:"},
		{"max_jobs 0 without builders", "[build]\nmax_jobs = 0\n", "c.toml:2:1: build.max_jobs: 0 builds only on remote builders"},
		{"bad nix option", "[build.options]\n\"--impure\" = \"x\"\n", "c.toml:2:2: build.options: \"--impure\" is not a Nix setting name"},
		{"bad base", "[nixpkgs.bases]\ninit = \"mas ter\"\n", `c.toml:2:1: nixpkgs.bases: "init" = "mas ter": want a kind of change (init, remove, default) and the branch its PRs target (e.g. init = "master")`},
		{"app half", "[github]\napp_id = 5\n", "c.toml:2:1: github.app_id: GitHub App auth needs installation_id and private_key_file too"},
		{"rolling title without date", "[github]\nrolling_title = \"kernel updates\"\n", `c.toml:2:1: github.rolling_title: want the placeholder {date} exactly once (the default is "kernel updates for {date}"), got "kernel updates"`},
		{"rolling title, other placeholder", "[github]\nrolling_title = \"{attr} for {date}\"\n", `c.toml:2:1: github.rolling_title: "{attr} for {date}": {date} is the only placeholder; write no other braces`},
		{"rolling title on two lines", "[github]\nrolling_title = \"kernel updates\\nfor {date}\"\n", `github.rolling_title: "kernel updates\nfor {date}": a title is one line`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	t.Setenv("KUPDATE_TEST_SECRET", "s3cr3t")
	if v, err := Secret("KUPDATE_TEST_SECRET"); err != nil || v != "s3cr3t" {
		t.Errorf("Secret = %q, %v", v, err)
	}
	os.Unsetenv("KUPDATE_TEST_SECRET_UNSET")
	_, err := Secret("KUPDATE_TEST_SECRET_UNSET")
	if err == nil || !strings.Contains(err.Error(), "KUPDATE_TEST_SECRET_UNSET") {
		t.Errorf("Secret(unset) error = %v", err)
	}
}

// TestSecretEnvNames: every key ending in _env names a secret's variable,
// and SecretEnvNames lists each, so a key added later is kept from Nix and
// git too.
func TestSecretEnvNames(t *testing.T) {
	cfg := Default()
	var want []string
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			key := prefix + strings.Split(f.Tag.Get("toml"), ",")[0]
			switch {
			case f.Type.Kind() == reflect.Struct:
				walk(v.Field(i), key+".")
			case strings.HasSuffix(key, "_env"):
				// A distinct value per key, to see each one listed.
				v.Field(i).SetString("KUPDATE_TEST_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(key)))
				want = append(want, v.Field(i).String())
			}
		}
	}
	walk(reflect.ValueOf(&cfg).Elem(), "")
	if len(want) != 4 {
		t.Errorf("found %d *_env keys, want 4 (git.token_env, github.token_env, gitlab.token_env, serve.webhook_secret_env): %v", len(want), want)
	}
	if diff := cmp.Diff(want, cfg.SecretEnvNames()); diff != "" {
		t.Errorf("SecretEnvNames (-want +got):\n%s", diff)
	}
	cfg.Serve.WebhookSecretEnv = "" // /webhook off: nothing to keep back
	if got := cfg.SecretEnvNames(); len(got) != 3 {
		t.Errorf("with webhook_secret_env empty: %v", got)
	}
}
