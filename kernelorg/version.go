package kernelorg

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
)

// Version is a Linux kernel release as kernel.org names it: "6.12.64", "6.19" (a
// series' first release has no ".0") or "6.19-rc4". Versions reach URLs, file
// paths and commands, so ParseVersion accepts only that exact grammar.
type Version struct {
	Major, Minor int
	Patch        int // 0 for a series' first release and for release candidates
	RC           int // N for "-rcN", 0 for a release
}

// The bounds keep every number small enough that no comparison overflows and no
// lexical trick ("06", "+1", " 6") slips through into a path.
var versionRE = regexp.MustCompile(`^([1-9][0-9]?)\.(0|[1-9][0-9]{0,2})(?:\.([1-9][0-9]{0,3})|-rc([1-9][0-9]?))?$`)

// ParseVersion parses a kernel.org version string strictly.
func ParseVersion(s string) (Version, error) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("invalid kernel version %q: want MAJOR.MINOR, MAJOR.MINOR.PATCH or MAJOR.MINOR-rcN (e.g. 6.12.64, 6.19, 6.19-rc4)", truncate(s, 40))
	}
	var v Version
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.Patch, _ = strconv.Atoi(m[3])
	}
	if m[4] != "" {
		v.RC, _ = strconv.Atoi(m[4])
	}
	return v, nil
}

// MustParseVersion is for tests and literals.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

func (v Version) String() string {
	switch {
	case v.RC > 0:
		return fmt.Sprintf("%d.%d-rc%d", v.Major, v.Minor, v.RC)
	case v.Patch > 0:
		return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	default:
		return fmt.Sprintf("%d.%d", v.Major, v.Minor)
	}
}

// IsZero reports whether v is the zero Version (never a valid parse result).
func (v Version) IsZero() bool { return v == Version{} }

// IsRC reports whether v is a release candidate.
func (v Version) IsRC() bool { return v.RC > 0 }

// Series is "MAJOR.MINOR": the kernels-org.json key of a release (an rc's
// series is the one it will become, but nixpkgs files rcs under "testing").
func (v Version) Series() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Branch is the kernels-org.json key v belongs under: "testing" for an rc,
// the series otherwise.
func (v Version) Branch() string {
	if v.IsRC() {
		return "testing"
	}
	return v.Series()
}

// Semver is v in canonical semantic-version form ("v6.19.0-rc.4"), the form in
// which golang.org/x/mod/semver orders kernel versions correctly.
func (v Version) Semver() string {
	if v.IsRC() {
		return fmt.Sprintf("v%d.%d.0-rc.%d", v.Major, v.Minor, v.RC)
	}
	return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// Compare returns -1, 0 or +1. Release candidates of a series sort before its
// first release, and rc10 after rc9.
func (v Version) Compare(w Version) int {
	if c := cmp.Compare(v.Major, w.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Minor, w.Minor); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Patch, w.Patch); c != 0 {
		return c
	}
	return cmp.Compare(rcRank(v), rcRank(w))
}

// rcRank orders the rcs of a series below its release (RC 0).
func rcRank(v Version) int {
	if v.RC == 0 {
		return 1 << 20
	}
	return v.RC
}

// Less reports whether v sorts before w.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

// CompareSeries orders "MAJOR.MINOR" branch names numerically ("5.10" < "6.1" <
// "6.12"); "testing" sorts after every series. Unparsable names sort first,
// by string, so the order stays total.
func CompareSeries(a, b string) int {
	pa, oka := parseSeries(a)
	pb, okb := parseSeries(b)
	switch {
	case !oka && !okb:
		return cmp.Compare(a, b)
	case !oka:
		return -1
	case !okb:
		return 1
	}
	if c := cmp.Compare(pa[0], pb[0]); c != 0 {
		return c
	}
	return cmp.Compare(pa[1], pb[1])
}

// ParseSeries validates a "MAJOR.MINOR" branch name.
func ParseSeries(s string) (major, minor int, err error) {
	p, ok := parseSeries(s)
	if !ok || s == "testing" {
		return 0, 0, fmt.Errorf("invalid kernel branch %q: want MAJOR.MINOR (e.g. 6.12)", truncate(s, 40))
	}
	return p[0], p[1], nil
}

func parseSeries(s string) ([2]int, bool) {
	if s == "testing" {
		return [2]int{1 << 20, 0}, true
	}
	v, err := ParseVersion(s)
	if err != nil || v.Patch != 0 || v.RC != 0 {
		return [2]int{}, false
	}
	return [2]int{v.Major, v.Minor}, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
