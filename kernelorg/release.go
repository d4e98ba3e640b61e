package kernelorg

import (
	"errors"
	"time"
)

// Release is one row of kernel.org's releases.json, mapped to the nixpkgs
// branch it belongs to.
type Release struct {
	Version  Version
	Branch   string // kernels-org.json key: "6.12", or "testing" for an rc
	Moniker  string // mainline, stable, longterm
	EOL      bool
	LTS      bool   // kernel.org lists the series as longterm
	Released string // tag date, YYYY-MM-DD
	// ReleasedAt is when kernel.org released it: releases.json's
	// timestamp, else midnight UTC of Released; zero when it lists neither.
	ReleasedAt time.Time
	Source     string // tarball URL as kernel.org lists it
	ChangeLog  string // ChangeLog URL, empty when kernel.org lists none
}

// ErrNotYet means kernel.org has not published what a hash is made of: the
// signed checksum of a release (its sha256sums.asc has no line for it), or
// the git.kernel.org snapshot of an rc (HTTP 404). For a version
// releases.json lists, that is "not yet": the change waits for a later cycle,
// is never a reason to guess a hash, and never stops other branches. For a
// version releases.json does not list, it is evidence that the version is
// not a kernel.org release at all; telling the two apart is the caller's
// part, which holds releases.json.
var ErrNotYet = errors.New("kernel.org has not published it yet")
