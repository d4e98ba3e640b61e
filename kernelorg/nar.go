package kernelorg

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// writeNAR writes the NAR serialisation of the file tree at p, as Nix's
// dumpPath does: every token a string (little-endian uint64 length, the
// bytes, zero padding to 8); directory entries in bytewise name order
// (os.ReadDir's order); of a file's mode only the owner-executable bit.
//
// go-nix's pkg/nar writer is not used: it takes an entry named "..x" for a
// step up the tree, and NAR hashes must match Nix's for every name.
//
// A kernel tree is some 90,000 files: ctx is checked before each, so a
// cycle that is stopped does not finish hashing first.
func writeNAR(ctx context.Context, w io.Writer, p string) error {
	nw := &narWriter{ctx: ctx, w: w}
	nw.str("nix-archive-1")
	if err := nw.node(p); err != nil {
		return err
	}
	return nw.err
}

type narWriter struct {
	ctx context.Context
	w   io.Writer
	err error
	buf [8]byte
}

// zeros pads strings to 8 bytes.
const zeros = "\x00\x00\x00\x00\x00\x00\x00\x00"

func (n *narWriter) write(b []byte) {
	if n.err == nil {
		_, n.err = n.w.Write(b)
	}
}

func (n *narWriter) u64(x uint64) {
	binary.LittleEndian.PutUint64(n.buf[:], x)
	n.write(n.buf[:])
}

func (n *narWriter) pad(size uint64) {
	if r := size % 8; r != 0 {
		if n.err == nil {
			_, n.err = io.WriteString(n.w, zeros[:8-r])
		}
	}
}

func (n *narWriter) str(s string) {
	n.u64(uint64(len(s)))
	if n.err == nil {
		_, n.err = io.WriteString(n.w, s)
	}
	n.pad(uint64(len(s)))
}

func (n *narWriter) node(p string) error {
	if err := n.ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	n.str("(")
	n.str("type")
	switch m := fi.Mode(); {
	case m&os.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		n.str("symlink")
		n.str("target")
		n.str(target)
	case m.IsRegular():
		n.str("regular")
		if m&0o100 != 0 {
			n.str("executable")
			n.str("")
		}
		n.str("contents")
		if err := n.contents(p, fi.Size()); err != nil {
			return err
		}
	case m.IsDir():
		n.str("directory")
		ents, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range ents {
			n.str("entry")
			n.str("(")
			n.str("name")
			n.str(e.Name())
			n.str("node")
			if err := n.node(filepath.Join(p, e.Name())); err != nil {
				return err
			}
			n.str(")")
		}
	default:
		return fmt.Errorf("%s: cannot be put in a NAR (mode %s)", p, m)
	}
	n.str(")")
	return n.err
}

func (n *narWriter) contents(p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	n.u64(uint64(size))
	if n.err != nil {
		return n.err
	}
	if _, err := io.CopyN(n.w, f, size); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	n.pad(uint64(size))
	return n.err
}
