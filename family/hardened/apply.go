package hardened

import (
	"fmt"
	"strings"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelfiles"
)

const policyMsg = "linux_hardened on nixpkgs only contains latest stable and latest LTS"

// Apply writes the patch of a bump or an init into patches.json; an init
// also adds linux_X_Y_hardened to linux-kernels.nix and aliases.nix and
// turns the hardened kernels it drops into throws.
func (f *Family) Apply(t *family.Tree, c family.Change) (map[string][]byte, error) {
	m, err := kernelfiles.Read(t)
	if err != nil {
		return nil, err
	}
	if c.Kind != Bump && c.Kind != Init {
		return nil, fmt.Errorf("unknown change kind %q", c.Kind)
	}
	pl, _ := c.Payload.(*payload)
	if pl == nil || pl.patch == nil {
		return nil, fmt.Errorf("no hardened patch in the change")
	}
	proot, err := setPatch(m, c, pl.patch)
	if err != nil {
		return nil, err
	}
	if c.Kind == Bump {
		return map[string][]byte{kernelfiles.PatchesJSONPath: proot.Dump(true)}, nil
	}
	return applyInit(m, c, proot, pl.drops)
}

// setPatch checks p against the tree and returns patches.json with it.
func setPatch(m *kernelfiles.Model, c family.Change, p *Patch) (*kernelfiles.JSON, error) {
	proot := m.PatchesJSON()
	if proot == nil {
		return nil, fmt.Errorf("the tree has no %s", kernelfiles.PatchesJSONPath)
	}
	if p.Version.Series() != c.Branch || p.Version.IsRC() {
		return nil, fmt.Errorf("patch for %s does not belong to branch %q", p.Version, c.Branch)
	}
	for _, h := range []string{p.SHA256, p.KernelSHA256} {
		if !kernelfiles.ValidBareHash(h) {
			return nil, fmt.Errorf("hash %q is not 52 nix32 characters", h)
		}
	}
	init := c.Kind == Init
	cur, has := m.HardenedEntry(c.Branch)
	switch {
	case init && has:
		return nil, fmt.Errorf("%s:%d: branch %q already has hardened patches", kernelfiles.PatchesJSONPath, cur.Line, c.Branch)
	case !init && !has:
		return nil, fmt.Errorf("%s has no branch %q", kernelfiles.PatchesJSONPath, c.Branch)
	case !init && strings.TrimPrefix(cur.Tag(), "v") != c.From:
		return nil, fmt.Errorf("%s:%d: branch %q is at %s, not %s: the change is stale", kernelfiles.PatchesJSONPath, cur.Line, c.Branch, cur.Tag(), c.From)
	}
	s := kernelfiles.String
	proot.Set(c.Branch, kernelfiles.Object(
		kernelfiles.Member{Key: "patch", Val: kernelfiles.Object(
			kernelfiles.Member{Key: "extra", Val: s(p.Extra)},
			kernelfiles.Member{Key: "name", Val: s(p.Name)},
			kernelfiles.Member{Key: "sha256", Val: s(p.SHA256)},
			kernelfiles.Member{Key: "url", Val: s(p.URL)},
		)},
		kernelfiles.Member{Key: "sha256", Val: s(p.KernelSHA256)},
		kernelfiles.Member{Key: "version", Val: s(p.Version.String())},
	))
	return proot, nil
}

func applyInit(m *kernelfiles.Model, c family.Change, proot *kernelfiles.JSON, drops []string) (map[string][]byte, error) {
	if !m.Has(c.Branch) {
		return nil, fmt.Errorf("%s has no branch %q for the hardened kernel to build on", kernelfiles.KernelsJSONPath, c.Branch)
	}
	name := Attr(c.Branch)
	if w, ok := m.Removed(name); ok {
		return nil, fmt.Errorf("%s was removed from the tree (%s): kupdate never adds it back", name, w)
	}
	lk := kernelfiles.NewEditor(kernelfiles.LinuxKernelsPath, m.File(kernelfiles.LinuxKernelsPath))
	if err := lk.AddHardened(c.Branch); err != nil {
		return nil, err
	}
	al := kernelfiles.NewEditor(kernelfiles.AliasesPath, m.File(kernelfiles.AliasesPath))
	if err := al.InitAliases(c.Branch, true); err != nil {
		return nil, err
	}
	date := m.Today()
	for _, d := range drops {
		dn := Attr(d)
		if !m.HasHardenedVariant(d) {
			return nil, fmt.Errorf("%s has no %s to drop", kernelfiles.LinuxKernelsPath, dn)
		}
		for _, sec := range []string{"packages", "kernels"} { // bottom-up
			dropped, err := lk.DropBinding(sec, dn, false)
			if err != nil {
				return nil, err
			}
			if dropped {
				if err := lk.AddThrow(sec, dn, d, "", false, policyMsg, false); err != nil {
					return nil, err
				}
			}
		}
		for _, a := range []string{dn, strings.Replace(dn, "linux_", "linuxPackages_", 1)} {
			if err := al.AliasThrow(a, d, date, false, policyMsg); err != nil {
				return nil, err
			}
		}
		proot.Del(d)
	}
	return map[string][]byte{
		kernelfiles.PatchesJSONPath:  proot.Dump(true),
		kernelfiles.LinuxKernelsPath: lk.Bytes(),
		kernelfiles.AliasesPath:      al.Bytes(),
	}, nil
}
