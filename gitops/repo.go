package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/redact"
)

// Remote is a repository kupdate fetches from or pushes to.
type Remote struct {
	URL  string
	Auth transport.AuthMethod // nil: anonymous
}

// TokenAuth is HTTP basic auth with a token, the way GitHub takes an
// installation or personal access token for git over HTTPS. Its String()
// hides the token.
func TokenAuth(token string) transport.AuthMethod {
	return &githttp.BasicAuth{Username: "x-access-token", Password: token}
}

// AuthFromEnv reads the push token from the environment variable n names
// ([git] token_env).
func AuthFromEnv(n config.EnvName) (transport.AuthMethod, error) {
	token, err := config.Secret(n)
	if err != nil {
		return nil, fmt.Errorf("git push token: %w", err)
	}
	return TokenAuth(token), nil
}

// Options are what every Repo needs besides where it is.
type Options struct {
	Identity Identity
	// Now is the commit time; tests fix it to get exact hashes. Nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger // nil: discard
}

// Repo is a repository kupdate writes commits into: a managed bare clone, or
// a maintainer's checkout.
type Repo struct {
	dir     string // the clone, or the checkout's worktree
	gitDir  string // where the index lives (checkouts only)
	local   bool
	repo    *git.Repository
	storage *filesystem.Storage
	base    plumbing.Hash // the base branch's tip (managed), HEAD's commit (local)
	// upstream is where the base comes from (managed clones only): asked
	// whether an older base is an ancestor of the current one, which the
	// shallow clone cannot tell.
	upstream Remote
	// ancestry remembers upstream's answers: [descendant, ancestor] -> yes.
	ancestry map[[2]plumbing.Hash]bool
	id       Identity
	now      func() time.Time
	log      *slog.Logger
}

func (o Options) fill() (Options, error) {
	if o.Identity.Name == "" || o.Identity.Email == "" {
		return o, errors.New("commit identity incomplete: set [git] author_name and author_email")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

func newRepo(dir string, repo *git.Repository, opts Options) (*Repo, error) {
	st, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return nil, fmt.Errorf("repository %s: not on the filesystem", dir)
	}
	return &Repo{dir: dir, repo: repo, storage: st, id: opts.Identity, now: opts.Now, log: opts.Logger, ancestry: map[[2]plumbing.Hash]bool{}}, nil
}

// reopen opens the managed clone's storage afresh, after files were added
// to it behind go-git's back.
func (r *Repo) reopen() error {
	r.storage.Close()
	repo, err := openBare(r.dir)
	if err != nil {
		return err
	}
	st, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return fmt.Errorf("repository %s: not on the filesystem", r.dir)
	}
	r.repo, r.storage = repo, st
	return nil
}

// Base is the commit kupdate builds on: the base branch's tip as fetched by
// OpenManaged, or HEAD's commit in a checkout.
func (r *Repo) Base() plumbing.Hash { return r.base }

// Dir is where the repository is.
func (r *Repo) Dir() string { return r.dir }

// Close releases the repository's open files.
func (r *Repo) Close() error { return r.storage.Close() }

// ReadFile returns the content of path (slash-separated, relative to the
// root) at commit.
func (r *Repo) ReadFile(ctx context.Context, commit plumbing.Hash, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := object.GetCommit(r.storage, commit)
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s in %s: %w", path, short(commit), r.dir, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s in %s: %w", path, short(commit), r.dir, err)
	}
	f, err := tree.File(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s in %s: %w", path, short(commit), r.dir, err)
	}
	rd, err := f.Reader()
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s in %s: %w", path, short(commit), r.dir, err)
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// managedMarker is written into a managed clone, so kupdate only ever
// replaces a directory it made itself.
const managedMarker = "kupdate-managed"

// maxPacks bounds the packs a managed clone gathers (one per cycle that saw
// upstream move); past it, the next OpenManaged clones afresh, which drops
// every object no longer needed.
const maxPacks = 32

