package workflow

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kupdate/kupdate/build"
)

// templatePlatforms are the platforms nixpkgs' pull request template lists
// under "Built on platform:", in its order.
var templatePlatforms = []string{"x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin"}

// done is what kupdate did of the template's "Things done", read from the
// build report: the kernel tier built every kernel and passed (on
// platform), the test tier ran NixOS tests for every kernel and passed.
type done struct {
	builtOn string // the platform, "" when the kernel tier did not pass for all
	tested  bool
}

// didOf reads r: a tier counts only when it ran for every attribute of r
// and passed each time.
func didOf(r build.Report, platform string) done {
	var d done
	if passedAll(r, "kernel") {
		d.builtOn = platform
	}
	d.tested = passedAll(r, "test")
	return d
}

// passedAll reports whether tier ran for every attribute of r and passed.
func passedAll(r build.Report, tier string) bool {
	attrs := r.Attrs()
	for _, a := range attrs {
		i := slices.IndexFunc(r.For(a), func(res build.Result) bool { return res.Tier == tier })
		if i < 0 || r.For(a)[i].Status != build.Passed {
			return false
		}
	}
	return len(attrs) > 0
}

func box(ticked bool) string {
	if ticked {
		return "[x]"
	}
	return "[ ]"
}

// thingsDone is nixpkgs' "Things done" checklist (.github/PULL_REQUEST_TEMPLATE.md,
// kept with its provenance in testdata/nixpkgs), a box ticked only for
// what kupdate did: built on the platform of the kernel tier, NixOS tests
// of the test tier, and its disclosure per the automation/AI policy. The
// rest (nixpkgs-review, release notes, CONTRIBUTING.md) is a person's to
// tick. Its link definitions come with it.
func thingsDone(d done) string {
	var b strings.Builder
	b.WriteString("## Things done\n\n- Built on platform:\n")
	for _, p := range templatePlatforms {
		fmt.Fprintf(&b, "  - %s %s\n", box(d.builtOn == p), p)
	}
	if d.builtOn != "" && !slices.Contains(templatePlatforms, d.builtOn) {
		fmt.Fprintf(&b, "  - [x] %s\n", d.builtOn)
	}
	fmt.Fprintf(&b, "- Tested:\n  - %s [NixOS tests] in [nixos/tests].\n", box(d.tested))
	b.WriteString(checklistRest)
	return b.String()
}

// checklistRest is the template's list after the NixOS tests, in its
// words, with the automation/AI policy line nixpkgs' 2026 template ends
// with (see testdata/nixpkgs/PROVENANCE); kupdate's disclosure below is
// what that policy asks, so that box is ticked.
const checklistRest = "  - [ ] [Package tests] at `passthru.tests`.\n" +
	"  - [ ] Tests in [lib/tests] or [pkgs/test] for functions and \"core\" functionality.\n" +
	"- [ ] Ran `nixpkgs-review` on this PR. See [nixpkgs-review usage].\n" +
	"- [ ] Tested basic functionality of all binary files, usually in `./result/bin/`.\n" +
	"- Nixpkgs Release Notes\n" +
	"  - [ ] Package update: when the change is major or breaking.\n" +
	"- NixOS Release Notes\n" +
	"  - [ ] Module addition: when adding a new NixOS module.\n" +
	"  - [ ] Module update: when the change is significant.\n" +
	"- [ ] Fits [CONTRIBUTING.md], [pkgs/README.md], [maintainers/README.md] and other READMEs.\n" +
	"- [x] Follows the [automation/AI policy].\n"

// templateLinks are the link definitions of the checklist, as the template
// writes them; they end the body.
const templateLinks = "[NixOS tests]: https://nixos.org/manual/nixos/unstable/index.html#sec-nixos-tests\n" +
	"[Package tests]: https://github.com/NixOS/nixpkgs/blob/master/pkgs/README.md#package-tests\n" +
	"[nixpkgs-review usage]: https://github.com/Mic92/nixpkgs-review#usage\n" +
	"\n" +
	"[CONTRIBUTING.md]: https://github.com/NixOS/nixpkgs/blob/master/CONTRIBUTING.md\n" +
	"[automation/AI policy]: https://github.com/NixOS/nixpkgs/blob/master/CONTRIBUTING.md#automationai-policy\n" +
	"[lib/tests]: https://github.com/NixOS/nixpkgs/blob/master/lib/tests\n" +
	"[maintainers/README.md]: https://github.com/NixOS/nixpkgs/blob/master/maintainers/README.md\n" +
	"[nixos/tests]: https://github.com/NixOS/nixpkgs/blob/master/nixos/tests\n" +
	"[pkgs/README.md]: https://github.com/NixOS/nixpkgs/blob/master/pkgs/README.md\n" +
	"[pkgs/test]: https://github.com/NixOS/nixpkgs/blob/master/pkgs/test\n"

// HostPlatform is the Nix system of this machine (x86_64-linux), which a
// nix-build without --system builds for; "" when Nix has no name for it.
func HostPlatform(goos, goarch string) string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "riscv64": "riscv64", "ppc64le": "powerpc64le", "loong64": "loongarch64"}[goarch]
	if arch == "" || (goos != "linux" && goos != "darwin") {
		return ""
	}
	return arch + "-" + goos
}
