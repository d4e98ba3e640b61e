package main

import (
	"strings"
	"testing"
	"time"

	"github.com/kupdate/kupdate/state"
)

// The lag table: the newest version of each attribute with a history, its
// age since kernel.org's release and each stage after the release.
func TestWriteLag(t *testing.T) {
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	rel := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	st := &state.State{Attrs: []state.Attr{
		{Attr: "linux_6_12", History: []state.Release{
			{Version: "6.12.69", Released: rel.Add(-7 * 24 * time.Hour)},
			{Version: "6.12.70", Released: rel, Proposed: rel.Add(45 * time.Minute), Merged: rel.Add(26*time.Hour + 10*time.Minute)},
		}},
		{Attr: "linux_6_6"}, // no history: no row
		{Attr: "linux_6_19_hardened", History: []state.Release{{Version: "6.19.2-hardened1", Proposed: rel}}},
	}}
	var b strings.Builder
	writeLag(&b, st, now)
	want := `
Lag since kernel.org's release:
ATTR                 VERSION           RELEASED   PR    BASE    TARGET
linux_6_12           6.12.70           3d 2h ago  +45m  +1d 2h  -
linux_6_19_hardened  6.19.2-hardened1  -          -     -       -
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	writeLag(&b, &state.State{}, now)
	if b.Len() != 0 {
		t.Errorf("no history, but:\n%s", b.String())
	}
}
