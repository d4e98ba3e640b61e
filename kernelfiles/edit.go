package kernelfiles

// The editing API the families use. The scanners and editors underneath
// work on byte offsets and rescan after every edit; these wrappers keep
// those details inside the package.

// JSON is a JSON document as kupdate edits it: members in file order,
// written back as Python's json.dump(indent=4) plus a newline, the format
// of nixpkgs' kernel JSON files.
type JSON struct{ v *jsonValue }

// ParseJSON reads a JSON document; errors name the file (name) and line.
func ParseJSON(name string, data []byte) (*JSON, error) {
	v, err := parseJSON(name, data)
	if err != nil {
		return nil, err
	}
	return &JSON{v: v}, nil
}

// Value is a JSON value to set.
type Value struct{ v *jsonValue }

// Member is one member of an object Value.
type Member struct {
	Key string
	Val Value
}

// String, Bool and Object are values to set.
func String(s string) Value { return Value{jstr(s)} }
func Bool(b bool) Value     { return Value{jbool(b)} }
func Object(ms ...Member) Value {
	out := make([]jsonMember, len(ms))
	for i, m := range ms {
		out[i] = jsonMember{key: m.Key, val: m.Val.v}
	}
	return Value{jobj(out...)}
}

// Member is the object member key, for editing in place; nil when j has
// none.
func (j *JSON) Member(key string) *JSON {
	v := j.v.get(key)
	if v == nil {
		return nil
	}
	return &JSON{v: v}
}

// Set sets member key of an object, in place when it exists, else at the
// end.
func (j *JSON) Set(key string, val Value) { j.v.set(key, val.v) }

// Prepend puts member key first in an object (replacing one it had).
func (j *JSON) Prepend(key string, val Value) {
	j.v.del(key)
	j.v.members = append([]jsonMember{{key: key, val: val.v}}, j.v.members...)
}

// Del deletes member key of an object.
func (j *JSON) Del(key string) { j.v.del(key) }

// Dump is the document as nixpkgs' scripts write it; sortKeys as
// json.dump(sort_keys=True).
func (j *JSON) Dump(sortKeys bool) []byte { return dumpJSON(j.v, sortKeys) }

// Editor makes anchored text edits to one of nixpkgs' kernel .nix files
// (linux-kernels.nix, aliases.nix). Every anchor that is not found is an
// error naming the file, the line of the section searched and the anchor.
// Sections are edited bottom-up, so that the line an error names is the
// line in the file as it was.
type Editor struct{ e *nixEditor }

// NewEditor edits src, the content of the file at path.
func NewEditor(path string, src []byte) *Editor {
	return &Editor{&nixEditor{name: path, src: src}}
}

// Bytes is the file as edited so far.
func (e *Editor) Bytes() []byte { return e.e.src }

// SetAlias points packageAliases' `name = packages.linux_X_Y;` at attr.
func (e *Editor) SetAlias(name, attr string) error { return e.e.setAlias(name, attr) }

// InitKernel adds branch's kernels entry, copied from its predecessor.
func (e *Editor) InitKernel(branch string) error { return e.e.initKernel(branch) }

// InitVanilla adds branch's vanillaPackages entry after its predecessor.
func (e *Editor) InitVanilla(branch string) error { return e.e.initVanilla(branch) }

// InitAliases adds the aliases of a new kernel of branch to aliases.nix
// (the hardened ones when hardened).
func (e *Editor) InitAliases(branch string, hardened bool) error {
	return e.e.initAliases(branch, hardened)
}

// AddHardened adds linux_X_Y_hardened to the kernels and packages
// sections.
func (e *Editor) AddHardened(branch string) error { return e.e.addHardened(branch) }

// DropBinding deletes section's binding name and says whether there was
// one; a missing one is an error when required.
func (e *Editor) DropBinding(section, name string, required bool) (bool, error) {
	return e.e.dropBinding(section, name, required)
}

// AddThrow adds `name = throw "…";` to the allowAliases part of section,
// worded as that section words its throws (defaultMsg and defaultDated
// when it has none), dated date where the section dates them.
func (e *Editor) AddThrow(section, name, branch, date string, eol bool, defaultMsg string, defaultDated bool) error {
	return e.e.addThrow(section, name, branch, date, eol, defaultMsg, defaultDated)
}

// AliasThrow turns alias name of aliases.nix into a throw (added in order
// when it is missing).
func (e *Editor) AliasThrow(name, branch, date string, eol bool, defaultMsg string) error {
	return e.e.aliasThrow(name, branch, date, eol, defaultMsg)
}

// AddThrowWorded is AddThrow with the message msg, whatever the section's
// other throws say; it is dated where the section dates them (defaultDated
// when it has none): a removal worded by the maintainer who asked for it.
func (e *Editor) AddThrowWorded(section, name, branch, date, msg string, defaultDated bool) error {
	return e.e.addThrowAs(section, name, branch, date, true, msg, defaultDated, msg)
}

// AliasThrowWorded is AliasThrow with the message msg.
func (e *Editor) AliasThrowWorded(name, branch, date, msg string) error {
	return e.e.aliasThrowAs(name, branch, date, true, msg, msg)
}
