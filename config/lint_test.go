package config

import (
	"strings"
	"testing"
)

// Errors an operator reads: the full key (array indexes included), the
// position, and what was wanted in TOML's words, never Go's.
func TestErrorsInTOMLWords(t *testing.T) {
	const readme = " (see README.md, Configuration, for the keys kupdate reads)"
	for _, tt := range []struct{ name, in, want string }{
		{"string for an integer", "[build]\nconcurrency = \"two\"\n", "c.toml:2:15: build.concurrency: want an integer, got a string"},
		{"float for an integer", "[build]\nconcurrency = 1.5\n", "c.toml:2:15: build.concurrency: want an integer, got a float"},
		{"dotted key", "build.concurrency = \"x\"\n", "c.toml:1:21: build.concurrency: want an integer, got a string"},
		{"string for a bool", "[github]\ndraft = \"yes\"\n", "c.toml:2:9: github.draft: want true or false, got a string"},
		{"string for an array", "[build]\ntiers = \"eval\"\n", "c.toml:2:9: build.tiers: want an array of strings, got a string"},
		{"array element", "[build]\ntiers = [\"eval\", 1]\n", "c.toml:2:18: build.tiers[1]: want a string, got an integer"},
		{"map value", "[build.commands]\neval = \"nix\"\n", "c.toml:2:8: build.commands.eval: want an array of strings, got a string"},
		{"inline map", "[github]\nlabels = { master = [\"a\", 2] }\n", "c.toml:2:27: github.labels.master[1]: want a string, got an integer"},
		{"inline table field", "[promote]\npairs = [{ from = 1, to = \"b\" }]\n", "c.toml:2:19: promote.pairs[0].from: want a string, got an integer"},
		{"too large", "[kernelorg]\nmax_snapshot_bytes = 99999999999999999999\n", "c.toml:2:22: kernelorg.max_snapshot_bytes: 99999999999999999999 does not fit in a 64-bit integer"},
		{"integer duration", "[kernelorg]\ntimeout = 300\n", "c.toml:2:11: kernelorg.timeout: want a duration such as \"90s\", \"15m\" or \"3h\", got an integer"},
		{"bad duration", "[build]\ntimeout = \"forever\"\n", "c.toml:2:11: build.timeout: invalid duration \"forever\": want e.g. \"90s\", \"15m\", \"3h\""},
		{"negative duration", "[kernelorg]\ntimeout = \"-5s\"\n", "c.toml:2:11: kernelorg.timeout: invalid duration \"-5s\": must not be negative"},
		{"table for a section", "build = 3\n", "c.toml:1:9: build: want a table, got an integer"},
		{"table for a scalar", "[build.concurrency]\nx = 1\n", "c.toml:1:2: build.concurrency: want an integer, got a table"},
		{"array of tables for a table", "[[build]]\nx = 1\n", "c.toml:1:3: build: want a table, got an array of tables"},
		{"table for an array of tables", "[promote.pairs]\nfrom = \"a\"\n", "c.toml:1:2: promote.pairs: want an array of tables, got a table"},
		{"unknown key in an inline table", "[promote]\npairs = [{ from = \"a\", to = \"b\" }, { from = \"a\", too = \"b\" }]\n", "c.toml:2:50: unknown key \"promote.pairs[1].too\"" + readme},
		{"unknown key in an array table", "[[promote.pairs]]\nfrom = \"a\"\nto = \"b\"\n[[promote.pairs]]\nfrom = \"a\"\ntoo = \"b\"\n", "c.toml:6:1: unknown key \"promote.pairs[1].too\"" + readme},
		{"unknown table, reported once", "[kernel]\nurl = 1\nx = 2\n", "c.toml:1:2: unknown key \"kernel\"" + readme},
		{"every problem", "[build]\nconcurrency = \"two\"\ncores = true\n[serve]\nlisten = 8380\n",
			"c.toml:2:15: build.concurrency: want an integer, got a string\nc.toml:3:9: build.cores: want an integer, got a boolean\nc.toml:5:10: serve.listen: want a string, got an integer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// A secret written into the file is refused with where it goes instead,
// and its value is never repeated.
func TestSecretsInTheFile(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"github token", "[github]\ntoken = \"ghp_s3cr3t\"\n", "c.toml:2:1: github.token: secrets never go in config.toml: put it in the environment variable named by github.token_env"},
		{"git token", "[git]\npush_token = \"ghp_s3cr3t\"\n", "c.toml:2:1: git.push_token: secrets never go in config.toml: put it in the environment variable named by git.token_env"},
		{"webhook secret", "[serve]\nwebhook_secret = \"s3cr3t\"\n", "c.toml:2:1: serve.webhook_secret: secrets never go in config.toml: put it in the environment variable named by serve.webhook_secret_env"},
		{"app key", "[github]\nprivate_key = \"-----BEGIN s3cr3t\"\n", "c.toml:2:1: github.private_key: secrets never go in config.toml: put the GitHub App's private key in a file named by github.private_key_file"},
		{"password anywhere", "[nixpkgs]\npassword = \"s3cr3t\"\n", "c.toml:2:1: nixpkgs.password: secrets never go in config.toml: put it in the environment (github.token_env, git.token_env, gitlab.token_env and serve.webhook_secret_env name the variables kupdate reads)"},
		{"a secret where its variable's name goes", "[github]\ntoken_env = \"s3cr3t-x\"\n", "c.toml:2:1: github.token_env: want the name of an environment variable (letters, digits and _), not the secret itself; export the secret as e.g. GITHUB_TOKEN and write github.token_env = \"GITHUB_TOKEN\""},
		{"webhook secret where its variable's name goes", "[serve]\nwebhook_secret_env = \"s3cr3t value\"\n", "c.toml:2:1: serve.webhook_secret_env: want the name of an environment variable (letters, digits and _), not the secret itself; export the secret as e.g. KUPDATE_WEBHOOK_SECRET and write serve.webhook_secret_env = \"KUPDATE_WEBHOOK_SECRET\""},
		{"a token as a key", "[github]\nghp_s3cr3t = 1\n", "c.toml:2:1: a GitHub token (it starts with \"ghp_\") written as a key: secrets never go in config.toml: put it in the environment variable named by github.token_env"},
		{"a token as a table", "[ghs_s3cr3t]\n", "c.toml:1:2: a GitHub token (it starts with \"ghs_\") written as a key: secrets never go in config.toml: put it in the environment (github.token_env, git.token_env, gitlab.token_env and serve.webhook_secret_env name the variables kupdate reads)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error:\n got %v\nwant %s", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

func TestReviewers(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"empty", `reviewers = ["alice", ""]`, `c.toml:2:1: github.reviewers: reviewer 2, "": empty: want a GitHub login (e.g. "alice") or a team of github.owner (e.g. "NixOS/kernel")`},
		{"space", `reviewers = ["a b"]`, `c.toml:2:1: github.reviewers: reviewer 1, "a b": not a GitHub login: want letters, digits and hyphens, at most 39 characters, not starting with a hyphen`},
		{"at sign", `reviewers = ["@alice"]`, `c.toml:2:1: github.reviewers: reviewer 1, "@alice": write it without the "@"`},
		{"leading hyphen", `reviewers = ["-alice"]`, `c.toml:2:1: github.reviewers: reviewer 1, "-alice": not a GitHub login: want letters, digits and hyphens, at most 39 characters, not starting with a hyphen`},
		{"too long", `reviewers = ["` + strings.Repeat("a", 40) + `"]`, `c.toml:2:1: github.reviewers: reviewer 1, "` + strings.Repeat("a", 40) + `": not a GitHub login: want letters, digits and hyphens, at most 39 characters, not starting with a hyphen`},
		{"another org's team", `reviewers = ["torvalds/kernel"]`, `c.toml:2:1: github.reviewers: reviewer 1, "torvalds/kernel": a team reviewer must be a team of github.owner ("NixOS/team-slug"): GitHub asks only teams of the repository's organization`},
		{"bad team", `reviewers = ["NixOS/a b"]`, `c.toml:2:1: github.reviewers: reviewer 1, "NixOS/a b": not a team: want "NixOS/team-slug"`},
		{"twice", `reviewers = ["alice", "Alice"]`, `c.toml:2:1: github.reviewers: reviewer 2, "Alice": listed twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte("[github]\n"+tt.in+"\n"))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
	c, err := Parse("c.toml", []byte("[github]\nreviewers = [\"alice\", \"bob-2\", \"nixos/linux-kernel\", \"a\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.GitHub.Reviewers, " "); got != "alice bob-2 nixos/linux-kernel a" {
		t.Errorf("reviewers = %s", got)
	}
}
