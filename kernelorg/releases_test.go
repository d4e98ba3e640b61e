package kernelorg

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var discard = slog.New(slog.DiscardHandler)

const testURL = "https://kernel.test/releases.json"

// The real excerpt of 2020-12-14: mainline 5.10 and stable 5.10.1 are rows of
// the same branch, and the higher version wins it.
func TestParseReleasesFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/releases-2020-12-14-excerpt.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseReleases(testURL, data, discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []Release{{
		Version:  MustParseVersion("5.10.1"),
		Branch:   "5.10",
		Moniker:  "stable",
		Released: "2020-12-14",
		// releases.json's timestamp, to the second.
		ReleasedAt: time.Date(2020, 12, 14, 18, 33, 14, 0, time.UTC),
		Source:     "https://cdn.kernel.org/pub/linux/kernel/v5.x/linux-5.10.1.tar.xz",
		ChangeLog:  "https://cdn.kernel.org/pub/linux/kernel/v5.x/ChangeLog-5.10.1",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// row renders one releases.json row with the fields kernel.org sends and an
// unknown one, which must be ignored.
func row(moniker, version string, eol bool) string {
	b, _ := json.Marshal(map[string]any{
		"moniker": moniker, "version": version, "iseol": eol,
		"released": map[string]any{"timestamp": 1767571200, "isodate": "2026-01-05"},
		"source":   nil, "pgp": nil, "changelog": nil, "gitweb": "", "diffview": "",
		"patch":     map[string]any{"full": nil, "incremental": nil},
		"new_field": []int{1, 2, 3},
	})
	return string(b)
}

func doc(rows ...string) []byte {
	return []byte(`{"latest_stable": {"version": "6.18.5"}, "future": true, "releases": [` + strings.Join(rows, ",") + `]}`)
}

func TestParseReleasesMapping(t *testing.T) {
	// Rows in an order no code may rely on; linux-next skipped.
	data := doc(
		row("longterm", "5.4.301", true),
		row("linux-next", "next-20260105", false),
		row("stable", "6.18.5", false),
		row("longterm", "6.12.64", false),
		row("mainline", "6.19-rc4", false),
		row("stable", "6.17.13", true),
	)
	got, err := parseReleases(testURL, data, discard)
	if err != nil {
		t.Fatal(err)
	}
	type brief struct {
		Branch, Version, Moniker string
		EOL, LTS                 bool
	}
	var gotB []brief
	for _, r := range got {
		gotB = append(gotB, brief{r.Branch, r.Version.String(), r.Moniker, r.EOL, r.LTS})
		if r.Released != "2026-01-05" {
			t.Errorf("%s: Released = %q", r.Version, r.Released)
		}
	}
	want := []brief{
		{"5.4", "5.4.301", "longterm", true, true},
		{"6.12", "6.12.64", "longterm", false, true},
		{"6.17", "6.17.13", "stable", true, false},
		{"6.18", "6.18.5", "stable", false, false},
		{"testing", "6.19-rc4", "mainline", false, false},
	}
	if diff := cmp.Diff(want, gotB); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Between X.Y and X.(Y+1)-rc1 the mainline row is a final release: branch
// X.Y, not testing; once X.Y.1 is out it wins the branch, and a longterm row
// of the same series makes it LTS.
func TestParseReleasesMainlineFinal(t *testing.T) {
	got, err := parseReleases(testURL, doc(row("mainline", "6.19", false), row("stable", "6.18.5", false)), discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Branch != "6.19" || got[1].Moniker != "mainline" || got[1].Version.String() != "6.19" {
		t.Errorf("got %+v, want 6.18 and a mainline 6.19 on branch 6.19", got)
	}
	got, err = parseReleases(testURL, doc(row("mainline", "6.19", false), row("stable", "6.19.1", false), row("longterm", "6.19.1", false)), discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Version.String() != "6.19.1" || !got[0].LTS {
		t.Errorf("got %+v, want one LTS 6.19.1", got)
	}
}

func TestParseReleasesErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"garbage", []byte("<html>503</html>"), testURL + `: not releases.json: invalid character '<' looking for beginning of value (body starts "<html>503</html>")`},
		{"no releases", []byte(`{"latest_stable": {}}`), testURL + `: no "releases" array`},
		{"empty", doc(), testURL + ": lists no mainline, stable or longterm release"},
		{"only next", doc(row("linux-next", "next-20260105", false)), testURL + ": lists no mainline, stable or longterm release"},
		{"bad version", doc(row("stable", "6.18.5", false), row("stable", "6.18.x", false)), testURL + `: releases[1] (moniker "stable", version "6.18.x"): invalid kernel version "6.18.x"`},
		{"leading v", doc(row("longterm", "v6.12.64", false)), testURL + `: releases[0] (moniker "longterm", version "v6.12.64"): invalid kernel version`},
		{"unknown moniker", doc(row("experimental", "6.20", false)), testURL + `: releases[0] (moniker "experimental", version "6.20"): unknown moniker`},
		{"rc as stable", doc(row("stable", "6.19-rc4", false)), testURL + `: releases[0] (moniker "stable", version "6.19-rc4"): a release candidate listed as stable`},
		{"wrong type", doc(`{"moniker": "stable", "version": 6.18}`), testURL + `: releases[0]: json: cannot unmarshal number`},
		{"missing version", doc(`{"moniker": "stable"}`), testURL + `: releases[0]: want string fields "moniker" and "version"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseReleases(testURL, tt.data, discard)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("parseReleases = %v, %v; want an error starting %q", got, err, tt.want)
			}
		})
	}
}

// A linux-next row is skipped on its moniker, whatever its version says.
func TestParseReleasesSkipsLinuxNext(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	got, err := parseReleases(testURL, doc(row("linux-next", "garbage/../x", false), row("stable", "6.18.5", false)), log)
	if err != nil || len(got) != 1 {
		t.Fatalf("parseReleases = %v, %v", got, err)
	}
	if !strings.Contains(logs.String(), "skipping linux-next release") {
		t.Errorf("no log of the skipped row:\n%s", logs.String())
	}
}

// FuzzParseReleases: whatever parses satisfies the mapping's invariants.
func FuzzParseReleases(f *testing.F) {
	fixture, _ := os.ReadFile("testdata/releases-2020-12-14-excerpt.json")
	f.Add(fixture)
	f.Add(doc(row("mainline", "6.19-rc4", false), row("longterm", "6.12.64", false), row("linux-next", "next-20260105", false)))
	f.Add(doc(row("mainline", "6.19", false), row("stable", "6.19.1", true)))
	f.Add([]byte(`{"releases": null}`))
	f.Add([]byte(`{"releases": [{"moniker": "stable", "version": "6.1.1", "released": {"isodate": 5}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rels, err := parseReleases(testURL, data, discard)
		if err != nil {
			if !strings.HasPrefix(err.Error(), testURL) {
				t.Fatalf("error does not name the URL: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for i, r := range rels {
			if r.Branch != r.Version.Branch() || seen[r.Branch] {
				t.Fatalf("release %+v: branch %q (seen before: %v)", r, r.Branch, seen[r.Branch])
			}
			seen[r.Branch] = true
			if v, err := ParseVersion(r.Version.String()); err != nil || v != r.Version {
				t.Fatalf("version %v does not round-trip", r.Version)
			}
			if i > 0 && CompareSeries(rels[i-1].Branch, r.Branch) >= 0 {
				t.Fatalf("branches out of order: %s, %s", rels[i-1].Branch, r.Branch)
			}
			if r.Moniker != "mainline" && r.Moniker != "stable" && r.Moniker != "longterm" {
				t.Fatalf("moniker %q", r.Moniker)
			}
		}
	})
}
