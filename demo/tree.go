package demo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/mod/modfile"
)

// ModulePath is the module whose testdata/nixpkgs is the sample tree.
const ModulePath = "github.com/kupdate/kupdate"

// SampleTreePath is the sample tree's place in the module.
const SampleTreePath = "testdata/nixpkgs"

// FindSampleTree locates the sample nixpkgs tree: in the kupdate module
// containing the working directory (`go run ./cmd/kupdate demo` in a clone,
// `go test` in any package of it), else in the module this package was
// compiled from (a kupdate binary built from a clone, run elsewhere on the
// same machine). The tree is not embedded in the binary: the go tool
// ignores testdata directories as packages, and an embed cannot reach a
// parent directory.
func FindSampleTree() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("demo: %w: %w", errNoTree, err)
	}
	if root, ok := moduleRoot(wd); ok {
		return filepath.Join(root, filepath.FromSlash(SampleTreePath)), nil
	}
	// The compile-time path of this file; relative (useless) under -trimpath.
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if root, ok := moduleRoot(filepath.Dir(file)); ok {
			return filepath.Join(root, filepath.FromSlash(SampleTreePath)), nil
		}
	}
	return "", fmt.Errorf("demo: %w above %s: run kupdate demo inside a clone of %s (git clone, cd into it, go run ./cmd/kupdate demo), or pass --tree DIR", errNoTree, wd, ModulePath)
}

// moduleRoot walks up from dir to the directory whose go.mod declares
// ModulePath and holds the sample tree.
func moduleRoot(dir string) (string, bool) {
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modfile.ModulePath(data) == ModulePath {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(SampleTreePath), "default.nix")); err == nil {
				return dir, true
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// readTree reads every regular file below root (slash paths), skipping .git
// and Nix's result links. Anything else that is not a regular file or a
// directory is refused: the simulated repository holds plain files only.
func readTree(root string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0 && (d.Name() == "result" || len(d.Name()) > 7 && d.Name()[:7] == "result-"):
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s: not a regular file: the demo repository holds plain files only", path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[rel] = string(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("demo: reading the nixpkgs tree %s: %w", root, err)
	}
	if _, ok := files["default.nix"]; !ok {
		return nil, fmt.Errorf("demo: %s has no default.nix: not a nixpkgs tree", root)
	}
	return files, nil
}
