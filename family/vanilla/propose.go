package vanilla

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
)

// Default is the kind of change that moves linux_default (`kupdate propose
// default linux_6_18`), titled as nixpkgs does: `linuxPackages: 6.12 ->
// 6.18` (#485549).
const Default family.Kind = "default"

// DefaultAttr is the attribute a Default change is about.
const DefaultAttr = "linux_default"

// releaseRE is a NixOS release name: YY.05 or YY.11.
var releaseRE = regexp.MustCompile(`^[0-9]{2}\.(05|11)$`)

// Propose turns a maintainer's request into a change: a removal of a
// longterm branch before its end of life (worded "will reach its end of
// life within YY.MM"), or linux_default moved to another longterm branch.
// It refuses, with the reason, what makes no sense for t.
func (f *Family) Propose(t *family.Tree, r family.Request) (family.Change, bool, error) {
	m, err := kernelfiles.Read(t)
	if err != nil {
		return family.Change{}, false, err
	}
	if r.Attr == "linux_testing" {
		return family.Change{}, true, family.Refuse(r, "linux_testing follows mainline's release candidates; it is neither removed nor made the default")
	}
	if w, ok := m.Removed(r.Attr); ok {
		return family.Change{}, true, family.Refuse(r, "%s is already a throw (%s): %s", r.Attr, w, isThrow[r.Kind])
	}
	branch, ok := attrBranch(r.Attr)
	if !ok || !m.Has(branch) {
		return family.Change{}, false, nil
	}
	e, _ := m.Entry(branch)
	if !m.HasLTS() {
		return family.Change{}, true, family.Refuse(r, "%s records no \"lts\" flag, so kupdate cannot tell a longterm branch; edit this tree by hand", kernelfiles.KernelsJSONPath)
	}
	if !e.LTS {
		return family.Change{}, true, family.Refuse(r, "%s is not a longterm branch (%s:%d: \"lts\": false); %s", r.Attr, kernelfiles.KernelsJSONPath, e.Line, notLongterm[r.Kind])
	}
	switch r.Kind {
	case family.RequestRemove:
		return proposeRemove(m, r, e)
	case family.RequestDefault:
		return proposeDefault(m, r, e)
	}
	return family.Change{}, true, family.Refuse(r, "unknown request %q: want remove or default", r.Kind)
}

var isThrow = map[family.Kind]string{
	family.RequestRemove:  "there is nothing to remove",
	family.RequestDefault: "it cannot be the default",
}

var notLongterm = map[family.Kind]string{
	family.RequestRemove:  "a stable branch is removed when kernel.org marks it end of life, which kupdate does by itself",
	family.RequestDefault: "linux_default is a longterm branch",
}

func proposeRemove(m *kernelfiles.Model, r family.Request, e kernelfiles.Entry) (family.Change, bool, error) {
	switch {
	case !releaseRE.MatchString(r.EOLWithin):
		return family.Change{}, true, family.Refuse(r, "--eol-within %q is not a NixOS release: want YY.05 or YY.11, e.g. 25.11", r.EOLWithin)
	case m.Latest() == r.Attr:
		return family.Change{}, true, family.Refuse(r, "%s is the newest branch (linux_latest): it is not removed before its end of life", r.Attr)
	case m.Default() == r.Attr:
		return family.Change{}, true, family.Refuse(r, "%s is linux_default: move linux_default first (kupdate propose default linux_X_Y)", r.Attr)
	}
	c := finish(family.Change{Kind: Remove, Attr: r.Attr, Branch: e.Branch, From: e.Version.String(), LTS: e.LTS,
		Payload: Removal{EOLWithin: r.EOLWithin}})
	return c, true, nil
}

func proposeDefault(m *kernelfiles.Model, r family.Request, e kernelfiles.Entry) (family.Change, bool, error) {
	cur := m.Default()
	curBranch, _ := attrBranch(cur)
	switch {
	case cur == r.Attr:
		return family.Change{}, true, family.Refuse(r, "%s is already linux_default", r.Attr)
	case curBranch != "" && kernelorg.CompareSeries(e.Branch, curBranch) < 0:
		return family.Change{}, true, family.Refuse(r, "%s is older than linux_default (%s): linux_default only moves forward", r.Attr, cur)
	}
	c := finish(family.Change{Kind: Default, Attr: DefaultAttr, Branch: e.Branch, From: curBranch, To: e.Branch, LTS: true,
		Build: []string{r.Attr}})
	return c, true, nil
}

// attrBranch is the branch key of linux_X_Y: "X.Y".
func attrBranch(attr string) (string, bool) {
	rest, ok := strings.CutPrefix(attr, "linux_")
	if !ok {
		return "", false
	}
	b := strings.ReplaceAll(rest, "_", ".")
	if _, _, err := kernelorg.ParseSeries(b); err != nil {
		return "", false
	}
	return b, true
}

// applyDefault points packageAliases.linux_default at the change's branch.
func applyDefault(m *kernelfiles.Model, c family.Change) (map[string][]byte, error) {
	if !m.Has(c.Branch) {
		return nil, fmt.Errorf("%s has no branch %q to make the default", kernelfiles.KernelsJSONPath, c.Branch)
	}
	if from := kernelfiles.Attr(c.From); m.Default() != from {
		return nil, fmt.Errorf("%s: linux_default points at %s, not %s: the change is stale", kernelfiles.LinuxKernelsPath, m.Default(), from)
	}
	lk := kernelfiles.NewEditor(kernelfiles.LinuxKernelsPath, m.File(kernelfiles.LinuxKernelsPath))
	if err := lk.SetAlias("linux_default", kernelfiles.Attr(c.Branch)); err != nil {
		return nil, err
	}
	return map[string][]byte{kernelfiles.LinuxKernelsPath: lk.Bytes()}, nil
}

// Suggest advises moving linux_default when the tree has a newer longterm
// branch than linux_default's (nixpkgs moved it from 6.12 to 6.18 by hand,
// #485549): the newest such branch.
func (*Family) Suggest(t *family.Tree) []family.Suggestion {
	m, err := kernelfiles.Read(t)
	if err != nil || !m.HasLTS() {
		return nil
	}
	cur, ok := attrBranch(m.Default())
	if !ok {
		return nil
	}
	newest := ""
	for _, e := range m.Kernels() {
		if e.Branch != "testing" && e.LTS && kernelorg.CompareSeries(e.Branch, cur) > 0 && (newest == "" || kernelorg.CompareSeries(e.Branch, newest) > 0) {
			newest = e.Branch
		}
	}
	if newest == "" {
		return nil
	}
	attr := kernelfiles.Attr(newest)
	return []family.Suggestion{{Family: Name,
		Reason:  fmt.Sprintf("%s is a newer longterm branch than linux_default (%s)", attr, m.Default()),
		Request: family.Request{Kind: family.RequestDefault, Attr: attr}}}
}
