package kernelorg

import "errors"

// Release is one row of kernel.org's releases.json, mapped to the nixpkgs
// branch it belongs to.
type Release struct {
	Version   Version
	Branch    string // kernels-org.json key: "6.12", or "testing" for an rc
	Moniker   string // mainline, stable, longterm
	EOL       bool
	LTS       bool   // kernel.org lists the series as longterm
	Released  string // tag date, YYYY-MM-DD
	Source    string // tarball URL as kernel.org lists it
	ChangeLog string // ChangeLog URL, empty when kernel.org lists none
}

// ErrNotYet means kernel.org has not published a signed checksum for a
// version yet: the change waits for a later cycle. It is never a reason to
// guess a hash, and never stops other branches.
var ErrNotYet = errors.New("kernel.org has not published a signed checksum for it yet")
