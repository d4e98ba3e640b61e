package kernelorg

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/kupdate/kupdate/fetch"
)

// unpackedFactor bounds the unpacked tree of a snapshot relative to
// MaxSnapshotBytes: kernel trees compress about 6:1, gzip bombs far more.
const unpackedFactor = 8

// rcCall is a snapshot download in progress; later callers wait for it.
type rcCall struct {
	done chan struct{}
	hash string
	err  error
}

// SnapshotURL is where the rc snapshot of v is downloaded from.
func (c *Client) SnapshotURL(v Version) string {
	return c.git + "/torvalds/t/linux-" + v.String() + ".tar.gz"
}

// snapshotHash returns the NAR hash of the rc snapshot of v, from memory,
// from the disk cache, or by downloading it: once per version, whatever the
// number of callers.
func (c *Client) snapshotHash(ctx context.Context, v Version) (string, error) {
	c.mu.Lock()
	if h, ok := c.rcHashes[v]; ok {
		c.mu.Unlock()
		return h, nil
	}
	if call, ok := c.rcCalls[v]; ok {
		c.mu.Unlock()
		select {
		case <-call.done:
			return call.hash, call.err
		case <-ctx.Done():
			return "", fmt.Errorf("linux %s: waiting for the snapshot hash: %w", v, ctx.Err())
		}
	}
	call := &rcCall{done: make(chan struct{})}
	c.rcCalls[v] = call
	c.mu.Unlock()

	call.hash, call.err = c.computeSnapshotHash(ctx, v)

	c.mu.Lock()
	delete(c.rcCalls, v)
	if call.err == nil {
		c.rcHashes[v] = call.hash
	}
	c.mu.Unlock()
	close(call.done)
	return call.hash, call.err
}

func (c *Client) computeSnapshotHash(ctx context.Context, v Version) (string, error) {
	if r, ok := c.loadRC(v); ok {
		return r.Hash, nil
	}
	r, err := c.downloadRC(ctx, v, fetch.Validators{})
	if err != nil {
		return "", err
	}
	c.storeRC(v, r)
	return r.Hash, nil
}

// downloadRC downloads the rc snapshot of v, unpacks and hashes it: the
// record of what it got. With val, the request is conditional, and a 304
// is the zero record.
func (c *Client) downloadRC(ctx context.Context, v Version, val fetch.Validators) (rcRecord, error) {
	u := c.SnapshotURL(v)
	spool, err := os.MkdirTemp(c.cacheDir, "rc-unpack-*")
	if err != nil && c.cacheDir != "" && errors.Is(err, os.ErrNotExist) {
		if err = os.MkdirAll(c.cacheDir, 0o755); err == nil {
			spool, err = os.MkdirTemp(c.cacheDir, "rc-unpack-*")
		}
	}
	if err != nil {
		return rcRecord{}, fmt.Errorf("linux %s: a directory to unpack the snapshot in: %w", v, err)
	}
	defer os.RemoveAll(spool)

	start := time.Now()
	var (
		top  string
		size int64
	)
	res, err := c.getSnapshot(ctx, u, val, func(r io.Reader) error {
		// A retry starts from an empty directory.
		if err := clearDir(spool); err != nil {
			return err
		}
		cr := &byteCounter{r: r}
		var err error
		top, err = unpackTarGz(cr, spool, unpackedFactor*c.maxSnapshot, snapshotLimit)
		size = cr.n
		return err
	})
	if fetch.Status(err) == http.StatusNotFound {
		// git.kernel.org makes an rc's snapshot some time after the tag: for
		// an rc releases.json lists, a 404 means "not yet" (the next cycle
		// tries again); for one it does not list, the caller can tell that
		// the rc is not real. A 5xx or a timeout says neither.
		return rcRecord{}, fmt.Errorf("linux %s: snapshot: %w: %w", v, err, ErrNotYet)
	}
	if err != nil {
		return rcRecord{}, fmt.Errorf("linux %s: snapshot: %w", v, err)
	}
	if res.NotModified {
		return rcRecord{}, nil
	}
	h, err := narHashDir(ctx, filepath.Join(spool, top))
	if err != nil {
		return rcRecord{}, fmt.Errorf("linux %s: hashing the snapshot from %s: %w", v, u, err)
	}
	c.snapshots.Add(1)
	c.log.Info("hashed rc snapshot", "version", v.String(), "url", u, "hash", h, "took", time.Since(start).Round(time.Millisecond))
	return rcRecord{Version: v.String(), URL: u, Hash: h, Size: size, ETag: res.Validators.ETag, LastModified: res.Validators.LastModified, Computed: c.now().UTC().Truncate(time.Second)}, nil
}

