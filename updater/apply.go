package updater

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kupdate/kupdate/kernelorg"
)

// Apply makes change c to the tree, all or nothing: it returns the new
// content of every file c touches (the paths of c.Files, or of the files it
// changed when c.Files is empty), and t then reflects the change, so the
// next Apply builds on it. On error t is unchanged and the error names the
// file, the line of the section searched and the anchor that was missing.
func (t *Tree) Apply(c Change) (map[string][]byte, error) {
	next := maps.Clone(t.files)
	var err error
	switch c.Kind {
	case Bump:
		err = t.applyBump(next, c)
	case Init:
		err = t.applyInit(next, c)
	case Remove:
		err = t.applyRemove(next, c)
	case HardenedBump:
		err = t.applyHardened(next, c, false)
	case HardenedInit:
		err = t.applyHardened(next, c, true)
	default:
		err = fmt.Errorf("unknown change kind %q", c.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Title, err)
	}
	nt, err := parseTree(next)
	if err != nil {
		return nil, fmt.Errorf("%s: the edited tree does not read back: %w", c.Title, err)
	}
	out := map[string][]byte{}
	for p, b := range next {
		if !bytes.Equal(b, t.files[p]) {
			out[p] = b
		}
	}
	for _, p := range c.Files {
		if _, ok := next[p]; !ok {
			return nil, fmt.Errorf("%s: lists %s, which the tree does not have", c.Title, p)
		}
		if _, ok := out[p]; !ok {
			out[p] = next[p]
		}
	}
	if len(c.Files) > 0 {
		for p := range out {
			if !slices.Contains(c.Files, p) {
				return nil, fmt.Errorf("%s: changes %s, which the change does not list in Files %v", c.Title, p, c.Files)
			}
		}
	}
	nt.Now = t.Now
	*t = *nt
	return out, nil
}

// ChangedFiles lists the paths of files, sorted: the Files of a change.
func ChangedFiles(files map[string][]byte) []string {
	return slices.Sorted(maps.Keys(files))
}

func (t *Tree) applyBump(files map[string][]byte, c Change) error {
	e, ok := t.Entry(c.Branch)
	if !ok {
		return fmt.Errorf("%s has no branch %q", KernelsJSONPath, c.Branch)
	}
	if e.Version.String() != c.From {
		return fmt.Errorf("%s:%d: branch %q is at %s, not %s: the change is stale", KernelsJSONPath, e.Line, c.Branch, e.Version, c.From)
	}
	if _, err := kernelorg.ParseVersion(c.To); err != nil {
		return err
	}
	if !nix32HashRE.MatchString(c.Hash) {
		return fmt.Errorf("hash %q is not sha256:<52 nix32 characters>", c.Hash)
	}
	root := cloneJSON(t.kroot)
	obj := root.get(c.Branch)
	obj.set("version", jstr(c.To))
	obj.set("hash", jstr(c.Hash))
	if e.HasLTS {
		obj.set("lts", jbool(c.LTS))
	}
	files[KernelsJSONPath] = dumpJSON(root, false)
	return nil
}

func (t *Tree) applyInit(files map[string][]byte, c Change) error {
	if t.Has(c.Branch) {
		return fmt.Errorf("%s already has branch %q", KernelsJSONPath, c.Branch)
	}
	if _, _, err := kernelorg.ParseSeries(c.Branch); err != nil {
		return err
	}
	if w, ok := t.Removed(Attr(c.Branch)); ok {
		return fmt.Errorf("%s was removed from the tree (%s): kupdate never adds it back", Attr(c.Branch), w)
	}
	if !nix32HashRE.MatchString(c.Hash) {
		return fmt.Errorf("hash %q is not sha256:<52 nix32 characters>", c.Hash)
	}
	root := cloneJSON(t.kroot)
	obj := jobj(jsonMember{key: "version", val: jstr(c.To)}, jsonMember{key: "hash", val: jstr(c.Hash)})
	if t.HasLTS() {
		obj.set("lts", jbool(c.LTS))
	}
	root.set(c.Branch, obj)
	files[KernelsJSONPath] = dumpJSON(root, false)

	attr := Attr(c.Branch)
	// Sections are edited bottom-up, so that the line an error names is the
	// line in the file as it was.
	lk := &nixEditor{name: LinuxKernelsPath, src: files[LinuxKernelsPath]}
	if latest, _, _ := nameSeries(t.latest); kernelorg.CompareSeries(latest, c.Branch) < 0 {
		if err := lk.setAlias("linux_latest", attr); err != nil {
			return err
		}
	}
	if err := lk.initVanilla(c.Branch); err != nil {
		return err
	}
	if err := lk.initKernel(c.Branch); err != nil {
		return err
	}
	files[LinuxKernelsPath] = lk.src

	al := &nixEditor{name: AliasesPath, src: files[AliasesPath]}
	if err := al.initAliases(c.Branch, false); err != nil {
		return err
	}
	files[AliasesPath] = al.src
	return nil
}

