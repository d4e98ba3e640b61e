package family

import (
	"fmt"
	"regexp"
	"strings"
)

// Key is the identity of a change: which family made it, which attribute it
// changes, and what it moves that attribute to. Two commits with the same
// Key propose the same thing, whatever their titles say.
type Key struct {
	Family string // "kernel.org", "hardened"
	Attr   string // linux_6_12
	// Target is what the change moves Attr to, in the family's words: a
	// version ("6.12.64", "6.12.64-hardened1"), "removed", "lts=true".
	Target string
}

func (k Key) String() string { return k.Family + ":" + k.Attr + "@" + k.Target }

// IsZero reports whether k is no key at all.
func (k Key) IsZero() bool { return k == Key{} }

// Valid checks that k can be written as trailers and read back.
func (k Key) Valid() error {
	switch {
	case !familyRE.MatchString(k.Family):
		return fmt.Errorf("family %q: want lower-case letters, digits, '.' and '-'", k.Family)
	case !ValidAttr(k.Attr):
		return fmt.Errorf("attribute %q: want %s", k.Attr, AttrShape)
	case !targetRE.MatchString(k.Target):
		return fmt.Errorf("target %q: want 1 to 100 printable characters without spaces", k.Target)
	}
	return nil
}

var (
	familyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,39}$`)
	attrRE   = regexp.MustCompile(`^linux_[0-9a-z_]+$`)
	targetRE = regexp.MustCompile(`^[!-~]{1,100}$`)
)

// ValidAttr reports whether s has the shape of a kernel attribute of
// nixpkgs: linux_6_12, linux_testing, linux_6_12_hardened, linux_zen. It is
// the one check of that shape (--only, trailers, status, build commands).
func ValidAttr(s string) bool { return attrRE.MatchString(s) }

// AttrShape says in words what ValidAttr accepts, for errors.
const AttrShape = "linux_<lower-case letters, digits and _>"

// The trailers that carry a commit's Key, beside PreparedBy in the message's
// last paragraph.
const (
	TrailerFamily = "Kupdate-Family"
	TrailerAttr   = "Kupdate-Attr"
	TrailerTarget = "Kupdate-Target"
)

// PreparedBy is the trailer that marks kupdate's commits. A commit on a
// kupdate branch without it was made by someone else.
const PreparedBy = "Prepared-by: kupdate"

// Trailers are the trailer lines of a commit of k, PreparedBy first.
func (k Key) Trailers() []string {
	return []string{
		PreparedBy,
		TrailerFamily + ": " + k.Family,
		TrailerAttr + ": " + k.Attr,
		TrailerTarget + ": " + k.Target,
	}
}

// Trailers reads the trailer paragraph of a commit message: the last
// paragraph, when every line of it is "Token: value". Values are trimmed; a
// token given twice keeps its first value.
func Trailers(msg string) map[string]string {
	msg = strings.TrimRight(msg, "\n")
	last := msg[strings.LastIndex(msg, "\n\n")+1:]
	last = strings.TrimLeft(last, "\n")
	out := map[string]string{}
	for line := range strings.SplitSeq(last, "\n") {
		tok, val, ok := strings.Cut(line, ":")
		if !ok || tok == "" || strings.ContainsAny(tok, " \t") {
			return nil
		}
		if _, seen := out[tok]; !seen {
			out[tok] = strings.TrimSpace(val)
		}
	}
	return out
}

// KeyOf reads the Key a commit message carries. ok is false when the
// message has no complete, valid Key (a commit of an earlier kupdate, or
// someone else's).
func KeyOf(msg string) (Key, bool) {
	t := Trailers(msg)
	k := Key{Family: t[TrailerFamily], Attr: t[TrailerAttr], Target: t[TrailerTarget]}
	if k.Valid() != nil {
		return Key{}, false
	}
	return k, true
}
