// Package config reads kupdate's config.toml: defaults for every key, strict
// decoding (an unknown key is an error), validation whose errors name the file,
// line and column, the full key and what TOML value was wanted, a refusal of
// secrets written into the file, and secrets read from the environment
// variables it names.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/robfig/cron/v3"
)

// Config is the whole of config.toml. Its section and key names, [kernelorg]
// and [nixpkgs] among them, are a contract with operators (docs/design.md,
// Contracts); config.toml's comments and docs/operating.md document them.
type Config struct {
	KernelOrg KernelOrg `toml:"kernelorg"`
	Nixpkgs   Nixpkgs   `toml:"nixpkgs"`
	Git       Git       `toml:"git"`
	Build     Build     `toml:"build"`
	GitHub    GitHub    `toml:"github"`
	GitLab    GitLab    `toml:"gitlab"`
	Promote   Promote   `toml:"promote"`
	Serve     Serve     `toml:"serve"`
}

// KernelOrg is where releases, checksums and rc snapshots come from.
type KernelOrg struct {
	URL     string `toml:"url"`
	CDNURL  string `toml:"cdn_url"`
	GitURL  string `toml:"git_url"`
	Keyring string `toml:"keyring"` // path to an armored keyring; empty = embedded autosigner key
	// Fingerprint pins the primary key that must sign sha256sums.asc
	// (40 hex digits); the default is the Kernel.org checksum autosigner's.
	Fingerprint string   `toml:"fingerprint"`
	Timeout     Duration `toml:"timeout"` // bound on one poll, retries included
	// MaxSnapshotBytes caps the download of one rc snapshot tarball.
	MaxSnapshotBytes int64 `toml:"max_snapshot_bytes"`
	// SnapshotTimeout bounds the download of one rc snapshot (~250 MB that
	// git.kernel.org generates on the fly), retries included.
	SnapshotTimeout Duration `toml:"snapshot_timeout"`
}

// Nixpkgs is the tree kupdate edits.
type Nixpkgs struct {
	Path     string `toml:"path"`      // a local checkout; empty = a managed clone in cache_dir
	Remote   string `toml:"remote"`    // upstream repository the managed clone follows
	Fork     string `toml:"fork"`      // repository kupdate pushes its branches to
	Base     string `toml:"base"`      // branch changes are based on and PRs target
	CacheDir string `toml:"cache_dir"` // what kupdate can rebuild (managed clone, HTTP and rc caches); see CacheDir
	StateDir string `toml:"state_dir"` // what it cannot (state.json, builds.json, the lock); see StateDir
	// AliasThrows makes a removal also turn the kernel's two aliases in
	// aliases.nix into dated throws, nixpkgs' 2025 convention. false (the
	// default, nixpkgs' practice since Dec 2025) leaves aliases.nix alone:
	// its aliases resolve to the throws in linux-kernels.nix.
	AliasThrows bool `toml:"alias_throws"`
	// Bases overrides Base for the changes of a kind that go on a branch
	// of their own: kind ("init", "remove", "default") -> base branch (an
	// init may go straight to master: nixpkgs#509589). The rolling branch
	// always starts from Base.
	Bases map[string]string `toml:"bases"`
}

// BaseFor is the base branch a change of kind starts from and its PR
// targets.
func (n Nixpkgs) BaseFor(kind string) string {
	if b := n.Bases[kind]; b != "" {
		return b
	}
	return n.Base
}

// Git is how commits are made and pushed.
type Git struct {
	AuthorName  string  `toml:"author_name"`
	AuthorEmail string  `toml:"author_email"`
	TokenEnv    EnvName `toml:"token_env"` // environment variable holding the push token
}

