package build

import (
	"fmt"
	"strings"
)

// Summary sums up r in one line, for a commit status, a log or an error:
// the count of each status and which tiers failed or timed out, e.g.
// "3 passed, 1 failed (linux_6_18 configfile)"; "nothing to build" when r is
// empty.
func (r Report) Summary() string {
	counts := map[Status]int{}
	var failed []string
	for _, res := range r.Results {
		counts[res.Status]++
		if res.Status == Failed || res.Status == TimedOut {
			failed = append(failed, res.Attr+" "+res.Tier)
		}
	}
	var parts []string
	for _, s := range []Status{Passed, Failed, TimedOut, Cancelled, Skipped} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], strings.ReplaceAll(string(s), "-", " ")))
		}
	}
	text := strings.Join(parts, ", ")
	if len(failed) > 0 {
		text += " (" + strings.Join(failed, ", ") + ")"
	}
	if text == "" {
		return "nothing to build"
	}
	return text
}