// OpenManaged opens the managed clone of upstream's base branch in dir,
// creating it (depth 1, single branch, bare) when it does not exist yet, and
// brings it up to date: a depth-1 thin fetch that downloads only what changed
// since the last cycle. Base() is then the base branch's tip.
//
// dir is kupdate's own: a directory that exists without kupdate's marker is
// refused, and a clone is written next to dir and renamed into place, so an
// interrupted clone leaves nothing half-written. A clone that cannot be read
// or written is moved aside and cloned afresh (see replaceDamaged); a remote
// that cannot be reached leaves it as it is. One process at a time: the
// caller holds the cache directory's lock.
func OpenManaged(ctx context.Context, dir string, upstream Remote, base string, opts Options) (*Repo, error) {
	opts, err := opts.fill()
	if err != nil {
		return nil, err
	}
	if err := plumbing.NewBranchReferenceName(base).Validate(); err != nil || base == "" {
		return nil, fmt.Errorf("base branch %q is not a valid branch name: check nixpkgs.base", base)
	}
	r, made, err := openOrClone(ctx, dir, upstream, base, opts)
	if err != nil {
		return nil, err
	}
	tip, err := r.syncBase(ctx, upstream, base)
	if err != nil && !made && isDamage(err) {
		// Damage only the fetch finds: an object the new pack builds on
		// does not read back, the pack directory refuses the new pack.
		r.Close()
		if r, err = replaceDamaged(ctx, dir, err, upstream, base, opts); err != nil {
			return nil, err
		}
		tip, err = r.syncBase(ctx, upstream, base)
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	r.base, r.upstream = tip, upstream
	return r, nil
}

// openOrClone opens the managed clone at dir, or makes it: when there is
// none, when it has gathered too many packs, or when it is damaged. made
// tells that it was cloned just now.
func openOrClone(ctx context.Context, dir string, upstream Remote, base string, opts Options) (r *Repo, made bool, err error) {
	switch _, err := os.Stat(dir); {
	case errors.Is(err, os.ErrNotExist):
		r, err := cloneManaged(ctx, dir, upstream, base, opts, "")
		return r, true, err
	case err != nil:
		return nil, false, fmt.Errorf("managed clone %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, managedMarker)); err != nil {
		return nil, false, fmt.Errorf("managed clone %s: the directory exists but kupdate did not make it; remove it or set nixpkgs.cache_dir elsewhere", dir)
	}
	removeLeftovers(dir, opts.Logger)
	if packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack")); len(packs) > maxPacks {
		opts.Logger.Info("managed clone has many packs; cloning afresh", "dir", dir, "packs", len(packs))
		r, err := cloneManaged(ctx, dir, upstream, base, opts, "")
		return r, true, err
	}
	if r, err = openChecked(dir, base, opts); err != nil {
		r, err := replaceDamaged(ctx, dir, err, upstream, base, opts)
		return r, true, err
	}
	return r, false, nil
}

// openChecked opens the managed clone at dir once it has checked it for
// damage: any error means it cannot be used as it is.
func openChecked(dir, base string, opts Options) (*Repo, error) {
	if err := checkFiles(dir); err != nil {
		return nil, err
	}
	repo, err := openBare(dir)
	if err != nil {
		return nil, err
	}
	r, err := newRepo(dir, repo, opts)
	if err != nil {
		return nil, err
	}
	if err := r.checkRefs(base); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// cloneManaged makes a new managed clone next to dir and moves it into
// place. Whatever kupdate had there is moved to keep when keep is set (a
// damaged clone, kept for a look), and deleted otherwise.
func cloneManaged(ctx context.Context, dir string, upstream Remote, base string, opts Options, keep string) (*Repo, error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("managed clone %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+newSuffix)
	if err != nil {
		return nil, fmt.Errorf("managed clone %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // gone once renamed; cleans up a failure
	// The marker first, so that a clone cut short by a crash is known as
	// kupdate's and removed by the next OpenManaged.
	if err := os.WriteFile(filepath.Join(tmp, managedMarker), []byte("a bare, shallow clone kupdate keeps; safe to delete\n"), 0o644); err != nil {
		return nil, fmt.Errorf("managed clone %s: %w", dir, err)
	}
	if _, err := git.PlainInit(tmp, true); err != nil {
		return nil, fmt.Errorf("managed clone %s: %w", dir, err)
	}
	repo, err := openBare(tmp)
	if err != nil {
		return nil, fmt.Errorf("managed clone %s: %w", dir, err)
	}
	r, err := newRepo(tmp, repo, opts)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	_, err = r.syncBase(ctx, upstream, base)
	r.Close()
	if err != nil {
		return nil, err
	}
	if err := install(tmp, dir, keep, opts.Logger); err != nil {
		return nil, fmt.Errorf("managed clone %s: %w", dir, err)
	}
	opts.Logger.Info("cloned", "remote", redact.URL(upstream.URL), "branch", base, "dir", dir, "took", time.Since(start).Round(time.Millisecond))
	if repo, err = openBare(dir); err != nil {
		return nil, fmt.Errorf("managed clone %s: %w", dir, err)
	}
	return newRepo(dir, repo, opts)
}

// syncBase fetches upstream's base branch (depth 1) unless its tip is
// already here, points refs/heads/<base> at it and returns it.
func (r *Repo) syncBase(ctx context.Context, upstream Remote, base string) (plumbing.Hash, error) {
	ref := plumbing.NewBranchReferenceName(base)
	sess, adv, err := openUploadPack(ctx, upstream)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetching %s from %s: %w", base, redact.URL(upstream.URL), err)
	}
	defer sess.Close()
	tip, ok := adv[ref]
	if !ok {
		return plumbing.ZeroHash, fmt.Errorf("fetching %s from %s: the remote has no branch %s; check nixpkgs.base and nixpkgs.remote", base, redact.URL(upstream.URL), base)
	}
	if !r.hasCommit(tip) {
		start := time.Now()
		if err := r.fetch(ctx, sess, []plumbing.Hash{tip}, 1); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("fetching %s from %s: %w", base, redact.URL(upstream.URL), err)
		}
		r.log.Info("fetched", "remote", redact.URL(upstream.URL), "branch", base, "tip", short(tip), "took", time.Since(start).Round(time.Millisecond))
	}
	if err := r.storage.SetReference(plumbing.NewHashReference(ref, tip)); err != nil {
		return plumbing.ZeroHash, local(fmt.Errorf("managed clone %s: setting %s: %w", r.dir, ref, err))
	}
	return tip, nil
}

func (r *Repo) hasCommit(h plumbing.Hash) bool {
	_, err := object.GetCommit(r.storage, h)
	return err == nil
}

// objectCache bounds go-git's cache of decoded objects in a managed clone
// (its default is 96 MiB); kupdate reads few objects twice.
const objectCache = 16 * cache.MiByte

// openBare opens the managed clone at dir. Only kupdate writes there, so
// go-git may cache the list of packs and keep them open.
func openBare(dir string) (*git.Repository, error) {
	plain, err := git.PlainOpen(dir)
	if err != nil {
		return nil, err
	}
	fs := plain.Storer.(*filesystem.Storage).Filesystem()
	st := filesystem.NewStorageWithOptions(fs, cache.NewObjectLRU(objectCache),
		filesystem.Options{ExclusiveAccess: true, KeepDescriptors: true})
	return git.Open(st, nil)
}

// OpenLocal opens a maintainer's checkout at dir. Base() is its HEAD commit.
// kupdate commits there only through CommitLocal, on the current branch.
func OpenLocal(ctx context.Context, dir string, opts Options) (*Repo, error) {
	opts, err := opts.fill()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("opening the nixpkgs checkout %s: %w", dir, err)
	}
	gitDir, err := findGitDir(dir)
	if err != nil {
		return nil, err
	}
	r, err := newRepo(dir, repo, opts)
	if err != nil {
		return nil, err
	}
	r.local, r.gitDir = true, gitDir
	head, err := repo.Head()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("nixpkgs checkout %s: reading HEAD: %w", dir, err)
	}
	r.base = head.Hash()
	return r, nil
}

// findGitDir finds the checkout's own git directory: .git, or the directory
// a .git file names (a linked worktree).
func findGitDir(dir string) (string, error) {
	dotgit := filepath.Join(dir, ".git")
	fi, err := os.Stat(dotgit)
	if err != nil {
		return "", fmt.Errorf("nixpkgs checkout %s: no .git here; pass the top directory of a checkout (not a bare repository)", dir)
	}
	if fi.IsDir() {
		return dotgit, nil
	}
	b, err := os.ReadFile(dotgit)
	if err != nil {
		return "", fmt.Errorf("nixpkgs checkout %s: %w", dir, err)
	}
	line := strings.TrimSpace(string(b))
	if !strings.HasPrefix(line, "gitdir: ") {
		return "", fmt.Errorf("nixpkgs checkout %s: %s does not name a git directory", dir, dotgit)
	}
	gd := strings.TrimPrefix(line, "gitdir: ")
	if !filepath.IsAbs(gd) {
		gd = filepath.Join(dir, gd)
	}
	return gd, nil
}

// BranchTip is the commit another base branch than the repository's own
// (nixpkgs.bases) starts from: in the managed clone, fetched now from the
// upstream like the base; in a maintainer's checkout, the local branch
// name, else origin's as last fetched (a checkout is never fetched).
func (r *Repo) BranchTip(ctx context.Context, name string) (plumbing.Hash, error) {
	if err := plumbing.NewBranchReferenceName(name).Validate(); err != nil || name == "" {
		return plumbing.ZeroHash, fmt.Errorf("base branch %q is not a valid branch name: check nixpkgs.bases", name)
	}
	if !r.local {
		return r.syncBase(ctx, r.upstream, name)
	}
	for _, ref := range []plumbing.ReferenceName{plumbing.NewBranchReferenceName(name), plumbing.NewRemoteReferenceName("origin", name)} {
		if h, err := r.storage.Reference(ref); err == nil {
			return h.Hash(), nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("nixpkgs checkout %s: no branch %s (nor origin/%s): fetch it, or change nixpkgs.bases", r.dir, name, name)
}