// Build is how candidates are built and tested with Nix.
type Build struct {
	Tiers       []string            `toml:"tiers"`    // which tiers run, in order
	Commands    map[string][]string `toml:"commands"` // tier -> argument vector; "{attr}" is replaced
	Concurrency int                 `toml:"concurrency"`
	MaxJobs     int                 `toml:"max_jobs"` // passed to Nix as --max-jobs; 0 = remote builders only
	Cores       int                 `toml:"cores"`    // passed to Nix as --cores when > 0
	Builders    string              `toml:"builders"` // passed to Nix as --option builders, when set
	Timeout     Duration            `toml:"timeout"`  // per tier and attribute
	LogLines    int                 `toml:"log_lines"`
	// Options are further Nix settings, passed as --option NAME VALUE
	// (e.g. substituters, builders-use-substitutes, store).
	Options map[string]string `toml:"options"`
}

// GitLab is where kupdate reads sources hosted on GitLab (xanmod's
// releases). Public projects need no token; one raises the rate limit.
type GitLab struct {
	APIURL   string  `toml:"api_url"`
	TokenEnv EnvName `toml:"token_env"` // optional; empty: no token
}

// GitHub is the repository PRs are opened on and how kupdate authenticates.
type GitHub struct {
	APIURL         string   `toml:"api_url"`
	Owner          string   `toml:"owner"`
	Repo           string   `toml:"repo"`
	ForkOwner      string   `toml:"fork_owner"` // owner of the fork the branches are pushed to; empty = same repository
	TokenEnv       EnvName  `toml:"token_env"`
	AppID          int64    `toml:"app_id"`
	InstallationID int64    `toml:"installation_id"`
	PrivateKeyFile string   `toml:"private_key_file"`
	Draft          bool     `toml:"draft"`
	Merge          bool     `toml:"merge"`
	Reviewers      []string `toml:"reviewers"`
	// RollingTitle is the title of the PR of point releases, {date} the
	// day kupdate opens it (YYYY-MM-DD, UTC).
	RollingTitle string              `toml:"rolling_title"`
	Labels       map[string][]string `toml:"labels"` // base branch -> labels; a missing base = discovered
}

// Promote is the staging -> target step.
type Promote struct {
	Enabled bool   `toml:"enabled"`
	Merge   bool   `toml:"merge"`
	Pairs   []Pair `toml:"pairs"`
	// Stable adds a pair staging-nixos-YY.MM -> release-YY.MM for every
	// stable line whose two branches exist in the repository.
	Stable bool `toml:"stable"`
}

// Pair is one promotion: PR From into To.
type Pair struct {
	From string `toml:"from"`
	To   string `toml:"to"`
}

// Serve is the long-running service (`kupdate serve`, package server).
type Serve struct {
	Listen   string   `toml:"listen"`   // host:port of the status page, /metrics, /healthz, /webhook
	Schedule string   `toml:"schedule"` // cron expression (robfig/cron, 5 fields)
	Jitter   Duration `toml:"jitter"`   // random delay added to each scheduled run, up to this
	// WebhookSecretEnv names the environment variable holding the GitHub
	// webhook secret; an empty or unset variable disables /webhook.
	WebhookSecretEnv EnvName `toml:"webhook_secret_env"`
	// ShutdownTimeout is how long SIGTERM waits for a running cycle to finish
	// before cancelling it.
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
	// StuckAfter is how long a cycle may run before /healthz reports it stuck.
	StuckAfter Duration `toml:"stuck_after"`
}

