package family

import (
	"strings"
)

// LegacyKey reads the Key of a commit that kupdate pushed before commits
// carried one (no Kupdate-* trailers) from its title. It is the only place
// where a title is read back into facts, and it knows exactly the titles
// those versions wrote, which never change again; ok is false for any other
// title.
func LegacyKey(title string) (Key, bool) {
	head, rest, ok := strings.Cut(title, ": ")
	if !ok {
		return Key{}, false
	}
	if branch, ok := strings.CutPrefix(head, "linux/hardened/patches/"); ok {
		_, to, ok := strings.Cut(rest, " -> ")
		k := Key{Family: "hardened", Attr: "linux_" + strings.ReplaceAll(branch, ".", "_") + "_hardened", Target: strings.TrimPrefix(to, "v")}
		return k, ok && k.Valid() == nil
	}
	k := Key{Family: "kernel.org", Attr: head}
	if strings.HasSuffix(head, "_hardened") {
		k.Family = "hardened"
	}
	switch {
	case rest == "remove":
		k.Target = "removed"
	case rest == "mark as longterm":
		k.Target = "lts=true"
	case rest == "mark as not longterm":
		k.Target = "lts=false"
	case strings.HasPrefix(rest, "init at "):
		k.Target = strings.TrimPrefix(rest, "init at ")
	default:
		_, k.Target, _ = strings.Cut(rest, " -> ")
	}
	return k, k.Valid() == nil
}
