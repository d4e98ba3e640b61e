package kernelfiles

// NixText is the scanner kupdate's own edits rely on (nixText), for
// packages that edit other Nix files by the same anchored-text method: a
// NixOS user's kernel pin (package pin). It answers only what the anchors
// need: code or not, bracket depth, line numbers, and where a bracket or a
// binding ends.
type NixText struct{ t *nixText }

// ScanNix scans src (name is for errors). It fails on an unterminated
// string or comment and on unbalanced brackets, naming the line.
func ScanNix(name string, src []byte) (*NixText, error) {
	t, err := scanNix(name, src)
	if err != nil {
		return nil, err
	}
	return &NixText{t: t}, nil
}

// Code reports whether the byte at off is code: not in a string literal or
// a comment. Quotes themselves are not code.
func (n *NixText) Code(off int) bool { return n.t.code[off] }

// Depth is the bracket depth of the byte at off; a bracket has its outer
// depth.
func (n *NixText) Depth(off int) int { return int(n.t.depth[off]) }

// Line is the 1-based line of offset off.
func (n *NixText) Line(off int) int { return n.t.line(off) }

// MatchClose is the offset of the bracket closing the one at open.
func (n *NixText) MatchClose(open int) (int, error) { return n.t.matchClose(open) }

// BindingEnd is the offset of the `;` ending the binding whose `=` is at
// eq.
func (n *NixText) BindingEnd(eq int) (int, error) { return n.t.bindingEnd(eq) }