// Duration is a time.Duration written as "90s", "2m", "3h" in TOML.
type Duration time.Duration

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q: want e.g. \"90s\", \"15m\", \"3h\"", b)
	}
	if v < 0 {
		return fmt.Errorf("invalid duration %q: must not be negative", b)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D is d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Default is the configuration with every key at its default: what an empty
// config.toml means, and what the config.toml at the repository root spells out.
func Default() Config {
	return Config{
		KernelOrg: KernelOrg{
			URL:              "https://www.kernel.org",
			CDNURL:           "https://cdn.kernel.org",
			GitURL:           "https://git.kernel.org",
			Fingerprint:      "B8868C80BA62A1FFFAF5FDA9632D3A06589DA6B1",
			Timeout:          Duration(5 * time.Minute),
			MaxSnapshotBytes: 512 << 20,
			SnapshotTimeout:  Duration(30 * time.Minute),
		},
		Nixpkgs: Nixpkgs{
			Remote: "https://github.com/NixOS/nixpkgs.git",
			Base:   "staging-nixos",
			Bases:  map[string]string{},
		},
		Git: Git{
			AuthorName:  "kupdate",
			AuthorEmail: "kupdate@users.noreply.github.com",
			TokenEnv:    "KUPDATE_GIT_TOKEN",
		},
		Build: Build{
			Tiers: []string{"eval", "configfile"},
			Commands: map[string][]string{
				"eval":       {"nix-instantiate", "-A", "linuxKernel.kernels.{attr}"},
				"configfile": {"nix-build", "--no-out-link", "-A", "linuxKernel.kernels.{attr}.configfile"},
				"kernel":     {"nix-build", "--no-out-link", "-A", "linuxKernel.kernels.{attr}"},
				"test":       {"nix-build", "--no-out-link", "-A", "nixosTests.kernel-generic.{attr}"},
			},
			Concurrency: 2,
			MaxJobs:     1,
			Timeout:     Duration(4 * time.Hour),
			LogLines:    40,
		},
		GitHub: GitHub{
			APIURL:       "https://api.github.com/",
			Owner:        "NixOS",
			Repo:         "nixpkgs",
			TokenEnv:     "GITHUB_TOKEN",
			Draft:        true,
			RollingTitle: DefaultRollingTitle,
		},
		GitLab: GitLab{APIURL: "https://gitlab.com/api/v4/"},
		Promote: Promote{
			Pairs: []Pair{{From: "staging-nixos", To: "master"}},
		},
		Serve: Serve{
			Listen:           "127.0.0.1:8380",
			Schedule:         "17 * * * *",
			Jitter:           Duration(5 * time.Minute),
			WebhookSecretEnv: "KUPDATE_WEBHOOK_SECRET",
			ShutdownTimeout:  Duration(30 * time.Second),
			StuckAfter:       Duration(12 * time.Hour),
		},
	}
}

// Load reads the file at path over the defaults. A missing file is an error:
// an operator who names a config means it.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w (create it from the documented config.toml, or pass --config)", err)
	}
	return Parse(path, data)
}

// Parse decodes data (named name in errors) over the defaults and validates it.
func Parse(name string, data []byte) (*Config, error) {
	cfg := Default()
	// Tables replace, not merge, so a [build.commands] that names one tier keeps the others.
	defCommands := cfg.Build.Commands
	cfg.Build.Commands = nil
	if err := lint(name, data); err != nil {
		return nil, err
	}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, decodeError(name, err)
	}
	merged := make(map[string][]string, len(defCommands))
	for k, v := range defCommands {
		merged[k] = v
	}
	for k, v := range cfg.Build.Commands {
		merged[k] = v
	}
	cfg.Build.Commands = merged
	if err := cfg.validate(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			line, col := keyPosition(data, fe.key)
			if line > 0 {
				return nil, fmt.Errorf("%s:%d:%d: %s: %s", name, line, col, fe.key, fe.msg)
			}
			return nil, fmt.Errorf("%s: %s: %s", name, fe.key, fe.msg)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &cfg, nil
}

