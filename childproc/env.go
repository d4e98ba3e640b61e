// Package childproc is how kupdate starts every child process, Nix and git
// alike: with an allow-listed environment, so no secret of kupdate's reaches
// a process that evaluates code from the nixpkgs tree; with a death signal,
// so a child does not outlive a killed kupdate; and, in a directory kupdate
// exported, holding that directory's lock for as long as it lives, so a
// later run never rewrites a tree a survivor still works in.
package childproc

import (
	"slices"
	"strings"
)

// allowedNames are the variables a child gets from kupdate's environment
// as they are: what Nix and git need to find their programs, their
// configuration, a temporary directory, the locale, a proxy and the CA
// certificates, and an ssh agent for remote builders. Everything else stays
// with kupdate: the tree at the base branch is evaluated impurely, and any
// expression merged there can read its evaluator's environment with
// builtins.getEnv and print it into the build log a PR shows.
var allowedNames = []string{
	"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TZ", "LANG", "LANGUAGE", "LOCALE_ARCHIVE",
	"XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
	"XDG_CONFIG_DIRS", "XDG_DATA_DIRS",
	"http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy",
	"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "ALL_PROXY", "NO_PROXY",
	"SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH",
	"GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM",
	"SSH_AUTH_SOCK",
}

// allowedPrefixes are families passed whole: the locale's LC_*, and Nix's
// own NIX_* (NIX_PATH, NIX_REMOTE, NIX_STORE_DIR, NIX_SSL_CERT_FILE,
// NIX_SSHOPTS, NIX_CONFIG, ...), which are Nix's configuration. Not GIT_*:
// GIT_DIR and GIT_INDEX_FILE would point git at another repository,
// GIT_ASKPASS and GIT_CONFIG_KEY_n/GIT_CONFIG_VALUE_n can carry credentials,
// and kupdate sets the GIT_* variables its git commands need itself.
var allowedPrefixes = []string{"LC_", "NIX_"}

// nixConfigDropped are the settings taken out of NIX_CONFIG. Nix keeps
// tokens for its fetchers there, often the very token of github.token_env;
// building nixpkgs' kernels needs none (their sources are fixed-output
// fetches), and the evaluated tree could read them with
// builtins.getEnv "NIX_CONFIG".
var nixConfigDropped = []string{"access-tokens", "extra-access-tokens"}

// Env is the environment of a child process: the entries of parent (as
// os.Environ returns them) that are allow-listed, NIX_CONFIG without access
// tokens, then extra (variables kupdate sets itself, e.g.
// KUPDATE_KERNEL_MIRROR), which win over parent's. No variable named in
// secrets (the variables config's *_env keys name) is kept, wherever it
// comes from and even when it is allow-listed. The result is never nil, so
// an exec.Cmd given it does not fall back to kupdate's whole environment.
func Env(parent, extra, secrets []string) []string {
	out := make([]string, 0, len(allowedNames)+len(extra))
	overridden := func(name string) bool {
		return slices.ContainsFunc(extra, func(kv string) bool { return envName(kv) == name })
	}
	for _, kv := range parent {
		name := envName(kv)
		if name == "" || !allowed(name) || slices.Contains(secrets, name) || overridden(name) {
			continue
		}
		if name == "NIX_CONFIG" {
			conf := stripNixConfig(kv[len(name)+1:])
			if strings.TrimSpace(conf) == "" {
				continue
			}
			kv = name + "=" + conf
		}
		out = append(out, kv)
	}
	for i, kv := range extra {
		name := envName(kv)
		if name == "" || slices.Contains(secrets, name) || slices.ContainsFunc(extra[i+1:], func(later string) bool { return envName(later) == name }) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// envName is the name of a NAME=value entry; "" when it has none.
func envName(kv string) string {
	name, _, ok := strings.Cut(kv, "=")
	if !ok {
		return ""
	}
	return name
}

func allowed(name string) bool {
	if slices.Contains(allowedNames, name) {
		return true
	}
	for _, p := range allowedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// stripNixConfig drops the lines of a NIX_CONFIG value that set an access
// token. Nix reads the value line by line, each "name = value" with "#"
// starting a comment, so a setting is exactly one line.
func stripNixConfig(conf string) string {
	lines := strings.Split(conf, "\n")
	kept := lines[:0]
	for _, l := range lines {
		setting, _, _ := strings.Cut(l, "#")
		// "access-tokens=x" is not a valid line, but Nix would quote it
		// in its error.
		if f := strings.Fields(setting); len(f) > 0 && slices.Contains(nixConfigDropped, envName(f[0]+"=")) {
			continue
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, "\n")
}
