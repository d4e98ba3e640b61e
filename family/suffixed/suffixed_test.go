package suffixed

import (
	"testing"

	"github.com/kupdate/kupdate/kernelorg"
)

func rel(t *testing.T, v, suffix string) Release {
	t.Helper()
	ver, err := kernelorg.ParseVersion(v)
	if err != nil {
		t.Fatal(err)
	}
	return Release{ver, suffix}
}

func TestPick(t *testing.T) {
	cur := rel(t, "6.18.4", "zen1")
	for _, tc := range []struct {
		name  string
		cands []Release
		best  int
		want  Verdict
	}{
		{"none", nil, -1, Current},
		{"newer point release", []Release{rel(t, "6.18.4", "zen1"), rel(t, "6.18.9", "zen1")}, 1, Move},
		{"newer suffix", []Release{rel(t, "6.18.4", "zen2")}, 0, Move},
		{"number, not letters", []Release{rel(t, "6.18.4", "zen10"), rel(t, "6.18.4", "zen9")}, 0, Move},
		{"newer series", []Release{rel(t, "7.0.3", "zen1"), rel(t, "6.18.9", "zen1")}, 0, Move},
		{"an older series is never taken", []Release{rel(t, "6.17.13", "zen1")}, -1, Current},
		{"the same", []Release{rel(t, "6.18.4", "zen1")}, 0, Current},
		{"the tree is ahead", []Release{rel(t, "6.18.3", "zen2")}, 0, Ahead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			best, v := Pick(cur, tc.cands)
			if best != tc.best || v != tc.want {
				t.Errorf("Pick = %d, %v; want %d, %v", best, v, tc.best, tc.want)
			}
		})
	}
}
