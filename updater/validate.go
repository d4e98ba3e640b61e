package updater

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/kupdate/kupdate/family"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kupdate/kupdate/childproc"
)

// Validate proves a change applied to the tree at dir: every touched .nix
// file passes `nix-instantiate --parse` (syntax and scoping), every touched
// file a family writes reads back, and what the change's family says it
// must evaluate does (the kernels it builds instantiate: their sources'
// hashes are part of the derivations; the aliases it adds or moves
// evaluate). It needs nix-instantiate on PATH and writes nothing but .drv
// files.
func Validate(ctx context.Context, reg family.Registry, dir string, c family.Change, o ValidateOptions) error {
	for _, f := range c.Files {
		path := filepath.Join(dir, filepath.FromSlash(f))
		if strings.HasSuffix(f, ".nix") {
			if err := ParseNix(ctx, path, nil); err != nil {
				return err
			}
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := reg.CheckFile(f, data); err != nil {
			return err
		}
	}
	exprs := EvalChecks(reg, c)
	if len(exprs) == 0 {
		return nil
	}
	expr := "let p = import ./. { }; in [\n  " + strings.Join(exprs, "\n  ") + "\n]"
	args := append([]string{"--option", "substituters", ""}, o.NixArgs...)
	args = append(args, "--eval", "--strict", "--read-write-mode", "-E", expr)
	_, err := nixCommand(ctx, dir, nil, childproc.Env(os.Environ(), o.Env, o.Secrets), "nix-instantiate", args...)
	if err != nil {
		return fmt.Errorf("%s: evaluating what it touched failed: %w", c.Title, err)
	}
	return nil
}

// ValidateOptions adjusts how Validate runs Nix.
type ValidateOptions struct {
	// Env is added to the environment of nix-instantiate (e.g.
	// KUPDATE_KERNEL_MIRROR=... for the sample tree, NIX_PATH=...), which
	// otherwise gets only the allow-listed part of kupdate's
	// (childproc.Env): the tree is evaluated impurely, and an expression in
	// it can read its environment.
	Env []string
	// Secrets names variables nix-instantiate must not see even when
	// allow-listed or in Env: those the *_env keys name
	// (config.SecretEnvNames).
	Secrets []string
	// NixArgs are extra arguments for nix-instantiate (e.g. "--option",
	// "allow-import-from-derivation", "false").
	NixArgs []string
}

// CheckFiles is the part of Validate that needs no checkout: every .nix
// file of files (path -> content, as Apply returns them) passes
// `nix-instantiate --parse` from memory, every file a family writes reads
// back. For trees edited without a worktree (gitops writes blobs directly).
func CheckFiles(ctx context.Context, reg family.Registry, files map[string][]byte) error {
	for _, p := range ChangedFiles(files) {
		var err error
		if strings.HasSuffix(p, ".nix") {
			err = ParseNix(ctx, p, files[p])
		} else {
			err = reg.CheckFile(p, files[p])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// EvalChecks are the Nix expressions (over `p`, the tree's package set) that
// must evaluate after c, as its family says, once each.
func EvalChecks(reg family.Registry, c family.Change) []string {
	f := reg.Get(c.Family())
	if f == nil {
		return nil
	}
	return slices.Compact(f.EvalChecks(c))
}

// ParseNix runs `nix-instantiate --parse` on the file at path, or on src
// (read from stdin, named path in errors) when src is not nil — so a tree
// without a worktree can be checked too.
func ParseNix(ctx context.Context, path string, src []byte) error {
	args := []string{"--parse", path}
	dir := ""
	if src != nil {
		args = []string{"--parse", "-"}
		dir = filepath.Dir(path)
		if _, err := os.Stat(dir); err != nil {
			dir = ""
		}
	}
	// --parse evaluates nothing, so nothing of the file can read the
	// environment; it gets the allow-list all the same.
	if _, err := nixCommand(ctx, dir, src, childproc.Env(os.Environ(), nil, nil), "nix-instantiate", args...); err != nil {
		return fmt.Errorf("%s does not parse: %w", path, err)
	}
	return nil
}

// nixCommand runs a Nix command in env (childproc.Env), started as every
// child of kupdate's is (childproc.Run); its error carries the command and
// the tail of stderr.
func nixCommand(ctx context.Context, dir string, stdin []byte, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := childproc.Run(cmd); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%s not found: install Nix (Debian: apt-get install nix-bin): %w", name, err)
		}
		return nil, fmt.Errorf("%s %s: %w\n%s", name, quoteArgs(args), err, tail(stderr.String(), 30))
	}
	return stdout.Bytes(), nil
}

func quoteArgs(args []string) string {
	var out []string
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \n\t'\"") {
			a = strconv.Quote(a)
			if len(a) > 80 {
				a = a[:77] + "…\""
			}
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

func tail(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}