func decodeError(name string, err error) error {
	var sm *toml.StrictMissingError
	if errors.As(err, &sm) && len(sm.Errors) > 0 {
		var msgs []string
		for _, e := range sm.Errors {
			row, col := e.Position()
			msgs = append(msgs, fmt.Sprintf("%s:%d:%d: unknown key %q (see README.md, Configuration, for the keys kupdate reads)", name, row, col, strings.Join(e.Key(), ".")))
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	// Type errors were reported by lint in TOML's words; what is left here
	// is mostly syntax ("toml: expected character ]").
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		key := strings.Join(de.Key(), ".")
		if key != "" {
			return fmt.Errorf("%s:%d:%d: %s: %s", name, row, col, key, msg)
		}
		return fmt.Errorf("%s:%d:%d: %s", name, row, col, msg)
	}
	return fmt.Errorf("%s: %w", name, err)
}

type fieldError struct{ key, msg string }

func (e *fieldError) Error() string { return e.key + ": " + e.msg }

func bad(key, format string, args ...any) error {
	return &fieldError{key: key, msg: fmt.Sprintf(format, args...)}
}

var knownTiers = []string{"eval", "configfile", "kernel", "test"}

// nixSettingName is the shape of a nix.conf setting; it keeps an option name
// from being read by Nix as a flag of its own.
var nixSettingName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

func (c *Config) validate() error {
	for _, u := range []struct{ key, val string }{
		{"kernelorg.url", c.KernelOrg.URL},
		{"kernelorg.cdn_url", c.KernelOrg.CDNURL},
		{"kernelorg.git_url", c.KernelOrg.GitURL},
		{"github.api_url", c.GitHub.APIURL},
		{"gitlab.api_url", c.GitLab.APIURL},
	} {
		if err := checkHTTPURL(u.key, u.val); err != nil {
			return err
		}
	}
	if c.KernelOrg.Timeout <= 0 {
		return bad("kernelorg.timeout", "must be positive")
	}
	if c.KernelOrg.MaxSnapshotBytes <= 0 {
		return bad("kernelorg.max_snapshot_bytes", "must be positive")
	}
	if c.KernelOrg.SnapshotTimeout <= 0 {
		return bad("kernelorg.snapshot_timeout", "must be positive")
	}
	if !isFingerprint(c.KernelOrg.Fingerprint) {
		return bad("kernelorg.fingerprint", "want the signing key's primary fingerprint as 40 hex digits without spaces (e.g. \"B8868C80BA62A1FFFAF5FDA9632D3A06589DA6B1\"), got %q", c.KernelOrg.Fingerprint)
	}
	if c.Nixpkgs.Base == "" {
		return bad("nixpkgs.base", "must name a branch (e.g. \"staging-nixos\")")
	}
	for kind, b := range c.Nixpkgs.Bases {
		if kind == "" || b == "" || strings.ContainsAny(b, " ~^:?*[\\") || strings.HasPrefix(b, "-") {
			return bad("nixpkgs.bases", "%q = %q: want a kind of change (init, remove, default) and the branch its PRs target (e.g. init = \"master\")", kind, b)
		}
	}
	if c.Nixpkgs.Path == "" && c.Nixpkgs.Remote == "" {
		return bad("nixpkgs.remote", "must be set when nixpkgs.path is empty (kupdate keeps a clone of it)")
	}
	if c.Git.AuthorName == "" || c.Git.AuthorEmail == "" || !strings.Contains(c.Git.AuthorEmail, "@") {
		return bad("git.author_email", "author_name and a valid author_email are required, got %q <%q>", c.Git.AuthorName, c.Git.AuthorEmail)
	}
	for _, t := range c.Build.Tiers {
		if !slices.Contains(knownTiers, t) {
			return bad("build.tiers", "unknown tier %q: want some of %s, in order", t, strings.Join(knownTiers, ", "))
		}
		if len(c.Build.Commands[t]) == 0 {
			return bad("build.commands", "tier %q has no command", t)
		}
	}
	for t, argv := range c.Build.Commands {
		if !slices.Contains(knownTiers, t) {
			return bad("build.commands."+t, "unknown tier %q: want one of %s", t, strings.Join(knownTiers, ", "))
		}
		if len(argv) == 0 || argv[0] == "" {
			return bad("build.commands."+t, "must be a non-empty argument vector, e.g. [\"nix-build\", \"-A\", \"linuxKernel.kernels.{attr}\"]")
		}
	}
	if c.Build.Concurrency < 1 {
		return bad("build.concurrency", "must be at least 1, got %d", c.Build.Concurrency)
	}
	if c.Build.MaxJobs < 0 || c.Build.Cores < 0 {
		return bad("build.max_jobs", "max_jobs and cores must not be negative")
	}
	if c.Build.MaxJobs == 0 && c.Build.Builders == "" && c.Build.Options["builders"] == "" {
		return bad("build.max_jobs", "0 builds only on remote builders, but build.builders is empty: set builders (\"@/etc/nix/machines\" for the machines file), or max_jobs to at least 1")
	}
	for name := range c.Build.Options {
		if !nixSettingName.MatchString(name) {
			return bad("build.options", "%q is not a Nix setting name (want e.g. \"substituters\")", name)
		}
	}
	if c.Build.Timeout <= 0 {
		return bad("build.timeout", "must be positive")
	}
	if c.Build.LogLines < 1 {
		return bad("build.log_lines", "must be at least 1, got %d", c.Build.LogLines)
	}
	if c.GitHub.Owner == "" || c.GitHub.Repo == "" {
		return bad("github.owner", "owner and repo are required")
	}
	if c.GitHub.AppID != 0 && (c.GitHub.InstallationID == 0 || c.GitHub.PrivateKeyFile == "") {
		return bad("github.app_id", "GitHub App auth needs installation_id and private_key_file too")
	}
	if msg := checkRollingTitle(c.GitHub.RollingTitle); msg != "" {
		return bad("github.rolling_title", "%s", msg)
	}
	seen := map[string]bool{}
	for i, r := range c.GitHub.Reviewers {
		if msg := checkReviewer(r, c.GitHub.Owner); msg != "" {
			return bad("github.reviewers", "reviewer %d, %q: %s", i+1, r, msg)
		}
		if seen[strings.ToLower(r)] {
			return bad("github.reviewers", "reviewer %d, %q: listed twice", i+1, r)
		}
		seen[strings.ToLower(r)] = true
	}
	for _, e := range c.secretEnvKeys() {
		// Check never quotes the value back: a token pasted here is a secret.
		if err := e.val.Check(); err != nil {
			return bad(e.key, "%v; export the secret as e.g. %s and write %s = %q", err, e.example, e.key, e.example)
		}
	}
	for i, p := range c.Promote.Pairs {
		if p.From == "" || p.To == "" || p.From == p.To {
			return bad("promote.pairs", "pair %d: from and to must be two different branches, got %q -> %q", i+1, p.From, p.To)
		}
	}
	if _, err := cron.ParseStandard(c.Serve.Schedule); err != nil {
		return bad("serve.schedule", "invalid cron expression %q: %v", c.Serve.Schedule, err)
	}
	if _, _, err := net.SplitHostPort(c.Serve.Listen); err != nil {
		return bad("serve.listen", "want host:port (e.g. \"127.0.0.1:8380\", \":8380\" for every interface), got %q", c.Serve.Listen)
	}
	if c.Serve.ShutdownTimeout <= 0 {
		return bad("serve.shutdown_timeout", "must be positive: it is how long SIGTERM waits for a running cycle")
	}
	if c.Serve.StuckAfter <= 0 {
		return bad("serve.stuck_after", "must be positive: it is how long a cycle may run before /healthz fails")
	}
	return nil
}

// GitHub logins: letters, digits and hyphens, at most 39 characters, not
// starting with a hyphen. A team's slug is its name lower-cased, with
// hyphens for what is neither a letter nor a digit.
var (
	loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	teamRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// checkReviewer says what is wrong with one github.reviewers entry: a login,
// or a team as "org/team-slug". workflow requests a team's review by its
// slug on owner's repository, so the team must be one of owner's: GitHub
// asks only teams of the repository's organization.
func checkReviewer(r, owner string) string {
	org, team, isTeam := strings.Cut(r, "/")
	switch {
	case r == "":
		return fmt.Sprintf("empty: want a GitHub login (e.g. \"alice\") or a team of github.owner (e.g. \"%s/kernel\")", owner)
	case strings.HasPrefix(r, "@"):
		return "write it without the \"@\""
	case isTeam && !loginRE.MatchString(org), isTeam && !teamRE.MatchString(team):
		return fmt.Sprintf("not a team: want \"%s/team-slug\"", owner)
	case isTeam && !strings.EqualFold(org, owner):
		return fmt.Sprintf("a team reviewer must be a team of github.owner (\"%s/team-slug\"): GitHub asks only teams of the repository's organization", owner)
	case !isTeam && !loginRE.MatchString(r):
		return "not a GitHub login: want letters, digits and hyphens, at most 39 characters, not starting with a hyphen"
	}
	return ""
}

// isFingerprint accepts an OpenPGP v4 (40 hex digits) or v6 (64) fingerprint.
func isFingerprint(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

func checkHTTPURL(key, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad(key, "want an http(s) URL, got %q", s)
	}
	return nil
}

// secretEnvKeys are the *_env keys: each names the environment variable
// that holds a secret.
func (c *Config) secretEnvKeys() []struct {
	key     string
	val     EnvName
	example string
} {
	return []struct {
		key     string
		val     EnvName
		example string
	}{
		{"git.token_env", c.Git.TokenEnv, "KUPDATE_GIT_TOKEN"},
		{"github.token_env", c.GitHub.TokenEnv, "GITHUB_TOKEN"},
		{"gitlab.token_env", c.GitLab.TokenEnv, "GITLAB_TOKEN"},
		{"serve.webhook_secret_env", c.Serve.WebhookSecretEnv, "KUPDATE_WEBHOOK_SECRET"},
	}
}

// SecretEnvNames are the environment variables the *_env keys name: no
// child process (Nix, git) may see them. A value that is not a valid name
// names no variable.
func (c *Config) SecretEnvNames() []string {
	var out []string
	for _, e := range c.secretEnvKeys() {
		if e.val != "" && e.val.Check() == nil {
			out = append(out, string(e.val))
		}
	}
	return out
}

// Secret returns the value of the environment variable n names. The error
// names the variable, never its value, and a refused name not at all.
func Secret(n EnvName) (string, error) {
	if n == "" {
		return "", errors.New("no environment variable configured for this secret")
	}
	if err := n.Check(); err != nil {
		return "", err
	}
	v := n.Lookup(os.Getenv)
	if v == "" {
		return "", fmt.Errorf("environment variable %s is empty or unset: export it with the secret", n)
	}
	return v, nil
}

// keyPosition finds where the dotted key is set in data, for errors about a
// value that decoded but is not acceptable. 0, 0 when the key is not in the
// file (a default is at fault).
func keyPosition(data []byte, dotted string) (line, col int) {
	want := strings.Split(dotted, ".")
	p := unstable.Parser{}
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
		case unstable.KeyValue:
			full := append(slices.Clone(table), keyParts(e.Key())...)
			if len(full) >= len(want) && slices.Equal(full[:len(want)], want) {
				it := e.Key()
				if it.Next() {
					sh := p.Shape(p.Range(it.Node().Data))
					return sh.Start.Line, sh.Start.Column
				}
			}
		}
	}
	return 0, 0
}

func keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// DefaultRollingTitle is nixpkgs' title of a batch of kernel point
// releases as most of 2026's are worded (#526772, #535984, #547572).
const DefaultRollingTitle = "kernel updates for {date}"

// checkRollingTitle says what is wrong with a github.rolling_title, "" when
// nothing: one {date} and no other placeholder, on one line, short enough
// for GitHub's 256 characters once the date is in.
func checkRollingTitle(t string) string {
	switch {
	case strings.Count(t, "{date}") != 1:
		return fmt.Sprintf("want the placeholder {date} exactly once (the default is %q), got %q", DefaultRollingTitle, t)
	case strings.ContainsAny(strings.ReplaceAll(t, "{date}", ""), "{}"):
		return fmt.Sprintf("%q: {date} is the only placeholder; write no other braces", t)
	case strings.ContainsAny(t, "\r\n"):
		return fmt.Sprintf("%q: a title is one line", t)
	case strings.TrimSpace(t) != t:
		return fmt.Sprintf("%q: no leading or trailing spaces", t)
	case len(t) > 200:
		return fmt.Sprintf("%d bytes: at most 200", len(t))
	}
	return ""
}
