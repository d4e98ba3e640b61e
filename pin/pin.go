// Package pin finds the custom kernels pinned in a NixOS user's own Nix
// files (linuxPackages_custom, linuxManualConfig, buildLinux,
// linuxKernel.manualConfig calls and argsOverride sets, with src a fetchurl
// of kernel.org's release tarball), decides what each should move to from
// kernel.org's offers, and rewrites exactly the bytes that say the version
// and the hash. It reads and writes no file and runs nothing: `kupdate pin`
// (cmd/kupdate/pin.go) fetches, validates and commits.
package pin

import (
	"fmt"

	"github.com/kupdate/kupdate/kernelorg"
)

// Pin is one custom kernel found in a file.
type Pin struct {
	File string
	Line int    // the line of the version string kupdate edits
	Attr string // the name the commit title gives it: the binding holding the call, or linux_custom
	// Version is the version string the kernel gets ("6.1.55-custom"),
	// Upstream the kernel.org release it is ("6.1.55").
	Version  string
	Upstream kernelorg.Version
	Hash     string   // as written
	HashForm HashForm // the form kupdate writes the new hash in

	fields []field // the bytes a bump rewrites
}

// Problem is a kernel (or a file) kupdate cannot pin: reported with its
// file and line, and left as it is.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p *Problem) Error() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// fieldKind says which bytes a field is and so what a bump writes there.
type fieldKind int

const (
	fVersion fieldKind = iota // a version string's leading X.Y[.Z]: the user's suffix stays
	fModDir                   // modDirVersion's leading X.Y.Z, always three numbers
	fURLFile                  // the version in linux-X.Y.Z.tar.xz of a literal url
	fURLDir                   // the N of vN.x in a literal url
	fHash                     // the whole hash string
	fBranch                   // extraMeta.branch: the series, "6.6"
)

// field is a byte range of the file: [start, end) held text when found.
type field struct {
	kind       fieldKind
	start, end int
	text       string
}
