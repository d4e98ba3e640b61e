package server

import (
	"testing"
	"time"
)

func TestRelativeTimes(t *testing.T) {
	now := time.Date(2026, 11, 2, 10, 17, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"},
		{59 * time.Second, "just now"},
		{-59 * time.Second, "just now"},
		{time.Minute, "in 1m"},
		{12*time.Minute + 59*time.Second, "in 12m"},
		{-3 * time.Hour, "3h ago"},
		{3*time.Hour + 7*time.Minute, "in 3h7m"},
		{-(47*time.Hour + 59*time.Minute), "47h59m ago"},
		{48 * time.Hour, "in 2d"},
		{-(3*24*time.Hour + 2*time.Hour + 30*time.Minute), "3d2h ago"},
	} {
		if got := rel(now, now.Add(tc.d)); got != tc.want {
			t.Errorf("rel(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := humanDuration(44*time.Second + 600*time.Millisecond); got != "45s" {
		t.Errorf("humanDuration(44.6s) = %q", got)
	}
	if got := when(time.Date(2026, 11, 2, 11, 17, 59, 0, time.FixedZone("CET", 3600))); got != "2026-11-02 10:17 UTC" {
		t.Errorf("when = %q", got)
	}
	if got := when(time.Time{}); got != "never" {
		t.Errorf("when(zero) = %q", got)
	}
}
