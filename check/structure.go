package check

import (
	"bytes"
	"fmt"
	"github.com/kupdate/kupdate/kernelfiles"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg"
)

// format compares a JSON file with the bytes kupdate would write for the
// same content (the updater's own writer), and reports the first line that
// differs.
func (r *run) format(path string, b []byte) {
	want, err := kernelfiles.CanonicalJSON(path, b)
	if err != nil {
		r.finding(path, 0, RuleSyntax, "kupdate cannot read it: %v", err)
		return
	}
	if bytes.Equal(want, b) {
		return
	}
	got, exp := strings.SplitAfter(string(b), "\n"), strings.SplitAfter(string(want), "\n")
	i := 0
	for i < len(got) && i < len(exp) && got[i] == exp[i] {
		i++
	}
	how := "Python's json.dump(indent=4) and a final newline"
	if path == HardenedPatches {
		how = "Python's json.dump(indent=4, sort_keys=True) and a final newline"
	}
	line := i + 1
	switch {
	case i >= len(exp) || exp[i] == "":
		r.finding(path, line, RuleFormat, "not formatted as kupdate writes it (%s): unexpected text after the end; run kupdate update or reformat", how)
	case i >= len(got) || got[i] == "":
		r.finding(path, line, RuleFormat, "not formatted as kupdate writes it (%s): the file ends early, want %q; run kupdate update or reformat", how, strings.TrimSuffix(exp[i], "\n"))
	case strings.TrimSuffix(got[i], "\n") == strings.TrimSuffix(exp[i], "\n"):
		r.finding(path, line, RuleFormat, "not formatted as kupdate writes it (%s): the file must end with exactly one newline; run kupdate update or reformat", how)
	default:
		r.finding(path, line, RuleFormat, "not formatted as kupdate writes it (%s): line %d is %q, want %q; run kupdate update or reformat", how, line, strings.TrimSuffix(got[i], "\n"), strings.TrimSuffix(exp[i], "\n"))
	}
}

// order reports entries that moved: kernels-org.json keeps insertion order
// (a bump rewrites in place, a new branch is appended, a removal deletes),
// so a pull request never reorders it.
func (r *run) order(base, head []entry) {
	pos := map[string]int{}
	for i, e := range base {
		if _, dup := pos[e.Branch]; !dup {
			pos[e.Branch] = i
		}
	}
	last, lastBranch := -1, ""
	var added *entry
	for i := range head {
		e := &head[i]
		p, kept := pos[e.Branch]
		if !kept {
			if added == nil {
				added = e
			}
			continue
		}
		if added != nil {
			r.finding(KernelsOrgJSON, added.Line, RuleOrder, "%q is added before %q; a new branch goes at the end of kernels-org.json (it keeps insertion order)", added.Branch, e.Branch)
			return
		}
		if p < last {
			r.finding(KernelsOrgJSON, e.Line, RuleOrder, "%q now comes after %q, unlike at the base; kernels-org.json keeps insertion order (a bump rewrites an entry in place): restore the base's order", e.Branch, lastBranch)
			return
		}
		last, lastBranch = p, e.Branch
	}
}

// removedInBase says where the base turned attr into a throw, if it did: a
// removed kernel is never added back (nixpkgs #258569).
func (r *run) removedInBase(attr string) (string, bool) {
	if r.baseTree == nil && r.baseTreeErr == nil {
		r.baseTree, r.baseTreeErr = kernelfiles.Read(family.NewTree(r.base))
		if r.baseTreeErr != nil {
			r.log.Warn("cannot read the base tree; removed branches are not known", "err", r.baseTreeErr)
		}
	}
	if r.baseTree == nil {
		return "", false
	}
	return r.baseTree.Removed(attr)
}