// byteCounter counts what is read through it: the size of a snapshot.
type byteCounter struct {
	r io.Reader
	n int64
}

func (b *byteCounter) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

func clearDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// snapshotLimit names what bounds an rc snapshot's unpacked tree, in errors.
var snapshotLimit = fmt.Sprintf("%d × kernelorg.max_snapshot_bytes", unpackedFactor)

// UnpackTarGz unpacks a gzipped tar holding one top-level directory into
// the empty directory dst as Nix's fetchzip does, and returns that
// directory's name: git.kernel.org's snapshots and GitHub's or GitLab's
// source archives (package srcarchive) alike. limitName says in errors what
// sets maxUnpacked. See unpackTar for what it refuses.
func UnpackTarGz(r io.Reader, dst string, maxUnpacked int64, limitName string) (string, error) {
	return unpackTarGz(r, dst, maxUnpacked, limitName)
}

// unpackTarGz unpacks a gzipped tar into dst (see unpackTar) and reads the
// gzip stream to its end, so its checksum is verified.
func unpackTarGz(r io.Reader, dst string, maxUnpacked int64, limitName string) (string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return "", fmt.Errorf("not a gzip stream: %w", err)
	}
	top, err := unpackTar(zr, dst, maxUnpacked, limitName)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return "", fmt.Errorf("gzip stream: %w", err)
	}
	return top, nil
}

// unpackTar unpacks a tar stream into the empty directory dst, refusing
// anything that could write outside dst or that Nix would not unpack the
// same way: absolute names, "..", links (symbolic or hard) leaving the tree,
// entries under a symlink, duplicates, device files and fifos. pax global
// headers (git archive's commit id) are skipped. The archive must hold
// exactly one top-level directory, whose name is returned; file contents
// plus 512 bytes per entry may total at most maxUnpacked bytes. Only the
// owner-executable bit of a file's mode is kept: it is all a NAR records.
func unpackTar(r io.Reader, dst string, maxUnpacked int64, limitName string) (string, error) {
	root, err := os.OpenRoot(dst)
	if err != nil {
		return "", err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	var (
		top      string
		total    int64
		symlinks = map[string]bool{} // few in a kernel tree; checked for every entry's parents
	)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("reading tar: %w", err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		// Every entry counts a header block, so a stream of empty
		// directories cannot grow without bound either.
		if total += 512; total > maxUnpacked {
			return "", fmt.Errorf("tar entry %q: the unpacked tree exceeds %d bytes (%s)", h.Name, maxUnpacked, limitName)
		}
		name, err := entryName(h.Name)
		if err != nil {
			return "", err
		}
		if name == "" {
			if h.Typeflag == tar.TypeDir {
				continue // "./": the archive root itself
			}
			return "", fmt.Errorf("tar entry %q: a %s with an empty name", h.Name, typeName(h.Typeflag))
		}
		first, rest, _ := strings.Cut(name, "/")
		switch {
		case top == "":
			top = first
		case first != top:
			return "", fmt.Errorf("tar entry %q: a second top-level entry besides %q: want exactly one top-level directory", h.Name, top)
		}
		if rest == "" && h.Typeflag != tar.TypeDir {
			return "", fmt.Errorf("tar entry %q: the top-level entry is a %s: want a directory", h.Name, typeName(h.Typeflag))
		}
		if p := underSymlink(name, symlinks); p != "" {
			return "", fmt.Errorf("tar entry %q: lies under the symlink %q", h.Name, p)
		}
		if symlinks[name] {
			return "", fmt.Errorf("tar entry %q: a second entry for the symlink of that name", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return "", fmt.Errorf("tar entry %q: a directory where a file is already unpacked: %w", h.Name, err)
			}
		case tar.TypeReg: // archive/tar reports a legacy TypeRegA entry as TypeReg (or TypeDir)
			if h.Size < 0 || h.Size > maxUnpacked-total {
				return "", fmt.Errorf("tar entry %q: the unpacked tree exceeds %d bytes (%s)", h.Name, maxUnpacked, limitName)
			}
			total += h.Size
			if err := writeEntry(root, name, h, tr); err != nil {
				return "", fmt.Errorf("tar entry %q: %w", h.Name, err)
			}
		case tar.TypeSymlink:
			if err := checkSymlink(name, h.Linkname); err != nil {
				return "", fmt.Errorf("tar entry %q: %w", h.Name, err)
			}
			if err := mkParent(root, name); err != nil {
				return "", fmt.Errorf("tar entry %q: %w", h.Name, err)
			}
			if err := root.Symlink(h.Linkname, name); err != nil {
				return "", fmt.Errorf("tar entry %q: %w", h.Name, exists(err))
			}
			symlinks[name] = true
		case tar.TypeLink:
			target, err := entryName(h.Linkname)
			if err != nil || target == "" || !strings.HasPrefix(target, top+"/") {
				return "", fmt.Errorf("tar entry %q: hard link to %q leaves the tree", h.Name, h.Linkname)
			}
			if p := underSymlink(target, symlinks); p != "" || symlinks[target] {
				return "", fmt.Errorf("tar entry %q: hard link to %q goes through a symlink", h.Name, h.Linkname)
			}
			if fi, err := root.Lstat(target); err != nil || !fi.Mode().IsRegular() {
				return "", fmt.Errorf("tar entry %q: hard link to %q, which is not a regular file earlier in the archive", h.Name, h.Linkname)
			}
			if err := mkParent(root, name); err != nil {
				return "", fmt.Errorf("tar entry %q: %w", h.Name, err)
			}
			if err := root.Link(target, name); err != nil {
				return "", fmt.Errorf("tar entry %q: %w", h.Name, exists(err))
			}
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return "", fmt.Errorf("tar entry %q: a %s: refusing device files and fifos", h.Name, typeName(h.Typeflag))
		default:
			return "", fmt.Errorf("tar entry %q: unsupported entry type %q", h.Name, h.Typeflag)
		}
	}
	if top == "" {
		return "", errors.New("the archive is empty: want exactly one top-level directory")
	}
	return top, nil
}

// mkParent creates the directories above name (tar entries need not come
// after their directory's entry, or have one).
func mkParent(root *os.Root, name string) error {
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return fmt.Errorf("its directory cannot be made (is a file in the way?): %w", err)
	}
	return nil
}