func (t *Tree) applyRemove(files map[string][]byte, c Change) error {
	e, ok := t.Entry(c.Branch)
	if !ok || c.Branch == "testing" {
		return fmt.Errorf("%s has no branch %q to remove", KernelsJSONPath, c.Branch)
	}
	root := cloneJSON(t.kroot)
	root.del(c.Branch)
	files[KernelsJSONPath] = dumpJSON(root, false)

	attr, date := Attr(c.Branch), t.today()
	eolMsg := "linux " + c.Branch + " was removed because it has reached its end of life upstream"
	lk := &nixEditor{name: LinuxKernelsPath, src: files[LinuxKernelsPath]}
	_, hardened := t.hardenedAttrs[c.Branch]
	names := []string{attr}
	if hardened {
		names = append(names, attr+"_hardened")
	}
	// bottom-up, as in applyInit
	rest := slices.DeleteFunc(t.Series(), func(s string) bool { return s == c.Branch })
	if t.latest == attr {
		if len(rest) == 0 {
			return fmt.Errorf("removing the last branch would leave linux_latest pointing nowhere")
		}
		if err := lk.setAlias("linux_latest", Attr(rest[len(rest)-1])); err != nil {
			return err
		}
	}
	if t.def == attr {
		// linux_default is the newest longterm kernel
		target := ""
		for _, s := range rest {
			if se, _ := t.Entry(s); se.LTS {
				target = s
			}
		}
		if target == "" {
			return fmt.Errorf("%s:%d: linux_default points at %s and kernels-org.json marks no other branch as longterm to take its place: move linux_default first", KernelsJSONPath, e.Line, attr)
		}
		if err := lk.setAlias("linux_default", Attr(target)); err != nil {
			return err
		}
	}
	for _, n := range names {
		dropped, err := lk.dropBinding("packages", n, false)
		if err != nil {
			return err
		}
		if dropped {
			if err := lk.addThrow("packages", n, c.Branch, date, true, eolMsg, false); err != nil {
				return err
			}
		}
	}
	if _, err := lk.dropBinding("vanillaPackages", attr, true); err != nil {
		return err
	}
	if err := lk.addThrow("vanillaPackages", attr, c.Branch, date, true,
		"linux "+c.Branch+" was removed because it reached its end of life upstream", true); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := lk.dropBinding("kernels", n, true); err != nil {
			return err
		}
		if err := lk.addThrow("kernels", n, c.Branch, date, true, eolMsg, false); err != nil {
			return err
		}
	}
	files[LinuxKernelsPath] = lk.src

	al := &nixEditor{name: AliasesPath, src: files[AliasesPath]}
	for _, n := range names {
		for _, a := range []string{n, strings.Replace(n, "linux_", "linuxPackages_", 1)} {
			if err := al.aliasThrow(a, c.Branch, date, true, eolMsg); err != nil {
				return err
			}
		}
	}
	files[AliasesPath] = al.src

	if _, ok := t.HardenedEntry(c.Branch); ok {
		proot := cloneJSON(t.proot)
		proot.del(c.Branch)
		files[PatchesJSONPath] = dumpJSON(proot, true)
	}
	return nil
}

const hardenedPolicyMsg = "linux_hardened on nixpkgs only contains latest stable and latest LTS"

