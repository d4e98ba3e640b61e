package kernelorgtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/nix-community/go-nix/pkg/nar"
	"github.com/nix-community/go-nix/pkg/nixbase32"
)

// TarXZ is the content served as linux-<v>.tar.xz: deterministic bytes, not
// a real xz stream. Only its flat hash matters (nixpkgs fetchurl's of
// stable and longterm tarballs are flat), and Nix checks that hash as well
// as kupdate does.
func TarXZ(v string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "kernelorgtest: the content of linux-%s.tar.xz\n", v)
	seed := sha256.Sum256([]byte("linux-" + v + ".tar.xz"))
	var ctr [8]byte
	for i := range uint64(512) { // 16 KiB
		binary.LittleEndian.PutUint64(ctr[:], i)
		sum := sha256.Sum256(append(seed[:], ctr[:]...))
		b.Write(sum[:])
	}
	return b.Bytes()
}

// FlatHash is "sha256:<nix32>" of TarXZ(v): what kernels-org.json pins for a
// release, and what sha256sums.asc lists (in hex) for linux-<v>.tar.xz.
func FlatHash(v string) string {
	sum := sha256.Sum256(TarXZ(v))
	return "sha256:" + nixbase32.EncodeToString(sum[:])
}

// snapshotEntry is one file of an rc snapshot, relative to its top-level
// directory ("" is that directory).
type snapshotEntry struct {
	name   string
	typ    byte // tar.TypeDir, tar.TypeReg, tar.TypeSymlink
	exec   bool
	data   string
	target string
}

// snapshotTree is the tree of the rc snapshot of v: a few files, an
// executable, a symlink, an empty file, and a directory next to a file whose
// name sorts between it and its children ("x86" / "x86-notes.txt" /
// "x86/Kconfig"), the case where NAR order differs from a flat path sort.
func snapshotTree(v string) []snapshotEntry {
	maj, rest, _ := strings.Cut(v, ".")
	minor, rc, _ := strings.Cut(rest, "-rc")
	return []snapshotEntry{
		{name: "", typ: tar.TypeDir},
		{name: ".gitignore", typ: tar.TypeReg, data: "*.o\n*.ko\n"},
		{name: "Makefile", typ: tar.TypeReg, data: fmt.Sprintf("# SPDX-License-Identifier: GPL-2.0\nVERSION = %s\nPATCHLEVEL = %s\nSUBLEVEL = 0\nEXTRAVERSION = -rc%s\nNAME = kernelorgtest\n", maj, minor, rc)},
		{name: "README", typ: tar.TypeReg, data: "Linux kernel " + v + " (a kernelorgtest snapshot)\n"},
		{name: "arch", typ: tar.TypeDir},
		{name: "arch/x86", typ: tar.TypeDir},
		{name: "arch/x86/Kconfig", typ: tar.TypeReg, data: "config X86\n\tdef_bool y\n"},
		{name: "arch/x86-notes.txt", typ: tar.TypeReg, data: "sorts between arch/x86 and arch/x86/Kconfig\n"},
		{name: "scripts", typ: tar.TypeDir},
		{name: "scripts/ld-version.sh", typ: tar.TypeSymlink, target: "setlocalversion"},
		{name: "scripts/setlocalversion", typ: tar.TypeReg, exec: true, data: "#!/bin/sh\necho " + v + "\n"},
		{name: "usr", typ: tar.TypeDir},
		{name: "usr/.keep", typ: tar.TypeReg, data: ""},
	}
}

// gitArchiveOrder sorts as git archive does: by path, a directory compared
// as if its name ended in "/".
func gitArchiveOrder(es []snapshotEntry) []snapshotEntry {
	key := func(e snapshotEntry) string {
		if e.typ == tar.TypeDir {
			return e.name + "/"
		}
		return e.name
	}
	es = slices.Clone(es)
	slices.SortFunc(es, func(a, b snapshotEntry) int { return strings.Compare(key(a), key(b)) })
	return es
}

// TarGz is the rc snapshot git.kernel.org would serve for v (e.g.
// "6.19-rc4"): a real gzipped tar shaped like git archive's output, with a
// pax global header, one top-level directory linux-<v>/, and deterministic
// bytes.
func TarGz(v string) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	mtime := time.Date(2026, 1, 4, 22, 0, 0, 0, time.UTC)
	commit := sha256.Sum256([]byte("commit " + v))
	must(tw.WriteHeader(&tar.Header{
		Typeflag:   tar.TypeXGlobalHeader,
		Name:       "pax_global_header",
		PAXRecords: map[string]string{"comment": fmt.Sprintf("%x", commit[:20])},
		Format:     tar.FormatPAX,
	}))
	top := "linux-" + v + "/"
	for _, e := range gitArchiveOrder(snapshotTree(v)) {
		h := &tar.Header{Typeflag: e.typ, Name: top + e.name, ModTime: mtime, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		switch e.typ {
		case tar.TypeDir:
			h.Name = strings.TrimSuffix(top+e.name, "/") + "/"
			h.Mode = 0o775
		case tar.TypeSymlink:
			h.Mode = 0o777
			h.Linkname = e.target
		default:
			h.Mode = 0o664
			if e.exec {
				h.Mode = 0o775
			}
			h.Size = int64(len(e.data))
		}
		must(tw.WriteHeader(h))
		if e.typ == tar.TypeReg {
			_, err := tw.Write([]byte(e.data))
			must(err)
		}
	}
	must(tw.Close())
	must(zw.Close())
	return buf.Bytes()
}

// NARHash is "sha256:<nix32>" of the NAR serialisation of TarGz(v) unpacked
// with its top-level directory stripped: what nixpkgs pins for an rc, what
// `nix-prefetch-url --unpack` prints. It is computed from the tree itself,
// with go-nix's NAR writer, independently of kernelorg's unpacker.
func NARHash(v string) string {
	es := snapshotTree(v)
	children := map[string][]snapshotEntry{}
	for _, e := range es[1:] {
		dir := path.Dir(e.name)
		if dir == "." {
			dir = ""
		}
		children[dir] = append(children[dir], e)
	}
	h := sha256.New()
	nw, err := nar.NewWriter(h)
	must(err)
	var walk func(e snapshotEntry)
	walk = func(e snapshotEntry) {
		p := "/" + e.name
		switch e.typ {
		case tar.TypeDir:
			must(nw.WriteHeader(&nar.Header{Path: p, Type: nar.TypeDirectory}))
			kids := children[e.name]
			slices.SortFunc(kids, func(a, b snapshotEntry) int { return strings.Compare(path.Base(a.name), path.Base(b.name)) })
			for _, k := range kids {
				walk(k)
			}
		case tar.TypeSymlink:
			must(nw.WriteHeader(&nar.Header{Path: p, Type: nar.TypeSymlink, LinkTarget: e.target}))
		default:
			must(nw.WriteHeader(&nar.Header{Path: p, Type: nar.TypeRegular, Size: int64(len(e.data)), Executable: e.exec}))
			_, err := nw.Write([]byte(e.data))
			must(err)
		}
	}
	walk(es[0])
	must(nw.Close())
	return "sha256:" + nixbase32.EncodeToString(h.Sum(nil))
}

// must panics on errors that writing to memory cannot produce.
func must(err error) {
	if err != nil {
		panic("kernelorgtest: " + err.Error())
	}
}
