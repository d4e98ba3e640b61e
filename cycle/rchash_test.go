package cycle_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/family/familytest"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/updater"
)

// healRC is the rc of these tests: only they evaluate it, and always first
// with a wrong hash, which no store path has.
const healRC = "6.19-rc10"

// wrongHash is well-formed, and the NAR hash of no snapshot.
const wrongHash = "sha256:0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a"

// rcRecord is the part of a cache record these tests read.
type rcRecord struct {
	Version   string `json:"version"`
	URL       string `json:"url"`
	Hash      string `json:"hash"`
	ETag      string `json:"etag"`
	Rechecked bool   `json:"rechecked"`
}

// poisonRC writes a well-formed wrong hash for healRC into the fixture's
// rc hash cache, as a record of the right URL: nothing but Nix can tell it
// is wrong. It returns the file.
func (f *fixture) poisonRC(t *testing.T) string {
	t.Helper()
	file := filepath.Join(f.cache, "kernelorg", "rc-hashes", "linux-"+healRC+".nar-sha256")
	must(t, os.MkdirAll(filepath.Dir(file), 0o755))
	data, err := json.Marshal(rcRecord{Version: healRC, URL: f.ko.URL + kernelorgtest.TarballPath(healRC), Hash: wrongHash})
	must(t, err)
	must(t, os.WriteFile(file, data, 0o644))
	return file
}

// checkHealed checks that the cache file holds the right hash now, from a
// recheck, and that the log warned naming it.
func (f *fixture) checkHealed(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	must(t, err)
	var r rcRecord
	must(t, json.Unmarshal(b, &r))
	if want := (rcRecord{Version: healRC, URL: f.ko.URL + kernelorgtest.TarballPath(healRC), Hash: kernelorgtest.NARHash(healRC), ETag: r.ETag, Rechecked: true}); r != want || r.ETag == "" {
		t.Errorf("the cache file after the cycle:\n%s", b)
	}
	warn := `level=WARN msg="the rc hash was wrong: Nix disagreed with it, and a fresh download of the snapshot hashes to another; the cache file is rewritten" version=` + healRC + " file=" + file + " wrong=" + wrongHash + " hash=" + kernelorgtest.NARHash(healRC)
	if !strings.Contains(f.logs.String(), warn) {
		t.Errorf("the log lacks\n%s\n%s", warn, f.logs)
	}
}

// A well-formed wrong rc hash in kupdate's cache used to make linux_testing
// fail evaluation every cycle until a person deleted the file. Nix refuses
// it (the failure, shown first), and the cycle that meets it computes the
// hash again, rewrites the cache file, warns naming it, and proposes the
// change with the right hash; the next cycle has nothing to do.
func TestWrongRCHashHealedInOneCycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, specs(kernelorgtest.Spec{Version: healRC})...)
	file := f.poisonRC(t)
	ctx := context.Background()

	// The failure: kupdate plans the cached hash, and Nix refuses it.
	dir := f.checkout(t)
	pl, err := cycle.PlanUpdate(ctx, f.cfg, dir, f.updateOptions(""))
	must(t, err)
	bump := pl.Changes[0]
	if bump.Title != "linux_testing: 6.19-rc4 -> "+healRC || bump.Hash != wrongHash {
		t.Fatalf("planned %+v; want the testing bump with the cached hash", bump)
	}
	reg := familytest.Registry()
	tree, err := reg.LoadFS(os.DirFS(dir))
	must(t, err)
	files, _, err := updater.Apply(reg, tree, bump)
	must(t, err)
	must(t, updater.WriteFiles(dir, files))
	err = updater.Validate(ctx, reg, dir, bump, updater.ValidateOptions{Env: f.options().BuildEnv})
	if want := "hash mismatch in file downloaded from '" + f.ko.URL + kernelorgtest.TarballPath(healRC) + "'"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Nix on the cached hash: %v\nwant %s", err, want)
	}

	// One cycle heals it.
	rep := f.run()
	var outcomes []string
	for _, ch := range rep.Changes {
		outcomes = append(outcomes, ch.Change.Title+": "+string(ch.Outcome())+" "+ch.Change.Hash)
	}
	want := []string{
		"linux_testing: 6.19-rc4 -> " + healRC + ": opened " + kernelorgtest.NARHash(healRC),
		"linux_6_18: 6.18.5 -> 6.18.6: opened " + kernelorgtest.FlatHash("6.18.6"),
		"linux_6_12: 6.12.64 -> 6.12.65: opened " + kernelorgtest.FlatHash("6.12.65"),
	}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if got := gitOut(t, f.gh.RepoDir("kupdate-bot", "nixpkgs"), "show", rolling+":"+kernelsOrg); !strings.Contains(got, `"version": "`+healRC+`",`+"\n        \"hash\": \""+kernelorgtest.NARHash(healRC)+`"`) {
		t.Errorf("%s on %s:\n%s", kernelsOrg, rolling, got)
	}
	if prs := f.gh.PRs("NixOS", "nixpkgs"); len(prs) != 1 || !strings.Contains(prs[0].Body, "- **linux_testing: 6.19-rc4 -> "+healRC+"**\n") {
		t.Errorf("PRs: %+v", prs)
	}
	f.checkHealed(t, file)
	if !strings.Contains(f.logs.String(), `msg="cycle: the rc hash was wrong; writing the branch again with the recomputed one" branch=`+rolling+` title="linux_testing: 6.19-rc4 -> `+healRC+`" hash=`+kernelorgtest.NARHash(healRC)+" cycle=") {
		t.Errorf("the cycle's log does not say it wrote the branch again:\n%s", f.logs)
	}

	// The next cycle uses the healed record: no snapshot download, no
	// evaluation, no write.
	before := f.ko.Requests(kernelorgtest.TarballPath(healRC))
	f.gh.ResetRequests()
	f.run()
	if n := f.ko.Requests(kernelorgtest.TarballPath(healRC)) - before; n != 0 {
		t.Errorf("the next cycle requested the snapshot %d times", n)
	}
	if w := f.writes(); w != nil {
		t.Errorf("GitHub writes on the next cycle: %v", w)
	}
}

// kupdate update heals the same way: the change is committed with the
// right hash in the same run.
func TestUpdateHealsWrongRCHash(t *testing.T) {
	t.Parallel()
	f := newFixture(t, specs(kernelorgtest.Spec{Version: healRC})...)
	file := f.poisonRC(t)
	dir := f.checkout(t)
	rep, err := cycle.Update(context.Background(), f.cfg, dir, f.updateOptions(""))
	if err != nil {
		t.Fatalf("Update: %v\n%s", err, f.logs)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("Update failed: %v\n%s", err, f.logs)
	}
	want := []string{"linux_testing: 6.19-rc4 -> " + healRC + ": committed", "linux_6_18: 6.18.5 -> 6.18.6: committed", "linux_6_12: 6.12.64 -> 6.12.65: committed"}
	if diff := cmp.Diff(want, outcomes(rep)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if got := gitOut(t, dir, "show", "HEAD:"+kernelsOrg); !strings.Contains(got, `"hash": "`+kernelorgtest.NARHash(healRC)+`"`) || strings.Contains(got, wrongHash) {
		t.Errorf("%s at HEAD:\n%s", kernelsOrg, got)
	}
	if got := gitOut(t, dir, "status", "--porcelain", "--untracked-files=all"); got != "" {
		t.Errorf("the checkout is not clean:\n%s", got)
	}
	f.checkHealed(t, file)
}