// exists explains an fs.ErrExist from creating an entry.
func exists(err error) error {
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("a second entry of that name: %w", err)
	}
	return err
}

func writeEntry(root *os.Root, name string, h *tar.Header, r io.Reader) error {
	if err := mkParent(root, name); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if h.Mode&0o100 != 0 {
		mode = 0o755
	}
	// O_EXCL: a duplicate entry is an error, never a silent overwrite.
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return exists(err)
	}
	n, err := io.Copy(f, r)
	if err == nil && n != h.Size {
		err = fmt.Errorf("%d bytes of content, header says %d", n, h.Size)
	}
	if err == nil {
		err = f.Chmod(mode) // the umask must not decide the executable bit
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// entryName cleans a tar name to a slash-separated relative path ("" for
// the archive root), refusing absolute names and "..".
func entryName(n string) (string, error) {
	if strings.HasPrefix(n, "/") {
		return "", fmt.Errorf("tar entry %q: absolute path", n)
	}
	if strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("tar entry %q: NUL in name", n)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("tar entry %q: \"..\" in path", n)
		}
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// checkSymlink refuses a symlink at name whose target is absolute or
// resolves, lexically, outside the top-level directory.
func checkSymlink(name, target string) error {
	if target == "" || strings.ContainsRune(target, 0) {
		return fmt.Errorf("symlink with an invalid target %q", target)
	}
	if strings.HasPrefix(target, "/") {
		return fmt.Errorf("symlink to the absolute path %q leaves the tree", target)
	}
	_, rel, _ := strings.Cut(name, "/") // name within the top-level directory
	resolved := path.Join(path.Dir(rel), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("symlink to %q leaves the tree", target)
	}
	return nil
}

func underSymlink(name string, symlinks map[string]bool) string {
	if len(symlinks) == 0 {
		return ""
	}
	for p := path.Dir(name); p != "."; p = path.Dir(p) {
		if symlinks[p] {
			return p
		}
	}
	return ""
}

func typeName(t byte) string {
	switch t {
	case tar.TypeReg: // archive/tar reports a legacy TypeRegA entry as TypeReg (or TypeDir)
		return "regular file"
	case tar.TypeDir:
		return "directory"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "fifo"
	}
	return fmt.Sprintf("entry of type %q", t)
}

// narHashDir is "sha256:<nix32>" of the NAR serialisation of dir.
func narHashDir(ctx context.Context, dir string) (string, error) {
	sum, err := NARSHA256(ctx, dir)
	if err != nil {
		return "", err
	}
	return nixHash(sum), nil
}

// NARSHA256 is the SHA-256 of the NAR serialisation of the file tree at p,
// what Nix hashes for a recursive (outputHashMode = "recursive") hash:
// nixpkgs' vendorHash of a Go module is this of its `go mod vendor`. It is
// streamed through the hash: memory does not grow with the tree.
func NARSHA256(ctx context.Context, p string) ([]byte, error) {
	h := sha256.New()
	bw := bufio.NewWriterSize(h, 64<<10)
	if err := writeNAR(ctx, bw, p); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
