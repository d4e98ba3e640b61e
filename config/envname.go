package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// EnvName is the name of an environment variable that holds a secret: the
// value of git.token_env, github.token_env and serve.webhook_secret_env.
//
// A token pasted in place of the name is a valid-looking identifier
// (ghp_ and letters), and the name is printed in advice ("check the token in
// $GITHUB_TOKEN"), so a value that was never validated must not be printed:
// a Config built in code (tests, the demo, a caller that skips Parse) is not
// validated. EnvName therefore prints and looks up only what passes Check;
// code that needs the bare string converts it explicitly, where review sees it.
type EnvName string

// notAName stands in for a value that does not pass Check.
const notAName = "<not a variable name>"

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// tokenPrefixes start GitHub's tokens: personal (classic), OAuth,
// user-to-server, server-to-server (an App installation's), refresh, and
// fine-grained personal. Names of environment variables are conventionally
// upper case, so no real name is lost by refusing these.
var tokenPrefixes = []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}

// legacyTokenRE is GitHub's token format before 2021: 40 lower-case hex
// digits, an identifier when it starts with a letter. Such tokens were made
// without an expiry, so they may still work.
var legacyTokenRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// tokenShape says why s looks like a GitHub token ("" when it does not),
// without repeating s: only the public prefix is named.
func tokenShape(s string) string {
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(s, p) {
			return fmt.Sprintf("a GitHub token (it starts with %q)", p)
		}
	}
	if legacyTokenRE.MatchString(s) {
		return "an old-style GitHub token (40 hex digits)"
	}
	return ""
}

// errNotAName is Check's answer for a value that is neither a name nor
// token-shaped (a webhook secret, a token with spaces around it).
var errNotAName = errors.New("want the name of an environment variable (letters, digits and _), not the secret itself")

// Check says what is wrong with n as the name of an environment variable,
// in words that never repeat n. Empty passes: it names no variable.
func (n EnvName) Check() error {
	if shape := tokenShape(string(n)); shape != "" {
		return fmt.Errorf("%s, not the name of an environment variable: remove it from the file, and revoke it on GitHub if others can read the file (the Nix store is world-readable)", shape)
	}
	if n != "" && !envNameRE.MatchString(string(n)) {
		return errNotAName
	}
	return nil
}

// String is n when it passes Check, and a placeholder otherwise: a value
// that would not pass validation is never printed, whatever built the
// Config. fmt uses it for %s, %v and %q.
func (n EnvName) String() string {
	if n.Check() != nil {
		return notAName
	}
	return string(n)
}

// MarshalText is String, so encoders (slog's JSON handler, encoding/json)
// hide a refused value too.
func (n EnvName) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// Lookup is the value of the variable n names, read with getenv: "" when n
// is empty or does not pass Check, so a pasted token is never used as a
// variable's name.
func (n EnvName) Lookup(getenv func(string) string) string {
	if n == "" || n.Check() != nil {
		return ""
	}
	return getenv(string(n))
}
