package gitops

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/kupdate/kupdate/gitops/gittest"
)

// BenchmarkOpenChecked measures what the damage check adds to every open of
// the managed clone, on a clone of a nixpkgs-sized repository (40,000 files)
// after 8 fetches (9 packs, 9 shallow entries): the clone opened with
// openBare or with openChecked (the file checks, opening, the ref checks),
// then what every cycle reads first either way: the base's commit (syncBase,
// when upstream did not move) and kernels-org.json at the base (the
// planner). Run:
//
//	go test ./gitops -run '^$' -bench BenchmarkOpenChecked -benchtime 100x -count 3
func BenchmarkOpenChecked(b *testing.B) {
	ctx := context.Background()
	root := b.TempDir()
	upstream := filepath.Join(root, "upstream.git")
	const branch = "staging-nixos"
	if err := (gittest.Synth{Files: 40000, Commits: 30, Branch: branch, Seed: 1}).Generate(ctx, upstream); err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(root, "nixpkgs.git")
	opts := Options{Identity: Identity{Name: "kupdate", Email: "kupdate@example.org"}}
	rem := Remote{URL: "file://" + upstream}
	var tip plumbing.Hash
	for i := range 9 {
		if i > 0 {
			when := time.Date(2026, 11, 21, i, 0, 0, 0, time.UTC)
			if err := gittest.Commit(ctx, upstream, branch, "moves", when, map[string][]byte{"moved": {byte(i)}}); err != nil {
				b.Fatal(err)
			}
		}
		r, err := OpenManaged(ctx, dir, rem, branch, opts)
		if err != nil {
			b.Fatal(err)
		}
		tip = r.Base()
		r.Close()
	}
	opts, _ = opts.fill()
	open := map[string]func() (*Repo, error){
		"openBare": func() (*Repo, error) {
			repo, err := openBare(dir)
			if err != nil {
				return nil, err
			}
			return newRepo(dir, repo, opts)
		},
		"openChecked": func() (*Repo, error) { return openChecked(dir, branch, opts) },
	}
	for _, name := range []string{"openBare", "openChecked"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				r, err := open[name]()
				if err != nil {
					b.Fatal(err)
				}
				if !r.hasCommit(tip) {
					b.Fatalf("%s: no %s", name, tip)
				}
				if _, err := r.ReadFile(ctx, tip, gittest.KernelFiles()[0]); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}
