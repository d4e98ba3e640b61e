// Package srcarchivetest builds source archives as GitHub and GitLab serve
// them (a gzipped tar of one top-level directory), for the simulators and
// tests.
package srcarchivetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"strings"
	"time"
)

// File is one entry of an archive, below its top-level directory.
type File struct {
	Name string // slash path; a trailing "/" makes a directory
	Data string
	Exec bool
	Link string // a symlink's target; Data is then ignored
}

// TarGz is the archive of files under the top-level directory top
// ("zen-kernel-6.18.2-zen1"), as git archive writes it: directories
// 0775, files 0664 (0775 when executable), fixed times, deterministic bytes.
func TarGz(top string, files ...File) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	mtime := time.Date(2026, 1, 4, 22, 0, 0, 0, time.UTC)
	must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + "/", Mode: 0o775, ModTime: mtime, Format: tar.FormatPAX}))
	for _, f := range files {
		h := &tar.Header{Name: top + "/" + f.Name, ModTime: mtime, Format: tar.FormatPAX}
		switch {
		case strings.HasSuffix(f.Name, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o775
		case f.Link != "":
			h.Typeflag, h.Mode, h.Linkname = tar.TypeSymlink, 0o777, f.Link
		default:
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o664, int64(len(f.Data))
			if f.Exec {
				h.Mode = 0o775
			}
		}
		must(tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write([]byte(f.Data))
			must(err)
		}
	}
	must(tw.Close())
	must(zw.Close())
	return buf.Bytes()
}

// Kernel is a small kernel-like source tree of a tagged release, different
// for every tag: a Makefile, a script, a symlink and an empty directory.
func Kernel(top, tag string) []byte {
	return TarGz(top,
		File{Name: "Makefile", Data: "# SPDX-License-Identifier: GPL-2.0\n# " + tag + "\nVERSION = x\n"},
		File{Name: "README", Data: "Linux kernel " + tag + "\n"},
		File{Name: "scripts/"},
		File{Name: "scripts/setlocalversion", Data: "#!/bin/sh\necho " + tag + "\n", Exec: true},
		File{Name: "tools/"},
		File{Name: "tools/empty/"},
		File{Name: "COPYING-link", Link: "README"},
	)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
