package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// baseCache bounds the inflated objects storePack keeps as delta bases.
const baseCache = 32 * cache.MiByte

// storePack writes a complete pack arriving on r into the objects/pack
// directory of the bare repository at dir, with its index.
//
// go-git's own pack writer inflates every object twice (once to find where
// it ends, once more to resolve deltas); on a clone of nixpkgs' size that is
// most of the time spent. This inflates each object once as it arrives,
// resolving a delta against its base while the base is still in a bounded
// cache (re-reading it from the pack file written so far when it is not),
// and falls back to go-git's parser on the finished file for a pack it does
// not expect (a delta whose base comes later).
//
// Errors writing or reading back the files are marked local (storageError);
// those of the arriving pack are not.
func storePack(dir string, r io.Reader) (err error) {
	packDir := filepath.Join(dir, "objects", "pack")
	f, err := os.CreateTemp(packDir, "tmp_pack_")
	if err != nil {
		return local(err)
	}
	defer func() {
		f.Close()
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	rf, err := os.Open(f.Name()) // random access to what has arrived
	if err != nil {
		return local(err)
	}
	defer rf.Close()

	ix := &indexer{
		sc:     packfile.NewScanner(io.TeeReader(r, localWriter{f})),
		seek:   packfile.NewScanner(rf),
		cache:  cache.NewBufferLRU(baseCache),
		types:  map[int64]plumbing.ObjectType{},
		byHash: map[plumbing.Hash]int64{},
		w:      &idxfile.Writer{},
	}
	checksum, err := ix.run()
	var late errLateBase
	if errors.As(err, &late) {
		// Take the rest of the pack, then index the file as go-git does.
		if _, err := io.Copy(io.Discard, io.TeeReader(r, localWriter{f})); err != nil {
			return err
		}
		ix.w = &idxfile.Writer{}
		checksum, err = indexWithGoGit(f.Name(), ix.w)
		if err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return local(err)
	}
	idx, err := ix.w.Index()
	if err != nil {
		return err
	}
	return local(writeIndex(packDir, f.Name(), checksum, idx))
}

// writeIndex writes idx next to the pack written at packTmp, then renames
// both to their names.
func writeIndex(packDir, packTmp string, checksum plumbing.Hash, idx *idxfile.MemoryIndex) error {
	base := filepath.Join(packDir, "pack-"+checksum.String())
	idxTmp, err := os.CreateTemp(packDir, "tmp_idx_")
	if err != nil {
		return err
	}
	defer os.Remove(idxTmp.Name())
	if _, err := idxfile.NewEncoder(idxTmp).Encode(idx); err != nil {
		idxTmp.Close()
		return err
	}
	if err := idxTmp.Close(); err != nil {
		return err
	}
	// The pack first: git and go-git look for packs by their index.
	if err := os.Rename(packTmp, base+".pack"); err != nil {
		return err
	}
	return os.Rename(idxTmp.Name(), base+".idx")
}

// localWriter marks the errors of writing the pack file local.
type localWriter struct{ w io.Writer }

func (l localWriter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	return n, local(err)
}

type errLateBase struct{ ref plumbing.Hash }

func (e errLateBase) Error() string { return "delta base " + e.ref.String() + " not yet seen" }

type indexer struct {
	sc, seek *packfile.Scanner
	cache    cache.Buffer
	types    map[int64]plumbing.ObjectType // by offset
	byHash   map[plumbing.Hash]int64
	w        *idxfile.Writer
	buf      bytes.Buffer
}

func (ix *indexer) run() (plumbing.Hash, error) {
	_, count, err := ix.sc.Header()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if err := ix.w.OnHeader(count); err != nil {
		return plumbing.ZeroHash, err
	}
	for range count {
		oh, err := ix.sc.NextObjectHeader()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		ix.buf.Reset()
		_, crc, err := ix.sc.NextObject(&ix.buf)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		typ, data := oh.Type, ix.buf.Bytes()
		switch oh.Type {
		case plumbing.OFSDeltaObject, plumbing.REFDeltaObject:
			baseOff := oh.OffsetReference
			if oh.Type == plumbing.REFDeltaObject {
				off, ok := ix.byHash[oh.Reference]
				if !ok {
					return plumbing.ZeroHash, errLateBase{oh.Reference}
				}
				baseOff = off
			}
			baseType, ok := ix.types[baseOff]
			if !ok {
				return plumbing.ZeroHash, fmt.Errorf("object at %d: delta base at %d is not an object", oh.Offset, baseOff)
			}
			base, err := ix.data(baseOff)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if data, err = packfile.PatchDelta(base, data); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("object at %d: %w", oh.Offset, err)
			}
			typ = baseType
		default:
			data = bytes.Clone(data)
		}
		h := plumbing.ComputeHash(typ, data)
		ix.types[oh.Offset] = typ
		ix.byHash[h] = oh.Offset
		ix.cache.Put(oh.Offset, data)
		ix.w.Add(h, uint64(oh.Offset), crc)
	}
	checksum, err := ix.sc.Checksum()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return checksum, ix.w.OnFooter(checksum)
}

// data is the inflated content of the object at off, from the cache or
// read again from the pack file.
func (ix *indexer) data(off int64) ([]byte, error) {
	if b, ok := ix.cache.Get(off); ok {
		return b, nil
	}
	oh, err := ix.seek.SeekObjectHeader(off)
	if err != nil {
		return nil, local(fmt.Errorf("re-reading object at %d: %w", off, err))
	}
	var buf bytes.Buffer
	if _, _, err := ix.seek.NextObject(&buf); err != nil {
		return nil, local(fmt.Errorf("re-reading object at %d: %w", off, err))
	}
	data := buf.Bytes()
	switch oh.Type {
	case plumbing.OFSDeltaObject, plumbing.REFDeltaObject:
		baseOff := oh.OffsetReference
		if oh.Type == plumbing.REFDeltaObject {
			baseOff = ix.byHash[oh.Reference]
		}
		base, err := ix.data(baseOff)
		if err != nil {
			return nil, err
		}
		if data, err = packfile.PatchDelta(base, data); err != nil {
			return nil, fmt.Errorf("object at %d: %w", off, err)
		}
	}
	ix.cache.Put(off, data)
	return data, nil
}

// indexWithGoGit indexes the complete pack file at path with go-git's
// parser, into w.
func indexWithGoGit(path string, w *idxfile.Writer) (plumbing.Hash, error) {
	f, err := os.Open(path)
	if err != nil {
		return plumbing.ZeroHash, local(err)
	}
	defer f.Close()
	p, err := packfile.NewParser(packfile.NewScanner(f), w)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return p.Parse()
}
