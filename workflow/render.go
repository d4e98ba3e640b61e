package workflow

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/family"
)

// Disclosure ends every PR body kupdate writes: nixpkgs' automation policy
// wants automated PRs disclosed and reviewed by a person.
const Disclosure = "This PR was prepared by kupdate, an automated tool; per nixpkgs' automation policy a person must review it before merge."

// rollingTitle is the title of the rolling PR of point releases: format
// (github.rolling_title) with {date} the day the PR is opened. kupdate
// writes it once, when it opens the PR, and never again (see update): the
// PR is the rolling one by its head branch, which is data, so nothing reads
// a date or a format back out of a title, and neither a newer point release
// nor another title format renames an open PR.
func rollingTitle(format string, opened time.Time) string {
	return strings.Replace(format, "{date}", opened.UTC().Format(time.DateOnly), 1)
}

// promotionTitle is nixpkgs' title for bringing a staging branch into its
// target: "staging-nixos merge for 2026-01-10".
func promotionTitle(from string, opened time.Time) string {
	return from + " merge for " + opened.UTC().Format(time.DateOnly)
}

// isRolling reports whether u is the branch of point releases (with
// nothing left on it, too: its PR is still the rolling one).
func isRolling(u BranchUpdate) bool { return rolling(u.Changes) || len(u.Changes) == 0 }

// rolling reports whether the branch holds point releases only.
func rolling(cs []family.Change) bool {
	if len(cs) == 0 {
		return false
	}
	for _, c := range cs {
		if !c.Rolling() {
			return false
		}
	}
	return true
}

// Title is the PR title for u, were it opened at opened: the rolling title
// (format, github.rolling_title) for point releases, otherwise the change's
// own commit title.
func Title(u BranchUpdate, format string, opened time.Time) string {
	if isRolling(u) {
		return rollingTitle(format, opened)
	}
	titles := make([]string, len(u.Changes))
	for i, c := range u.Changes {
		titles[i] = c.Title
	}
	return strings.Join(titles, "; ")
}

// marker is the state kupdate keeps in a hidden HTML comment at the top of a
// PR body: which versions the PR proposes (so a PR a maintainer closed is
// recognised as "not these versions"), the head it describes and a digest of
// the build results shown (so the body is rewritten only when its content
// would change, and a person's edit of the text is left alone otherwise).
type marker struct {
	versions map[string]string // attribute -> version; "removed" for a removal
	head     string            // commit id, 12 hex digits
	build    string            // digest of the build section; "none" when not built
}

var markerRE = regexp.MustCompile(`<!-- kupdate: ([^>]*?) -->`)

func (m marker) String() string {
	var parts []string
	for _, a := range sortedKeys(m.versions) {
		parts = append(parts, a+"="+m.versions[a])
	}
	parts = append(parts, "head="+m.head, "build="+m.build)
	return "<!-- kupdate: " + strings.Join(parts, " ") + " -->"
}

func parseMarker(body string) (marker, bool) {
	sub := markerRE.FindStringSubmatch(body)
	if sub == nil {
		return marker{}, false
	}
	m := marker{versions: map[string]string{}}
	for _, f := range strings.Fields(sub[1]) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "head":
			m.head = v
		case "build":
			m.build = v
		default:
			m.versions[k] = v
		}
	}
	return m, true
}

