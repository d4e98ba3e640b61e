package build

import (
	"bufio"
	"io"
	"regexp"
	"strings"
)

// maxLineBytes caps one kept log line: a kernel build can print lines of
// megabytes (a linker command), and the tail goes into a PR body.
const maxLineBytes = 4096

// The messages by which Nix names the derivation that failed. The quoted path
// may carry an output suffix ("…drv^out", "…drv^*") in newer versions.
var (
	drvInQuotes = regexp.MustCompile(`'(/nix/store/[0-9a-z]{32}-[^'^]+\.drv)(\^[^']*)?'`)
	ansiEscape  = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
)

// nixLog keeps the last lines of a command's output and the derivation Nix
// blamed for a failure. It reads the whole stream, so the derivation is found
// wherever it was named, not only in the tail.
type nixLog struct {
	keep  int
	lines []string // ring of the last keep lines
	next  int      // index in lines of the oldest line, once the ring is full

	rootDrv  string // first derivation whose own builder failed
	depDrv   string // first derivation that failed because a dependency did
	building string // the last derivation Nix said it was building
	// pending is a drv from a "Cannot build '…'." line (Nix ≥ 2.21) whose
	// "Reason:" line, the next one, says whether it is the root cause.
	pending string
}

func newNixLog(keep int) *nixLog {
	if keep < 1 {
		keep = 1
	}
	return &nixLog{keep: keep}
}

// readFrom consumes r to its end (or its first error).
func (l *nixLog) readFrom(r io.Reader) {
	br := bufio.NewReaderSize(r, 64<<10)
	var cur []byte
	long := false
	for {
		frag, err := br.ReadSlice('\n')
		if len(cur)+len(frag) <= maxLineBytes {
			cur = append(cur, frag...)
		} else if !long {
			cur = append(cur, frag[:maxLineBytes-len(cur)]...)
			long = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(cur) > 0 {
			l.line(string(cur))
		}
		cur, long = cur[:0], false
		if err != nil {
			return
		}
	}
}

func (l *nixLog) line(s string) {
	s = strings.TrimRight(s, "\r\n")
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:] // a progress line redrawn in place: what a terminal shows
	}
	s = ansiEscape.ReplaceAllString(s, "")
	l.classify(s)
	if len(l.lines) < l.keep {
		l.lines = append(l.lines, s)
	} else {
		l.lines[l.next] = s
		l.next = (l.next + 1) % l.keep
	}
}

// classify looks for the failing derivation in one line. Messages, by version:
//
//	error: builder for '/nix/store/…drv' failed with exit code 2            (2.8 to 2.20)
//	error: 1 dependencies of derivation '/nix/store/…drv' failed to build    (2.8 to 2.20)
//	error: Cannot build '/nix/store/…drv'.                                   (2.21 and newer)
//	       Reason: builder failed with exit code 2.  |  Reason: 1 dependency failed.
//	error: build of '/nix/store/…drv' on 'ssh-ng://…' failed: …              (remote builders)
//	error: hash mismatch in fixed-output derivation '/nix/store/…drv':
func (l *nixLog) classify(s string) {
	if l.pending != "" {
		drv := l.pending
		l.pending = ""
		if r := strings.TrimSpace(s); strings.HasPrefix(r, "Reason:") && strings.Contains(r, "dependenc") {
			l.blame(drv, true)
		} else {
			l.blame(drv, false)
		}
	}
	m := drvInQuotes.FindStringSubmatchIndex(s)
	if m == nil {
		return
	}
	drv := s[m[2]:m[3]]
	before, after := s[:m[0]], s[m[1]:]
	switch {
	case strings.HasSuffix(before, "building "):
		l.building = drv
	case strings.HasSuffix(before, "Cannot build "):
		l.pending = drv
	case strings.HasSuffix(before, "builder for "), strings.Contains(before, "hash mismatch in fixed-output derivation"):
		l.blame(drv, false)
	case strings.HasSuffix(before, "build of ") && strings.Contains(after, "failed"):
		// A remote build names the root cause after the colon; prefer it.
		im := drvInQuotes.FindStringSubmatchIndex(after)
		switch {
		case im != nil && strings.HasSuffix(after[:im[0]], "Cannot build "):
			l.pending = after[im[2]:im[3]]
		case im != nil && strings.HasSuffix(after[:im[0]], "builder for "):
			l.blame(after[im[2]:im[3]], false)
		default:
			l.blame(drv, true)
		}
	case strings.Contains(before, "dependencies of derivation") && strings.Contains(after, "failed to build"):
		l.blame(drv, true)
	case strings.Contains(after, "timed out"):
		l.blame(drv, false)
	}
}

func (l *nixLog) blame(drv string, dependency bool) {
	if dependency {
		if l.depDrv == "" {
			l.depDrv = drv
		}
		return
	}
	if l.rootDrv == "" {
		l.rootDrv = drv
	}
}

// drv is the derivation to blame: the first whose own build failed, else the
// first that failed for a dependency.
func (l *nixLog) drv() string {
	if l.pending != "" { // the stream ended right after "Cannot build"
		l.blame(l.pending, false)
		l.pending = ""
	}
	if l.rootDrv != "" {
		return l.rootDrv
	}
	return l.depDrv
}

// tail is the last lines kept, oldest first, joined by newlines.
func (l *nixLog) tail() string {
	if len(l.lines) < l.keep {
		return strings.Join(l.lines, "\n")
	}
	out := make([]string, 0, l.keep)
	out = append(out, l.lines[l.next:]...)
	out = append(out, l.lines[:l.next]...)
	return strings.Join(out, "\n")
}
