package demo

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// EnvFile is the name, under Dir, of the file WriteEnvFile writes.
const EnvFile = "demo.env"

// WriteEnvFile writes Dir/demo.env: the tokens Config names (GitHubTokenEnv,
// GitTokenEnv) and the mirrors Nix fetches from (KUPDATE_KERNEL_MIRROR,
// KUPDATE_GITHUB_MIRROR), one VAR=value a line, readable by the owner only.
// With it, kupdate run, status and serve work against the world from
// another shell (set -a; . DIR/demo.env) for as long as the world is up.
// The tokens are the simulated GitHub's, worth nothing elsewhere.
func (e *Env) WriteEnvFile() (string, error) {
	var b strings.Builder
	b.WriteString("# kupdate demo: the simulated world's tokens and mirrors; valid while the demo runs.\n")
	b.WriteString("# set -a; . ./" + EnvFile + "; kupdate --config ./config.toml status\n")
	for _, k := range slices.Sorted(maps.Keys(e.secrets)) {
		fmt.Fprintf(&b, "%s=%s\n", k, e.secrets[k])
	}
	for _, kv := range e.BuildEnv {
		if strings.HasPrefix(kv, "KUPDATE_") {
			b.WriteString(kv + "\n")
		}
	}
	path := filepath.Join(e.Dir, EnvFile)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return path, nil
}

// SaveConfig writes Config back to Dir/config.toml after a change (the
// demo's service sets [serve]), so that the file is what runs.
func (e *Env) SaveConfig() error {
	data, err := toml.Marshal(e.Config)
	if err != nil {
		return fmt.Errorf("demo: encoding the configuration: %w", err)
	}
	if err := os.WriteFile(filepath.Join(e.Dir, "config.toml"), data, 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}
