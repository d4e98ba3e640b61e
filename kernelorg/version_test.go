package kernelorg

import (
	"testing"

	"golang.org/x/mod/semver"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in     string
		want   Version
		branch string
		semver string
	}{
		{"6.12.64", Version{Major: 6, Minor: 12, Patch: 64}, "6.12", "v6.12.64"},
		{"6.19", Version{Major: 6, Minor: 19}, "6.19", "v6.19.0"},
		{"6.19-rc4", Version{Major: 6, Minor: 19, RC: 4}, "testing", "v6.19.0-rc.4"},
		{"6.19-rc10", Version{Major: 6, Minor: 19, RC: 10}, "testing", "v6.19.0-rc.10"},
		{"3.0", Version{Major: 3}, "3.0", "v3.0.0"},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if err != nil {
			t.Fatalf("ParseVersion(%q): %v", tt.in, err)
		}
		if got != tt.want || got.String() != tt.in || got.Branch() != tt.branch || got.Semver() != tt.semver {
			t.Errorf("ParseVersion(%q) = %+v (%s, branch %s, %s), want %+v (%s, %s)", tt.in, got, got, got.Branch(), got.Semver(), tt.want, tt.branch, tt.semver)
		}
	}
}

func TestParseVersionRejects(t *testing.T) {
	for _, in := range []string{"", "v6.12", "6", "6.12.0", "06.12", "6.012", "6.12-rc0", "6.12.64-rc1", "next-20260105",
		"6.12/../../etc", "6.12.64 ", " 6.12", "6.12;rm", "6.12.1.2", "6.19-rc04", "+6.1", "6.12.99999", "6.12-rc100"} {
		if v, err := ParseVersion(in); err == nil {
			t.Errorf("ParseVersion(%q) = %v, want error", in, v)
		}
	}
}

func TestCompare(t *testing.T) {
	ordered := []string{"5.10.247", "6.1", "6.1.159", "6.12-rc1", "6.12-rc2", "6.12-rc9", "6.12-rc10", "6.12", "6.12.1", "6.12.9", "6.12.10", "6.19-rc4", "7.0-rc1", "7.0"}
	for i := range ordered {
		for j := range ordered {
			a, b := MustParseVersion(ordered[i]), MustParseVersion(ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestCompareSeries(t *testing.T) {
	ordered := []string{"bogus", "5.4", "5.10", "5.15", "6.1", "6.6", "6.12", "6.18", "7.0", "testing"}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := CompareSeries(ordered[i], ordered[j]); got != want {
				t.Errorf("CompareSeries(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

// FuzzParseVersion checks that whatever parses round-trips exactly and orders
// the same way x/mod/semver orders its canonical form.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"6.12.64", "6.19", "6.19-rc4", "6.19-rc10", "5.10.247", "7.0-rc1", "x"} {
		f.Add(s, "6.12.1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err := ParseVersion(a)
		if err != nil {
			return
		}
		if va.String() != a {
			t.Fatalf("ParseVersion(%q).String() = %q", a, va.String())
		}
		if !semver.IsValid(va.Semver()) {
			t.Fatalf("Semver() of %q = %q is not valid semver", a, va.Semver())
		}
		vb, err := ParseVersion(b)
		if err != nil {
			return
		}
		if got, want := va.Compare(vb), semver.Compare(va.Semver(), vb.Semver()); got != want {
			t.Fatalf("Compare(%s, %s) = %d, semver says %d", a, b, got, want)
		}
	})
}