// structure checks that each added branch comes with everything an init
// needs and each removed branch with its throws.
func (r *run) structure() {
	var added, removed []entryChange
	for _, ch := range r.changes {
		switch {
		case ch.Branch == "testing":
		case ch.Old == nil && ch.New.err == "":
			added = append(added, ch)
		case ch.New == nil:
			removed = append(removed, ch)
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	if r.head[LinuxKernelsNix] == nil || r.head[AliasesNix] == nil {
		r.finding(KernelsOrgJSON, 0, RuleSyntax, "%s or %s is missing at the head; branches cannot be added or removed without them", LinuxKernelsNix, AliasesNix)
		return
	}
	ks, err := kernelfiles.ReadKernelSections(family.NewTree(r.head))
	if err != nil {
		file, line, msg := splitPos(err.Error())
		r.finding(file, line, RuleSyntax, "kupdate cannot read it: %s", msg)
		return
	}
	newest := ""
	for _, e := range r.headEntries {
		if e.Branch != "testing" && (newest == "" || kernelorg.CompareSeries(newest, e.Branch) < 0) {
			newest = e.Branch
		}
	}
	for _, ch := range added {
		if !r.rejected[ch.Branch] {
			r.initComplete(ch.New, ks, ch.Branch == newest)
		}
	}
	for _, ch := range removed {
		if r.removalComplete(ch.Old, ks) {
			r.report.Verified = append(r.report.Verified, Verified{File: KernelsOrgJSON, Line: r.removedLine(ch.Branch), Branch: ch.Branch, From: ch.Old.Version})
		}
	}
}

// missing collects what is absent, per file, for one message.
type missing struct {
	files []string
	items map[string][]string
}

func (m *missing) add(file, item string) {
	if m.items == nil {
		m.items = map[string][]string{}
	}
	if _, ok := m.items[file]; !ok {
		m.files = append(m.files, file)
	}
	m.items[file] = append(m.items[file], item)
}

func (m *missing) String() string {
	var parts []string
	for _, f := range m.files {
		items := make([]string, len(m.items[f]))
		for i, it := range m.items[f] {
			items[i] = "`" + it + "`"
		}
		parts = append(parts, fmt.Sprintf("%s lacks %s", f, joinAnd(items)))
	}
	return strings.Join(parts, "; ")
}

// joinAnd joins "a", "b", "c" as "a, b and c".
func joinAnd(ss []string) string {
	if len(ss) <= 1 {
		return strings.Join(ss, "")
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " and " + ss[len(ss)-1]
}

// initComplete checks an added branch: its kernels entry, its
// vanillaPackages entry, linux_latest when it is the newest branch, and both
// aliases (nixpkgs-kernel-files.md, "What each change touches").
func (r *run) initComplete(e *entry, ks *kernelfiles.KernelSections, newest bool) {
	attr := kernelfiles.Attr(e.Branch)
	var m missing
	if b, ok := ks.Kernels[attr]; !ok || !strings.Contains(b.Value, "mainline.nix") || !strings.Contains(b.Value, `branch = "`+e.Branch+`";`) {
		m.add(LinuxKernelsNix, fmt.Sprintf("kernels.%s = callPackage ../os-specific/linux/kernel/mainline.nix { branch = %q; kernelPatches = [ ... ]; };", attr, e.Branch))
	}
	if b, ok := ks.Vanilla[attr]; !ok || b.Value != fmt.Sprintf("recurseIntoAttrs (packagesFor kernels.%s)", attr) {
		m.add(LinuxKernelsNix, fmt.Sprintf("vanillaPackages.%s = recurseIntoAttrs (packagesFor kernels.%s);", attr, attr))
	}
	if newest {
		if b := ks.PackageAliases["linux_latest"]; b.Value != "packages."+attr {
			m.add(LinuxKernelsNix, fmt.Sprintf("packageAliases.linux_latest = packages.%s;", attr))
		}
	}
	pkgs := strings.Replace(attr, "linux_", "linuxPackages_", 1)
	if b := ks.Aliases[attr]; b.Value != "linuxKernel.kernels."+attr {
		m.add(AliasesNix, fmt.Sprintf("%s = linuxKernel.kernels.%s;", attr, attr))
	}
	if b := ks.Aliases[pkgs]; b.Value != "linuxKernel.packages."+attr {
		m.add(AliasesNix, fmt.Sprintf("%s = linuxKernel.packages.%s;", pkgs, attr))
	}
	if len(m.files) > 0 {
		r.incompleteInit[e.Branch] = true
		r.finding(KernelsOrgJSON, e.Line, RuleInit, "%q is added without everything its init needs: %s (kupdate update writes them; nixpkgs squashes them into the `%s: init at ...` commit)", e.Branch, m.String(), attr)
	}
}

// removalComplete checks a removed branch: its entries gone from kernels and
// vanillaPackages, throws in their allowAliases parts and in aliases.nix,
// and no packageAlias still pointing at it. It reports whether all is well.
func (r *run) removalComplete(e *entry, ks *kernelfiles.KernelSections) bool {
	n := len(r.report.Findings)
	attr := kernelfiles.Attr(e.Branch)
	pkgs := strings.Replace(attr, "linux_", "linuxPackages_", 1)
	line := r.removedLine(e.Branch)
	var m missing
	isThrow := func(b kernelfiles.NixBinding, ok bool) bool { return ok && strings.HasPrefix(b.Value, "throw") }
	for _, s := range []struct {
		name         string
		main, throws map[string]kernelfiles.NixBinding
	}{
		{"kernels", ks.Kernels, ks.KernelThrows},
		{"vanillaPackages", ks.Vanilla, ks.VanillaThrows},
	} {
		if b, ok := s.main[attr]; ok {
			r.finding(b.File, b.Line, RuleRemove, "%s.%s is still here while %q is removed from %s; delete it (the throw goes in the allowAliases part)", s.name, attr, e.Branch, KernelsOrgJSON)
		}
		if b, ok := s.throws[attr]; !isThrow(b, ok) {
			m.add(LinuxKernelsNix, fmt.Sprintf("%s.%s = throw \"linux %s was removed ...\";", s.name, attr, e.Branch))
		}
	}
	for _, name := range []string{attr, pkgs} {
		if b, ok := ks.Aliases[name]; !isThrow(b, ok) {
			m.add(AliasesNix, fmt.Sprintf("%s = throw \"linux %s was removed ...\"; # Added YYYY-MM-DD", name, e.Branch))
		}
	}
	if len(m.files) > 0 {
		r.finding(KernelsOrgJSON, line, RuleRemove, "%q is removed without its throws: %s (those of linux-kernels.nix go in the allowAliases parts; kupdate update writes them all in the `%s: remove` commit)", e.Branch, m.String(), attr)
	}
	for _, name := range []string{"linux_latest", "linux_default"} {
		if b, ok := ks.PackageAliases[name]; ok && b.Value == "packages."+attr {
			r.finding(b.File, b.Line, RuleRemove, "packageAliases.%s still points at packages.%s, which is removed; point it at another branch", name, attr)
		}
	}
	return len(r.report.Findings) == n
}

// removedLine is where a removed entry was, in the head file: the line of
// the entry that now follows it, or the file's last line.
func (r *run) removedLine(branch string) int {
	at := map[string]int{}
	for _, e := range r.headEntries {
		at[e.Branch] = e.Line
	}
	seen := false
	for _, e := range r.baseEntries {
		if e.Branch == branch {
			seen = true
			continue
		}
		if l, ok := at[e.Branch]; seen && ok {
			return l
		}
	}
	return bytes.Count(r.head[KernelsOrgJSON], []byte("\n"))
}

// splitPos splits "file:line: message" as the updater formats its errors.
func splitPos(s string) (file string, line int, msg string) {
	f, rest, ok := strings.Cut(s, ":")
	if !ok {
		return LinuxKernelsNix, 0, s
	}
	var n int
	if l, m, ok := strings.Cut(rest, ": "); ok {
		if _, err := fmt.Sscanf(l, "%d", &n); err == nil {
			return f, n, m
		}
	}
	return f, 0, strings.TrimPrefix(rest, " ")
}