func (t *Tree) applyHardened(files map[string][]byte, c Change, init bool) error {
	if t.proot == nil {
		return fmt.Errorf("the tree has no %s", PatchesJSONPath)
	}
	p := c.Patch
	if p == nil {
		return fmt.Errorf("no hardened patch in the change")
	}
	if p.Version.Series() != c.Branch || p.Version.IsRC() {
		return fmt.Errorf("patch for %s does not belong to branch %q", p.Version, c.Branch)
	}
	for _, h := range []string{p.SHA256, p.KernelSHA256} {
		if !nix32BareRE.MatchString(h) {
			return fmt.Errorf("hash %q is not 52 nix32 characters", h)
		}
	}
	cur, has := t.HardenedEntry(c.Branch)
	switch {
	case init && has:
		return fmt.Errorf("%s:%d: branch %q already has hardened patches", PatchesJSONPath, cur.Line, c.Branch)
	case !init && !has:
		return fmt.Errorf("%s has no branch %q", PatchesJSONPath, c.Branch)
	case !init && strings.TrimPrefix(cur.Tag(), "v") != c.From:
		return fmt.Errorf("%s:%d: branch %q is at %s, not %s: the change is stale", PatchesJSONPath, cur.Line, c.Branch, cur.Tag(), c.From)
	}
	proot := cloneJSON(t.proot)
	proot.set(c.Branch, jobj(
		jsonMember{key: "patch", val: jobj(
			jsonMember{key: "extra", val: jstr(p.Extra)},
			jsonMember{key: "name", val: jstr(p.Name)},
			jsonMember{key: "sha256", val: jstr(p.SHA256)},
			jsonMember{key: "url", val: jstr(p.URL)},
		)},
		jsonMember{key: "sha256", val: jstr(p.KernelSHA256)},
		jsonMember{key: "version", val: jstr(p.Version.String())},
	))
	if !init {
		files[PatchesJSONPath] = dumpJSON(proot, true)
		return nil
	}
	if !t.Has(c.Branch) {
		return fmt.Errorf("%s has no branch %q for the hardened kernel to build on", KernelsJSONPath, c.Branch)
	}
	name := Attr(c.Branch) + "_hardened"
	if w, ok := t.Removed(name); ok {
		return fmt.Errorf("%s was removed from the tree (%s): kupdate never adds it back", name, w)
	}
	lk := &nixEditor{name: LinuxKernelsPath, src: files[LinuxKernelsPath]}
	if err := lk.addHardened(c.Branch); err != nil {
		return err
	}
	al := &nixEditor{name: AliasesPath, src: files[AliasesPath]}
	if err := al.initAliases(c.Branch, true); err != nil {
		return err
	}
	date := t.today()
	for _, d := range c.Drops {
		dn := Attr(d) + "_hardened"
		if _, ok := t.hardenedAttrs[d]; !ok {
			return fmt.Errorf("%s has no %s to drop", LinuxKernelsPath, dn)
		}
		for _, sec := range []string{"packages", "kernels"} { // bottom-up
			dropped, err := lk.dropBinding(sec, dn, false)
			if err != nil {
				return err
			}
			if dropped {
				if err := lk.addThrow(sec, dn, d, "", false, hardenedPolicyMsg, false); err != nil {
					return err
				}
			}
		}
		for _, a := range []string{dn, strings.Replace(dn, "linux_", "linuxPackages_", 1)} {
			if err := al.aliasThrow(a, d, date, false, hardenedPolicyMsg); err != nil {
				return err
			}
		}
		proot.del(d)
	}
	files[PatchesJSONPath] = dumpJSON(proot, true)
	files[LinuxKernelsPath] = lk.src
	files[AliasesPath] = al.src
	return nil
}

func cloneJSON(v *jsonValue) *jsonValue {
	if v == nil {
		return nil
	}
	c := *v
	c.arr = nil
	for _, el := range v.arr {
		c.arr = append(c.arr, cloneJSON(el))
	}
	c.members = nil
	for _, m := range v.members {
		c.members = append(c.members, jsonMember{key: m.key, line: m.line, val: cloneJSON(m.val)})
	}
	return &c
}