func sameVersions(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// versions is what the changes propose, per attribute.
func versions(cs []family.Change) map[string]string {
	m := map[string]string{}
	for _, c := range cs {
		v := c.To
		if c.Removes() || v == "" {
			v = "removed"
		}
		m[c.Attr] = v
	}
	return m
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Limits that keep a body under GitHub's 65536 characters.
const (
	maxTail = 6000
	maxBody = 60000
)

// body renders the PR body for u in the shape of nixpkgs' pull request
// template: the bold list of commit titles and what they are, the "Things
// done" checklist (template.go), then kupdate's own: the build and test
// table, the upstream ChangeLogs, how to reproduce, and the disclosure.
// fetchURL is the repository the branch can be fetched from; platform is
// the Nix system the kernel tier builds for.
func body(u BranchUpdate, fetchURL, platform string) (string, marker) {
	buildMD, digest := buildSection(u.Build, maxTail)
	m := marker{versions: versions(u.Changes), head: short(u.Head), build: digest}
	render := func(buildMD string) string {
		var b strings.Builder
		b.WriteString(m.String())
		b.WriteString("\n")
		for _, c := range u.Changes {
			fmt.Fprintf(&b, "- **%s**\n", c.Title)
		}
		b.WriteString("\n" + intro(u.Changes) + "\n\n")
		b.WriteString(thingsDone(didOf(u.Build, platform)))
		b.WriteString("\n" + templateLinks)
		b.WriteString("\n## Build and test\n\n")
		writeBuild(&b, u, buildMD)
		writeChangeLogs(&b, u.Changes)
		writeReproduce(&b, u, fetchURL)
		b.WriteString("\n---\n\n")
		b.WriteString(Disclosure)
		b.WriteString("\n")
		return b.String()
	}
	out := render(buildMD)
	if len(out) > maxBody {
		// Too many long failures: the table stays, the log tails go (the
		// check run / status and the reproduce commands still lead to them).
		short, _ := buildSection(u.Build, 0)
		out = render(short)
	}
	return out, m
}

// writeBuild is the build and test section: the table, or for removals
// only, what to check instead.
func writeBuild(b *strings.Builder, u BranchUpdate, buildMD string) {
	removed := removedAttrs(u.Changes)
	if len(buildAttrs(u.Changes)) == 0 && len(u.Build.Results) == 0 {
		// Only removals: nothing exists to build, and "not built" would
		// suggest a step was skipped.
		fmt.Fprintf(b, "Nothing to build: this PR only removes %s.\n", codeList(removed))
	} else {
		b.WriteString(buildMD)
	}
	if len(removed) > 0 {
		b.WriteString("\nTo check the removal, evaluate what it removed: each `nix-instantiate` command below must now fail with the message of the `throw` that replaced it (on the base branch it still evaluates).\n")
	}
}

// writeChangeLogs lists upstream's change logs, which nixpkgs' commits do
// not carry: the PR does.
func writeChangeLogs(b *strings.Builder, cs []family.Change) {
	first := true
	for _, c := range cs {
		if c.ChangeLog == "" {
			continue
		}
		if first {
			b.WriteString("\n## ChangeLogs\n\n")
			first = false
		}
		fmt.Fprintf(b, "- `%s` %s: [ChangeLog](%s)\n", c.Attr, c.To, c.ChangeLog)
	}
}

// writeReproduce is how a reviewer gets the branch and builds (or, for a
// removal, evaluates) what it changes.
func writeReproduce(b *strings.Builder, u BranchUpdate, fetchURL string) {
	b.WriteString("\n## Reproduce\n\n```sh\n")
	fmt.Fprintf(b, "git fetch %s %s\n", fetchURL, u.Branch)
	fmt.Fprintf(b, "git checkout %s\n", u.Head)
	for _, a := range buildAttrs(u.Changes) {
		fmt.Fprintf(b, "nix-build -A linuxKernel.kernels.%s\n", a)
	}
	if len(removedAttrs(u.Changes)) > 0 {
		b.WriteString("# each must fail with its removal message\n")
	}
	for _, c := range u.Changes {
		for _, expr := range c.Gone {
			fmt.Fprintf(b, "nix-instantiate -A %s\n", expr)
		}
	}
	b.WriteString("```\n")
}

func intro(cs []family.Change) string {
	if rolling(cs) {
		return "Point releases from kernel.org, one commit per kernel branch."
	}
	if len(cs) == 1 && cs[0].Intro != "" {
		return cs[0].Intro
	}
	return "Kernel changes from kernel.org, one commit each."
}

// buildAttrs lists the attributes to build, in change order, once each.
func buildAttrs(cs []family.Change) []string {
	var out []string
	for _, c := range cs {
		attrs := c.Build
		if len(attrs) == 0 && !c.Removes() {
			attrs = []string{c.Attr}
		}
		for _, a := range attrs {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// removedAttrs lists the attributes the changes remove, in change order.
func removedAttrs(cs []family.Change) []string {
	var out []string
	for _, c := range cs {
		if c.Removes() && !slices.Contains(out, c.Attr) {
			out = append(out, c.Attr)
		}
	}
	return out
}

// codeList is `a`, `a` and `b`, or `a`, `b` and `c`.
func codeList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "`" + x + "`"
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

var statusCell = map[build.Status]string{
	build.Passed:    "✅ passed",
	build.Failed:    "❌ failed",
	build.TimedOut:  "⏱️ timed out",
	build.Skipped:   "⏭️ skipped",
	build.Cancelled: "⛔ cancelled",
}

// buildSection renders the results table and, for each failure, its command,
// derivation and log tail (at most tail bytes; 0 leaves tails out). The
// digest identifies what it shows. Durations are left out on purpose: a
// rebuild of the same head would otherwise rewrite the body every time.
func buildSection(r build.Report, tail int) (md, digest string) {
	if len(r.Results) == 0 {
		return "Not built by kupdate in this cycle; the commands below build it.\n", "none"
	}
	var attrs, tiers []string
	cell := map[[2]string]build.Status{}
	for _, res := range r.Results {
		if !slices.Contains(attrs, res.Attr) {
			attrs = append(attrs, res.Attr)
		}
		if !slices.Contains(tiers, res.Tier) {
			tiers = append(tiers, res.Tier)
		}
		cell[[2]string{res.Attr, res.Tier}] = res.Status
	}
	var b strings.Builder
	b.WriteString("| attribute |")
	for _, t := range tiers {
		b.WriteString(" " + t + " |")
	}
	b.WriteString("\n| --- |" + strings.Repeat(" --- |", len(tiers)) + "\n")
	for _, a := range attrs {
		fmt.Fprintf(&b, "| `%s` |", a)
		for _, t := range tiers {
			s, ok := cell[[2]string{a, t}]
			txt := "—"
			if ok {
				txt = statusCell[s]
				if txt == "" {
					txt = string(s)
				}
			}
			b.WriteString(" " + txt + " |")
		}
		b.WriteString("\n")
	}
	for _, res := range r.Results {
		if res.Status != build.Failed && res.Status != build.TimedOut {
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary><code>%s</code>: %s %s</summary>\n\n", html.EscapeString(res.Attr), html.EscapeString(res.Tier), strings.ReplaceAll(string(res.Status), "-", " "))
		if len(res.Command) > 0 {
			fmt.Fprintf(&b, "`%s`", res.CommandLine())
			if res.Drv != "" {
				fmt.Fprintf(&b, " (derivation `%s`)", res.Drv)
			}
			b.WriteString("\n\n")
		}
		if t := trimTail(res.LogTail, tail); t != "" {
			fence := codeFence(t)
			fmt.Fprintf(&b, "%s\n%s\n%s\n\n", fence, t, fence)
		}
		b.WriteString("</details>\n")
	}
	md = b.String()
	sum := sha256.Sum256([]byte(md))
	return md, hex.EncodeToString(sum[:4])
}

// trimTail keeps the last max bytes of a log, cut at a line start.
func trimTail(s string, max int) string {
	s = strings.TrimRight(s, "\n")
	if max <= 0 {
		return ""
	}
	if len(s) <= max {
		return s
	}
	cut := s[len(s)-max:]
	if i := strings.IndexByte(cut, '\n'); i >= 0 {
		cut = cut[i+1:]
	}
	return fmt.Sprintf("[… %d earlier bytes cut …]\n%s", len(s)-len(cut), cut)
}

// codeFence is a fence longer than any run of backticks in s.
func codeFence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// summary sums up a build for a commit status (at most 140 characters) and a
// check run title: the state and build.Report.Summary.
func summary(r build.Report) (state string, text string) {
	state = "success"
	for _, res := range r.Results {
		switch res.Status {
		case build.Failed, build.TimedOut:
			state = "failure"
		case build.Cancelled:
			if state == "success" {
				state = "cancelled"
			}
		}
	}
	text = r.Summary()
	if len(text) > 140 {
		text = text[:137] + "..."
	}
	return state, text
}
