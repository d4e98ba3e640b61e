package gittest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"time"
)

// Synth describes a synthetic repository shaped like nixpkgs: most files in
// pkgs/by-name/<xx>/<name>/package.nix (one directory each), the rest spread
// over a few hundred other directories, plus the kernel files kupdate edits.
type Synth struct {
	Files   int    // total files in the first commit (at least the kernel files)
	Commits int    // commits in the history, each touching a few files
	Branch  string // the branch written; "master" when empty
	Seed    uint64 // same seed, same repository (same hashes)
}

// KernelFiles are the paths kupdate edits, present in every synthetic repository.
func KernelFiles() []string {
	return []string{
		"pkgs/os-specific/linux/kernel/kernels-org.json",
		"pkgs/os-specific/linux/kernel/hardened/patches.json",
		"pkgs/top-level/aliases.nix",
		"pkgs/top-level/linux-kernels.nix",
	}
}

// Generate writes the repository described by s into a new bare repository
// at dir with `git fast-import`: one stream, no worktree, so 40,000 files take
// seconds. Commit times are fixed, so the result is reproducible.
func (s Synth) Generate(ctx context.Context, dir string) error {
	branch := s.Branch
	if branch == "" {
		branch = "master"
	}
	if out, err := exec.CommandContext(ctx, "git", "init", "-q", "--bare", "-b", branch, dir).CombinedOutput(); err != nil {
		return fmt.Errorf("git init %s: %v: %s", dir, err, out)
	}
	cmd := exec.CommandContext(ctx, "git", "fast-import", "--quiet", "--done")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting git fast-import in %s: %w", dir, err)
	}
	werr := s.stream(stdin, branch)
	cerr := stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import in %s: %v: %s", dir, err, stderr.String())
	}
	if werr != nil {
		return fmt.Errorf("writing fast-import stream for %s: %w", dir, werr)
	}
	return cerr
}

func (s Synth) paths() []string {
	paths := KernelFiles()
	n := s.Files - len(paths)
	byName := n * 5 / 8
	for i := range byName {
		name := fmt.Sprintf("%s%s-%d", syllable(i), syllable(i/7+3), i)
		paths = append(paths, fmt.Sprintf("pkgs/by-name/%s/%s/package.nix", name[:2], name))
	}
	areas := []string{"development/python-modules", "development/libraries", "applications/misc",
		"tools/misc", "servers", "os-specific/linux", "nixos/modules/services", "nixos/tests", "lib", "doc"}
	for i := range n - byName {
		area := areas[i%len(areas)]
		paths = append(paths, fmt.Sprintf("pkgs/%s/%s%d/file%d.nix", area, syllable(i/30), i/30, i%30))
	}
	return paths
}

var syllables = []string{"ka", "lo", "mi", "ne", "pu", "ra", "si", "to", "vu", "xe", "ba", "de", "fi", "go", "hu", "ja"}

func syllable(i int) string {
	return syllables[i%len(syllables)] + syllables[(i/len(syllables))%len(syllables)]
}

var words = strings.Fields(`let in inherit callPackage stdenv mkDerivation fetchFromGitHub pname version src
hash sha256 meta description license maintainers platforms buildInputs nativeBuildInputs rec owner repo
rev lib optional optionals enableFeature with pkgs python3Packages buildPythonPackage pytestCheckHook
doCheck passthru tests updateScript homepage changelog mainProgram = ; { } [ ] ( ) "1.2.3" true false`)

// content is a file of a few hundred bytes to a few KiB of Nix-like text:
// compressible like source code, different in every file.
func content(r *rand.Rand, id int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# file %d\n{ lib, stdenv }:\n", id)
	lines := 10 + r.IntN(60)
	for range lines {
		for n := 3 + r.IntN(8); n > 0; n-- {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%x\n", r.Uint32())
	}
	return []byte(b.String())
}

func (s Synth) stream(w io.Writer, branch string) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	r := rand.New(rand.NewPCG(s.Seed, 0x6b757064))
	paths := s.paths()
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	commit := func(i int, msg string) {
		fmt.Fprintf(bw, "commit refs/heads/%s\ncommitter Synth <synth@example.org> %d +0000\ndata %d\n%s\n",
			branch, when+int64(i)*3600, len(msg), msg)
		if i == 0 {
			bw.WriteString("deleteall\n")
		}
	}
	file := func(path string, data []byte) {
		fmt.Fprintf(bw, "M 100644 inline %s\ndata %d\n", path, len(data))
		bw.Write(data)
		bw.WriteByte('\n')
	}
	commit(0, "initial import")
	for i, p := range paths {
		file(p, content(r, i))
	}
	for c := 1; c < max(s.Commits, 1); c++ {
		commit(c, fmt.Sprintf("synthetic change %d", c))
		for n := 1 + r.IntN(4); n > 0; n-- {
			i := r.IntN(len(paths))
			file(paths[i], content(r, i+c*len(paths)))
		}
	}
	bw.WriteString("done\n")
	return bw.Flush()
}

// Commit appends one commit to branch of the bare repository at dir, setting
// each path of files to its content, with fast-import; it returns nothing but
// an error, so tests read the new head with the git CLI.
func Commit(ctx context.Context, dir, branch, msg string, when time.Time, files map[string][]byte) error {
	cmd := exec.CommandContext(ctx, "git", "fast-import", "--quiet", "--done")
	cmd.Dir = dir
	var in strings.Builder
	fmt.Fprintf(&in, "commit refs/heads/%s\ncommitter Synth <synth@example.org> %d +0000\ndata %d\n%s\nfrom refs/heads/%s^0\n",
		branch, when.Unix(), len(msg), msg, branch)
	for p, data := range files {
		fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", p, len(data), data)
	}
	in.WriteString("done\n")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git fast-import in %s: %v: %s", dir, err, out)
	}
	return nil
}
