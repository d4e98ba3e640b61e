// Package suffixed orders the releases of kernels that carry a project's
// suffix after kernel.org's version (zen's 6.18.9-zen1, xanmod's
// 6.12.61-xanmod1) and picks the one a variant moves to: the rules the zen
// and xanmod families share.
package suffixed

import (
	"strconv"
	"strings"

	"github.com/kupdate/kupdate/kernelorg"
)

// A Release is kernel.org's version and the project's suffix: letters,
// then the project's release number for that version.
type Release struct {
	Version kernelorg.Version
	Suffix  string
}

func (r Release) String() string { return r.Version.String() + "-" + r.Suffix }

// Newer reports whether r is newer than o: by kernel version, then by the
// suffix's number (zen2 after zen1, whatever the letters).
func (r Release) Newer(o Release) bool {
	if c := r.Version.Compare(o.Version); c != 0 {
		return c > 0
	}
	return number(r.Suffix) > number(o.Suffix)
}

func number(suffix string) int {
	n, _ := strconv.Atoi(strings.TrimLeft(suffix, "abcdefghijklmnopqrstuvwxyz"))
	return n
}

// A Verdict is what a variant does about upstream's newest release.
type Verdict int

const (
	Current Verdict = iota // nothing newer upstream (or nothing at all)
	Move                   // move to the release Pick names
	Ahead                  // the tree is newer than upstream's newest: never going backwards
)

// Pick is the index in cands of the newest release of cur's series or a
// newer one (an older series is never taken, whatever its date), and what
// cur does about it; -1 when cands has none.
func Pick(cur Release, cands []Release) (int, Verdict) {
	best := -1
	for i, c := range cands {
		if kernelorg.CompareSeries(c.Version.Series(), cur.Version.Series()) < 0 {
			continue
		}
		if best < 0 || c.Newer(cands[best]) {
			best = i
		}
	}
	switch {
	case best < 0:
		return -1, Current
	case cur.Newer(cands[best]):
		return best, Ahead
	case !cands[best].Newer(cur):
		return best, Current
	}
	return best, Move
}
