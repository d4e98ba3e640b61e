//go:build tools

// This file pins the dependencies the packages are being built against until
// each is imported for real; it is removed once every one is.
package deps

import (
	_ "github.com/ProtonMail/go-crypto/openpgp"
	_ "github.com/go-git/go-git/v5"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/go-github/v92/github"
	_ "github.com/nix-community/go-nix/pkg/nar"
	_ "github.com/pelletier/go-toml/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/robfig/cron/v3"
	_ "golang.org/x/mod/semver"
	_ "golang.org/x/oauth2"
)
