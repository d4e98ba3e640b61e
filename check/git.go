package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/kupdate/kupdate/childproc"
)

// Repo reads revisions of a local git repository with the git CLI. The check
// reads a handful of files at a handful of commits, so one short git process
// per read is fast enough and never makes git scan a worktree (a nixpkgs
// checkout has 40,000 files).
type Repo struct {
	Dir string // a work tree or a bare repository
	// Secrets names environment variables git must not see, even when
	// allow-listed: those the *_env keys name (config.SecretEnvNames). git
	// gets only the allow-listed part of kupdate's environment
	// (childproc.Env) in any case.
	Secrets []string
}

// git runs git in r.Dir and returns its standard output. The error carries
// git's standard error, which names the revision or path at fault.
func (r *Repo) git(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.Dir
	cmd.Stdin = stdin
	// A repository-local or global config must not change what the check
	// sees: no pager, no replace refs, no prompts for credentials.
	cmd.Env = childproc.Env(os.Environ(), []string{"GIT_TERMINAL_PROMPT=0", "GIT_NO_REPLACE_OBJECTS=1", "GIT_PAGER=cat"}, r.Secrets)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := childproc.Run(cmd); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if ctx.Err() != nil {
			return nil, fmt.Errorf("git %s in %s: %w", strings.Join(args, " "), r.Dir, ctx.Err())
		}
		return nil, fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), r.Dir, err, msg)
	}
	return stdout.Bytes(), nil
}

