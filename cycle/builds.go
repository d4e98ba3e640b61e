package cycle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kupdate/kupdate/atomicfile"
	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
)

// buildCache keeps build results per attribute, by what the attribute's
// derivation depends on among the files a branch writes, and which changes
// were validated, by the same measure. A kernel's derivation reads its own
// kernels-org.json entry (linux_testing also the newest branch's, which it
// becomes once that is as new; a hardened kernel also its patches.json
// entry), so one new point release in the rolling branch rebuilds that one
// kernel, not every kernel of the branch. The key of an attribute is:
//
//   - the build configuration: tiers and their commands, Nix's options and
//     builders;
//   - the attribute;
//   - of each file the branch writes, as its head has it: for
//     kernels-org.json and patches.json the entries the attribute reads, for
//     every other file (linux-kernels.nix, aliases.nix of an init or a
//     removal) its whole content.
//
// The base commit is not part of the key: a base that moved without
// touching the branch's files leaves the branch where it was built (gitops
// keeps it), and when it did touch them the files' content differs.
type buildCache struct {
	Attrs     map[string]buildEntry `json:"attrs"`     // attribute key -> its results
	Validated map[string]time.Time  `json:"validated"` // change key -> when it evaluated
	used      map[string]bool
}

type buildEntry struct {
	Attr   string         `json:"attr"`
	Built  time.Time      `json:"built"`
	Result []build.Result `json:"results"`
}

func newBuildCache() *buildCache {
	return &buildCache{Attrs: map[string]buildEntry{}, Validated: map[string]time.Time{}, used: map[string]bool{}}
}

func (c *Cycle) loadBuilds() (*buildCache, error) {
	bc := newBuildCache()
	path := filepath.Join(c.stateDir, buildsFile)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return bc, nil
	}
	if err != nil {
		return bc, err
	}
	if err := json.Unmarshal(b, bc); err != nil {
		return newBuildCache(), fmt.Errorf("%s: %w", path, err)
	}
	if bc.Attrs == nil {
		bc.Attrs = map[string]buildEntry{}
	}
	if bc.Validated == nil {
		bc.Validated = map[string]time.Time{}
	}
	return bc, nil
}

func (c *Cycle) saveBuilds(bc *buildCache) error {
	if c.o.DryRun {
		return nil
	}
	b, err := json.MarshalIndent(bc, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(c.stateDir, buildsFile), append(b, '\n'), 0o644)
}

// branchFiles is the content of every file the branch writes, as its head
// has it (nil: deleted).
func branchFiles(commits []gitops.Commit) map[string][]byte {
	out := map[string][]byte{}
	for _, cm := range commits {
		for p, b := range cm.Files {
			out[p] = b
		}
	}
	return out
}

// attrKey is the key of attr's build results; branch is the kernels-org.json
// key of the change that builds it.
func attrKey(cfg config.Build, reg family.Registry, files map[string][]byte, attr string, c family.Change) string {
	h := sha256.New()
	for _, t := range cfg.Tiers {
		fmt.Fprintf(h, "tier %s %q\n", t, cfg.Commands[t])
	}
	opts := make([]string, 0, len(cfg.Options))
	for k, v := range cfg.Options {
		opts = append(opts, k+"="+v)
	}
	slices.Sort(opts)
	fmt.Fprintf(h, "options %q builders %q\n", opts, cfg.Builders)
	fmt.Fprintf(h, "attr %q\n", attr)
	writeDeps(h, reg, files, attr, c)
	return hex.EncodeToString(h.Sum(nil))
}

// changeKey is the key of c's validation: what evaluating it reads of the
// branch's files.
func changeKey(reg family.Registry, files map[string][]byte, c family.Change) string {
	h := sha256.New()
	fmt.Fprintf(h, "validate %q\n", c.Title)
	writeDeps(h, reg, files, c.Attr, c)
	return hex.EncodeToString(h.Sum(nil))
}

// writeDeps writes to h what attr (built for change c) depends on among
// files: of a file a family keeps as entries, the entries it reads (see
// family.Family.Entries); of any other file its whole content.
func writeDeps(h hash.Hash, reg family.Registry, files map[string][]byte, attr string, c family.Change) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		data := files[p]
		keys, narrow := reg.Entries(p, data, c, attr)
		var entries map[string]json.RawMessage
		if !narrow || json.Unmarshal(data, &entries) != nil {
			// Not a file of entries (or not the JSON kupdate writes): the
			// whole file, to be safe.
			sum := sha256.Sum256(data)
			fmt.Fprintf(h, "file %q %x %t\n", p, sum, data == nil)
			continue
		}
		for _, k := range keys {
			e, ok := entries[k]
			fmt.Fprintf(h, "entry %q %q %t %q\n", p, k, ok, compactJSON(e))
		}
	}
}

// compactJSON is e without insignificant whitespace, so that reindenting
// the file does not count as a change.
func compactJSON(e json.RawMessage) string {
	var out []byte
	if b, err := json.Marshal(e); err == nil {
		out = b
	}
	return string(out)
}

// attr is the recorded results of the attribute key, if any; a hit counts as
// used.
func (bc *buildCache) attr(key string) ([]build.Result, bool) {
	if bc == nil {
		return nil, false
	}
	e, ok := bc.Attrs[key]
	if ok {
		bc.used[key] = true
	}
	return e.Result, ok
}

// putAttr keeps an attribute's finished build. A timed-out or cancelled
// tier is not kept: the next cycle tries again (it may have been a slow
// builder, not the kernel).
func (bc *buildCache) putAttr(key, attr string, rs []build.Result) {
	if len(rs) == 0 {
		return
	}
	for _, res := range rs {
		if res.Status == build.TimedOut || res.Status == build.Cancelled {
			return
		}
	}
	bc.Attrs[key] = buildEntry{Attr: attr, Built: time.Now().UTC(), Result: rs}
	bc.used[key] = true
}

// validated reports whether the change key evaluated before; a hit counts
// as used.
func (bc *buildCache) validated(key string) bool {
	_, ok := bc.Validated[key]
	if ok {
		bc.used[key] = true
	}
	return ok
}

func (bc *buildCache) putValidated(key string) {
	bc.Validated[key] = time.Now().UTC()
	bc.used[key] = true
}

// prune keeps only what the cycle used: the content of everything else has
// changed since.
func (bc *buildCache) prune() {
	for k := range bc.Attrs {
		if !bc.used[k] {
			delete(bc.Attrs, k)
		}
	}
	for k := range bc.Validated {
		if !bc.used[k] {
			delete(bc.Validated, k)
		}
	}
}
