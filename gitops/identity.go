package gitops

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
)

// UserIdentity is the identity git itself would commit with in the checkout
// at dir: user.name and user.email as git resolves them, each file
// overriding the ones before it:
//
//   - the system file: $GIT_CONFIG_SYSTEM, else /etc/gitconfig; none with
//     GIT_CONFIG_NOSYSTEM set;
//   - the global files: $GIT_CONFIG_GLOBAL when set, else
//     $XDG_CONFIG_HOME/git/config (~/.config/git/config without
//     XDG_CONFIG_HOME) and then ~/.gitconfig;
//   - the repository's own config (a linked worktree's common one).
//
// getenv reads the environment (nil: os.Getenv). ok is false when either
// value is unset, as git would then refuse to commit; kupdate falls back to
// its own identity. Include directives and the GIT_AUTHOR_*/GIT_COMMITTER_*
// variables are not read.
//
// `kupdate update` commits with it in a maintainer's checkout, like
// update.sh with COMMIT=1; the branches `kupdate run` pushes never do.
func UserIdentity(dir string, getenv func(string) string) (id Identity, ok bool, err error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var files []string
	if getenv("GIT_CONFIG_NOSYSTEM") == "" {
		if p := getenv("GIT_CONFIG_SYSTEM"); p != "" {
			files = append(files, p)
		} else {
			files = append(files, "/etc/gitconfig")
		}
	}
	if p := getenv("GIT_CONFIG_GLOBAL"); p != "" {
		files = append(files, p)
	} else {
		home := getenv("HOME")
		if xdg := getenv("XDG_CONFIG_HOME"); xdg != "" {
			files = append(files, filepath.Join(xdg, "git", "config"))
		} else if home != "" {
			files = append(files, filepath.Join(home, ".config", "git", "config"))
		}
		if home != "" {
			files = append(files, filepath.Join(home, ".gitconfig"))
		}
	}
	for _, f := range files {
		u, err := readUser(f)
		if err != nil {
			return Identity{}, false, err
		}
		id = merge(id, u)
	}
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return Identity{}, false, fmt.Errorf("opening the nixpkgs checkout %s: %w", dir, err)
	}
	local, err := repo.ConfigScoped(config.LocalScope)
	if err != nil {
		return Identity{}, false, fmt.Errorf("nixpkgs checkout %s: reading its git config: %w", dir, err)
	}
	id = merge(id, Identity{Name: local.User.Name, Email: local.User.Email})
	return id, id.Name != "" && id.Email != "", nil
}

// readUser reads user.name and user.email from a git config file; a file
// that does not exist sets neither.
func readUser(path string) (Identity, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Identity{}, nil
	}
	if err != nil {
		return Identity{}, fmt.Errorf("reading git config %s: %w", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return Identity{}, nil
	}
	c, err := config.ReadConfig(f)
	if err != nil {
		return Identity{}, fmt.Errorf("reading git config %s: %w", path, err)
	}
	return Identity{Name: c.User.Name, Email: c.User.Email}, nil
}

// merge is base with what over sets.
func merge(base, over Identity) Identity {
	if over.Name != "" {
		base.Name = over.Name
	}
	if over.Email != "" {
		base.Email = over.Email
	}
	return base
}
