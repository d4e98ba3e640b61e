package workflow

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/build"
)

// report is a build of attrs in tiers, every one with status st except
// those listed in other ("attr/tier" -> status).
func report(attrs, tiers []string, other map[string]build.Status) build.Report {
	var r build.Report
	for _, a := range attrs {
		for _, t := range tiers {
			st, ok := other[a+"/"+t]
			if !ok {
				st = build.Passed
			}
			r.Results = append(r.Results, build.Result{Attr: a, Tier: t, Status: st})
		}
	}
	return r
}

// The "Things done" boxes kupdate ticks: the platform only when the kernel
// tier built every kernel, the NixOS tests only when the test tier passed
// for every kernel, the automation/AI policy always (the body discloses);
// none of the boxes that are a person's to tick.
func TestThingsDone(t *testing.T) {
	all := []string{"eval", "configfile", "kernel", "test"}
	two := []string{"linux_6_12", "linux_6_18"}
	for _, tc := range []struct {
		name     string
		r        build.Report
		platform string
		want     []string // the ticked lines
	}{
		{"every tier passed", report(two, all, nil), "x86_64-linux",
			[]string{"  - [x] x86_64-linux", "  - [x] [NixOS tests] in [nixos/tests].", "- [x] Follows the [automation/AI policy]."}},
		{"on aarch64-linux", report(two, all, nil), "aarch64-linux",
			[]string{"  - [x] aarch64-linux", "  - [x] [NixOS tests] in [nixos/tests].", "- [x] Follows the [automation/AI policy]."}},
		{"a platform the template does not list", report(two, all, nil), "riscv64-linux",
			[]string{"  - [x] riscv64-linux", "  - [x] [NixOS tests] in [nixos/tests].", "- [x] Follows the [automation/AI policy]."}},
		{"no kernel tier configured", report(two, []string{"eval", "configfile"}, nil), "x86_64-linux",
			[]string{"- [x] Follows the [automation/AI policy]."}},
		{"one kernel failed to build", report(two, all, map[string]build.Status{"linux_6_18/kernel": build.Failed, "linux_6_18/test": build.Skipped}), "x86_64-linux",
			[]string{"- [x] Follows the [automation/AI policy]."}},
		{"a NixOS test failed", report(two, all, map[string]build.Status{"linux_6_12/test": build.Failed}), "x86_64-linux",
			[]string{"  - [x] x86_64-linux", "- [x] Follows the [automation/AI policy]."}},
		{"a NixOS test timed out", report(two, all, map[string]build.Status{"linux_6_12/test": build.TimedOut}), "x86_64-linux",
			[]string{"  - [x] x86_64-linux", "- [x] Follows the [automation/AI policy]."}},
		{"the kernel tier, but no NixOS tests", report(two, []string{"eval", "kernel"}, nil), "x86_64-linux",
			[]string{"  - [x] x86_64-linux", "- [x] Follows the [automation/AI policy]."}},
		{"the platform unknown", report(two, all, nil), "",
			[]string{"  - [x] [NixOS tests] in [nixos/tests].", "- [x] Follows the [automation/AI policy]."}},
		{"not built", build.Report{}, "x86_64-linux",
			[]string{"- [x] Follows the [automation/AI policy]."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := thingsDone(didOf(tc.r, tc.platform))
			var ticked []string
			for line := range strings.SplitSeq(got, "\n") {
				if strings.Contains(line, "[x]") {
					ticked = append(ticked, line)
				}
			}
			if diff := cmp.Diff(tc.want, ticked); diff != "" {
				t.Errorf("ticked (-want +got):\n%s\n%s", diff, got)
			}
			// Everything else is the template's, unticked.
			if n := strings.Count(got, "[ ]") + strings.Count(got, "[x]"); n != 14 && n != 15 {
				t.Errorf("%d boxes:\n%s", n, got)
			}
		})
	}
}

func TestHostPlatform(t *testing.T) {
	for _, tc := range []struct{ goos, goarch, want string }{
		{"linux", "amd64", "x86_64-linux"},
		{"linux", "arm64", "aarch64-linux"},
		{"darwin", "arm64", "aarch64-darwin"},
		{"darwin", "amd64", "x86_64-darwin"},
		{"windows", "amd64", ""},
		{"linux", "mips", ""},
	} {
		if got := HostPlatform(tc.goos, tc.goarch); got != tc.want {
			t.Errorf("HostPlatform(%s, %s) = %q, want %q", tc.goos, tc.goarch, got, tc.want)
		}
	}
}
