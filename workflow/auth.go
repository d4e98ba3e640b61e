package workflow

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v92/github"
	"golang.org/x/oauth2"

	"github.com/kupdate/kupdate/config"
)

// authError is a failure to get credentials: never worth retrying within a
// cycle.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// tokenSource picks the credentials: a GitHub App installation when app_id
// is set, otherwise the token in the environment variable token_env.
// Neither the token nor the key ever reaches a log line or an error.
func tokenSource(cfg config.GitHub, getenv func(string) string, base http.RoundTripper, apiURL string, dryRun bool) (oauth2.TokenSource, bool, error) {
	if cfg.AppID != 0 {
		pem, err := os.ReadFile(cfg.PrivateKeyFile)
		if err != nil {
			return nil, false, fmt.Errorf("github.private_key_file: %w (the PEM private key GitHub generated for app %d)", err, cfg.AppID)
		}
		key, err := jwt.ParseRSAPrivateKeyFromPEM(pem)
		if err != nil {
			return nil, false, fmt.Errorf("github.private_key_file %s: not an RSA private key in PEM form: %v (download a new key from the app's settings page)", cfg.PrivateKeyFile, err)
		}
		src := &appTokenSource{appID: cfg.AppID, installation: cfg.InstallationID, key: key, base: base, apiURL: apiURL}
		// Refresh five minutes before GitHub's one-hour expiry, so no request
		// goes out with a token about to lapse.
		return oauth2.ReuseTokenSourceWithExpiry(nil, src, 5*time.Minute), true, nil
	}
	// A name that does not pass validation (a Config built in code) is
	// refused before anything prints it.
	if err := cfg.TokenEnv.Check(); err != nil {
		return nil, false, fmt.Errorf("github.token_env: %w", err)
	}
	tok := cfg.TokenEnv.Lookup(getenv)
	if tok == "" {
		if dryRun {
			return nil, false, nil // a dry run may read a public repository anonymously
		}
		return nil, false, fmt.Errorf("environment variable %s (github.token_env) is empty or unset: export a GitHub token that may write pull requests, issues and commit statuses on %s/%s, or configure GitHub App auth (github.app_id)", cfg.TokenEnv, cfg.Owner, cfg.Repo)
	}
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok}), false, nil
}

// appTokenSource exchanges a JWT signed with the app's key for an
// installation token (POST /app/installations/{id}/access_tokens).
type appTokenSource struct {
	appID, installation int64
	key                 *rsa.PrivateKey
	base                http.RoundTripper
	apiURL              string
}

func (s *appTokenSource) Token() (*oauth2.Token, error) {
	now := time.Now()
	// iat a minute in the past allows for clock drift; GitHub refuses an exp
	// more than ten minutes after iat.
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(s.appID, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}).SignedString(s.key)
	if err != nil {
		return nil, &authError{fmt.Errorf("signing the GitHub App JWT: %w", err)}
	}
	gh, err := github.NewClient(github.WithHTTPClient(&http.Client{Transport: s.base, Timeout: time.Minute}),
		github.WithURLs(&s.apiURL, &s.apiURL), github.WithAuthToken(signed))
	if err != nil {
		return nil, &authError{err}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// An empty options object, not nil: go-github would send the body
	// "null", which GitHub's description of the operation does not allow.
	it, _, err := gh.Apps.CreateInstallationToken(ctx, s.installation, &github.InstallationTokenOptions{})
	if err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode < 500 {
			return nil, &authError{fmt.Errorf("GitHub App %d, installation %d: no installation token: %s (check github.app_id, github.installation_id and that github.private_key_file is the app's current key)", s.appID, s.installation, er.Message)}
		}
		return nil, fmt.Errorf("GitHub App %d: requesting an installation token: %w", s.appID, err)
	}
	return &oauth2.Token{AccessToken: it.GetToken(), TokenType: "Bearer", Expiry: it.GetExpiresAt().Time}, nil
}