// Resolve returns the commit id rev names.
func (r *Repo) Resolve(ctx context.Context, rev string) (string, error) {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("invalid revision %q", rev)
	}
	out, err := r.git(ctx, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("revision %q is not a commit in %s (fetch it first): %w", rev, r.Dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// MergeBase is where head branched off base: the revision a pull request's
// diff starts from, so changes that landed on base later are not mistaken
// for reverts in head.
func (r *Repo) MergeBase(ctx context.Context, base, head string) (string, error) {
	out, err := r.git(ctx, nil, "merge-base", base, head)
	if err != nil {
		return "", fmt.Errorf("no common ancestor of %s and %s (a shallow clone? fetch more history): %w", short(base), short(head), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Commit is one commit of base..head.
type Commit struct {
	SHA     string
	Parents []string
	Title   string   // the subject line
	Files   []string // paths changed relative to the first parent; empty for merges
}

// Commits lists base..head, oldest first (parents before children).
func (r *Repo) Commits(ctx context.Context, base, head string) ([]Commit, error) {
	// %x1e separates commits; --name-only lists the files after the header.
	out, err := r.git(ctx, nil, "log", "--reverse", "--topo-order", "--no-renames",
		"--format=%x1e%H%x1f%P%x1f%s", "--name-only", base+".."+head, "--")
	if err != nil {
		return nil, err
	}
	var commits []Commit
	for _, rec := range strings.Split(string(out), "\x1e") {
		if strings.TrimSpace(rec) == "" {
			continue
		}
		header, files, _ := strings.Cut(rec, "\n")
		f := strings.SplitN(header, "\x1f", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("git log %s..%s: unexpected record %q", short(base), short(head), header)
		}
		c := Commit{SHA: f[0], Title: f[2], Parents: strings.Fields(f[1])}
		for _, p := range strings.Split(files, "\n") {
			if p = strings.TrimSpace(p); p != "" {
				c.Files = append(c.Files, p)
			}
		}
		commits = append(commits, c)
	}
	return commits, nil
}

// ReadFile returns the file at path in rev; an error wrapping fs.ErrNotExist
// when rev has no such file.
func (r *Repo) ReadFile(ctx context.Context, rev, name string) ([]byte, error) {
	b, typ, err := r.object(ctx, rev, name)
	if err != nil {
		return nil, err
	}
	if typ != "blob" {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("is a %s in %s", typ, short(rev))}
	}
	return b, nil
}

// object reads rev:name with cat-file --batch, which reports a missing path
// on its output instead of failing, so "no such file" is told apart from a
// broken repository.
func (r *Repo) object(ctx context.Context, rev, name string) ([]byte, string, error) {
	if !fs.ValidPath(name) {
		return nil, "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	spec := rev + ":" + name
	if name == "." {
		spec = rev + "^{tree}"
	}
	out, err := r.git(ctx, strings.NewReader(spec+"\n"), "cat-file", "--batch")
	if err != nil {
		return nil, "", err
	}
	header, body, _ := bytes.Cut(out, []byte("\n"))
	h := strings.Fields(string(header))
	if len(h) == 2 && h[1] == "missing" || len(h) >= 2 && h[len(h)-1] == "ambiguous" {
		return nil, "", &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("not in %s: %w", short(rev), fs.ErrNotExist)}
	}
	if len(h) != 3 {
		return nil, "", fmt.Errorf("git cat-file %s: unexpected answer %q", spec, header)
	}
	size, err := strconv.Atoi(h[2])
	if err != nil || size > len(body) {
		return nil, "", fmt.Errorf("git cat-file %s: unexpected answer %q", spec, header)
	}
	return body[:size], h[1], nil
}

// FS is the tree of rev as an fs.FS, for readers that take one (updater.Load).
// Every read is a git process bound to ctx.
func (r *Repo) FS(ctx context.Context, rev string) fs.FS {
	return &revFS{ctx: ctx, repo: r, rev: rev}
}

type revFS struct {
	ctx  context.Context
	repo *Repo
	rev  string
}

func (f *revFS) ReadFile(name string) ([]byte, error) {
	return f.repo.ReadFile(f.ctx, f.rev, name)
}

func (f *revFS) Open(name string) (fs.File, error) {
	b, typ, err := f.repo.object(f.ctx, f.rev, name)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "blob":
		return &memFile{name: path.Base(name), r: bytes.NewReader(b), size: int64(len(b))}, nil
	case "tree":
		entries, err := f.repo.readDir(f.ctx, f.rev, name)
		if err != nil {
			return nil, err
		}
		return &memDir{name: path.Base(name), entries: entries}, nil
	default:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("unsupported object type %s", typ)}
	}
}

// readDir lists a tree with the sizes of its blobs, which fs.DirEntry.Info
// must report like Stat does.
func (r *Repo) readDir(ctx context.Context, rev, dir string) ([]fs.DirEntry, error) {
	spec := rev + ":" + dir
	if dir == "." {
		spec = rev + "^{tree}"
	}
	out, err := r.git(ctx, nil, "ls-tree", "-lz", "--end-of-options", spec)
	if err != nil {
		return nil, err
	}
	var entries []fs.DirEntry
	for _, rec := range strings.Split(string(out), "\x00") {
		if rec == "" {
			continue
		}
		meta, name, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			return nil, fmt.Errorf("git ls-tree %s: unexpected line %q", spec, rec)
		}
		info := &memInfo{name: name, mode: 0o644}
		switch f[1] {
		case "tree":
			info.mode = fs.ModeDir | 0o755
		case "blob":
			info.size, _ = strconv.ParseInt(f[3], 10, 64)
		default:
			continue // submodules are not part of the tree's files
		}
		entries = append(entries, fs.FileInfoToDirEntry(info))
	}
	return entries, nil
}

type memInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (i *memInfo) Name() string       { return i.name }
func (i *memInfo) Size() int64        { return i.size }
func (i *memInfo) Mode() fs.FileMode  { return i.mode }
func (i *memInfo) ModTime() time.Time { return time.Time{} }
func (i *memInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *memInfo) Sys() any           { return nil }

type memFile struct {
	name string
	r    *bytes.Reader
	size int64
}

func (f *memFile) Stat() (fs.FileInfo, error) {
	return &memInfo{name: f.name, size: f.size, mode: 0o644}, nil
}
func (f *memFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *memFile) Close() error               { return nil }

type memDir struct {
	name    string
	entries []fs.DirEntry
	off     int
}

func (d *memDir) Stat() (fs.FileInfo, error) {
	return &memInfo{name: d.name, mode: fs.ModeDir | 0o755}, nil
}
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *memDir) Close() error { return nil }

func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}

// short abbreviates a commit id for messages.
func short(rev string) string {
	if len(rev) == 40 && isHex(rev) {
		return rev[:12]
	}
	return rev
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}
