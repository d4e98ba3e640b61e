package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kupdate/kupdate/check"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/familytest"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

const (
	checkToken = "ghp_check_test_token"
	kernelsOrg = "pkgs/os-specific/linux/kernel/kernels-org.json"
)

// checkSetup is kernel.org and GitHub simulators, and a config.toml that
// points kupdate at both. GitHub has NixOS/nixpkgs (the sample tree on
// staging-nixos) and a contributor's fork.
type checkSetup struct {
	t        *testing.T
	ko       *kernelorgtest.Server
	gh       *githubtest.Server
	cfg      string // the config the tests use: tokenCfg, or appCfg
	tokenCfg string // [github] with a token: commit statuses
	appCfg   string // [github] as a GitHub App: check runs
	cacheDir string
	appKey   string
}

func newCheckSetup(t *testing.T, app bool) *checkSetup {
	t.Helper()
	ko, err := kernelorgtest.New(kernelorgtest.Spec{Version: "6.12.65", Moniker: "longterm"}, kernelorgtest.Spec{Version: "6.12.63", Moniker: "longterm"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ko.Close)
	if err := ko.SetReleases(kernelorgtest.Spec{Version: "6.19"}, kernelorgtest.Spec{Version: "6.18.7"},
		kernelorgtest.Spec{Version: "6.17.13", EOL: true}, kernelorgtest.Spec{Version: "6.12.66", Moniker: "longterm"}); err != nil {
		t.Fatal(err)
	}
	gh, err := githubtest.New(githubtest.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(gh.CreateRepo("NixOS", "nixpkgs", "master"))
	files := map[string]string{}
	must(fs.WalkDir(os.DirFS("../../testdata/nixpkgs"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join("../../testdata/nixpkgs", p))
		files[p] = string(b)
		return err
	}))
	_, err = gh.Commit("NixOS", "nixpkgs", "master", files, "sample tree")
	must(err)
	must(gh.CreateBranch("NixOS", "nixpkgs", "staging-nixos", "master"))
	must(gh.ForkRepo("NixOS", "nixpkgs", "contributor"))
	gh.AddToken(checkToken, "kupdate-bot")

	dir := t.TempDir()
	s := &checkSetup{t: t, ko: ko, gh: gh, cacheDir: filepath.Join(dir, "cache")}
	keyring := filepath.Join(dir, "keyring.asc")
	must(os.WriteFile(keyring, ko.Keyring(), 0o644))
	github := fmt.Sprintf("api_url = %q\ntoken_env = \"KUPDATE_TEST_TOKEN\"\n", gh.APIURL())
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	s.appKey = filepath.Join(dir, "app.pem")
	must(os.WriteFile(s.appKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	gh.AddApp(42, 7, "kupdate", &key.PublicKey)
	for _, c := range []struct {
		path, github string
	}{
		{filepath.Join(dir, "config.toml"), github},
		{filepath.Join(dir, "app.toml"), github + fmt.Sprintf("app_id = 42\ninstallation_id = 7\nprivate_key_file = %q\n", s.appKey)},
	} {
		cfg := fmt.Sprintf("[kernelorg]\nurl = %q\ngit_url = %q\nkeyring = %q\nfingerprint = %q\ntimeout = \"30s\"\n\n[nixpkgs]\ncache_dir = %q\n\n[github]\n%s",
			ko.URL, ko.URL, keyring, ko.Fingerprint(), s.cacheDir, c.github)
		must(os.WriteFile(c.path, []byte(cfg), 0o644))
	}
	s.tokenCfg, s.appCfg = filepath.Join(dir, "config.toml"), filepath.Join(dir, "app.toml")
	s.cfg = s.tokenCfg
	if app {
		s.cfg = s.appCfg
	}
	return s
}

func (s *checkSetup) kupdate(args ...string) (code int, stdout, stderr string) {
	s.t.Helper()
	return s.kupdateWith(s.cfg, args...)
}

func (s *checkSetup) kupdateWith(cfg string, args ...string) (code int, stdout, stderr string) {
	s.t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if k == "KUPDATE_TEST_TOKEN" {
			return checkToken
		}
		return ""
	}
	code = run(context.Background(), append([]string{"--config", cfg}, args...), &out, &errb, getenv)
	return code, out.String(), errb.String()
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Contributor", "GIT_AUTHOR_EMAIL=c@example.org", "GIT_COMMITTER_NAME=Contributor", "GIT_COMMITTER_EMAIL=c@example.org",
		"GIT_AUTHOR_DATE=2026-01-10T12:00:00Z", "GIT_COMMITTER_DATE=2026-01-10T12:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// contribute clones the fork, commits a bump of 6.12 to 6.12.66 with hash
// (what kupdate would write, but for the hash) and pushes it as branch.
func (s *checkSetup) contribute(branch, title, hash string) (work, head string) {
	t := s.t
	t.Helper()
	work = filepath.Join(t.TempDir(), "work")
	gitIn(t, filepath.Dir(work), "clone", "--quiet", "--branch", "staging-nixos", s.gh.GitURL("contributor", "nixpkgs"), work)
	files := map[string][]byte{}
	for _, p := range []string{kernelfiles.KernelsJSONPath, kernelfiles.LinuxKernelsPath, kernelfiles.AliasesPath} {
		b, err := os.ReadFile(filepath.Join(work, p))
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
	}
	c := vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: "6.12", From: "6.12.64", To: "6.12.66", Hash: hash, LTS: true})
	c.Title = title
	changed, err := familytest.Apply(files, c, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(files, changed)
	if err := os.WriteFile(filepath.Join(work, kernelsOrg), files[kernelsOrg], 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, work, "checkout", "--quiet", "-b", branch)
	gitIn(t, work, "commit", "--quiet", "-am", title)
	gitIn(t, work, "push", "--quiet", "origin", branch)
	return work, gitIn(t, work, "rev-parse", "HEAD")
}

// openPR opens a PR from the fork's branch against staging-nixos, through
// the REST API as a contributor's browser would.
func (s *checkSetup) openPR(branch string) int {
	t := s.t
	t.Helper()
	body := fmt.Sprintf(`{"title": "Kernel updates for 2026-01-10", "head": "contributor:%s", "base": "staging-nixos"}`, branch)
	req, _ := http.NewRequest(http.MethodPost, s.gh.APIURL()+"repos/NixOS/nixpkgs/pulls", strings.NewReader(body))
	req.Header.Set("Authorization", "token "+checkToken)
	resp, err := s.gh.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var pr struct{ Number int }
	if err := json.NewDecoder(resp.Body).Decode(&pr); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("opening the PR: %s, %v", resp.Status, err)
	}
	s.gh.ResetRequests()
	return pr.Number
}

func TestCheckLocal(t *testing.T) {
	t.Parallel()
	s := newCheckSetup(t, false)
	work, _ := s.contribute("bump", "linux_6_12: 6.12.64 -> 6.12.66", kernelorgtest.FlatHash("6.12.66"))

	code, stdout, stderr := s.kupdate("check", "--nixpkgs", work, "--base", "origin/staging-nixos", "--head", "bump")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s%s", code, stdout, stderr)
	}
	base := gitIn(t, work, "rev-parse", "origin/staging-nixos")
	head := gitIn(t, work, "rev-parse", "bump")
	want := fmt.Sprintf("kupdate check %s..%s (1 commit): pass: 1 kernel change verified against kernel.org\nok %s:27: \"6.12\" 6.12.64 -> 6.12.66\n", base[:12], head[:12], kernelsOrg)
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}

	// A wrong hash: exit 3 and the finding, with file and line.
	gitIn(t, work, "checkout", "--quiet", "-b", "wrong", "origin/staging-nixos")
	b, _ := os.ReadFile(filepath.Join(work, kernelsOrg))
	b = bytes.Replace(b, []byte(`"6.12.64"`), []byte(`"6.12.66"`), 1)
	if err := os.WriteFile(filepath.Join(work, kernelsOrg), b, 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, work, "commit", "--quiet", "-am", "linux_6_12: 6.12.64 -> 6.12.66")
	code, stdout, stderr = s.kupdate("check", "--nixpkgs", work, "--base", "origin/staging-nixos", "--head", "wrong", "--json")
	if code != exitFindings {
		t.Fatalf("exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	var rep check.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	wantF := []check.Finding{{File: kernelsOrg, Line: 27, Rule: check.RuleHash, Message: `"6.12" hash sha256:18j9ivimvlm1afzfiw03n3r35qv91nbjhh2gi3z8w5416sir9bfi does not match kernel.org's signed checksum for linux-6.12.66.tar.xz (` + kernelorgtest.FlatHash("6.12.66") + `); run kupdate update or fix the hash`}}
	if d := cmp.Diff(wantF, rep.Findings); d != "" || rep.Conclusion != check.Fail {
		t.Errorf("conclusion %s, findings (-want +got):\n%s", rep.Conclusion, d)
	}

	// kernel.org fails (a 404 is not retried, so the test does not wait
	// through the client's backoff): exit 1, said so, never a pass.
	s.ko.SetFault("/releases.json", kernelorgtest.Fault{Status: 404})
	code, stdout, stderr = s.kupdate("check", "--nixpkgs", work, "--base", "origin/staging-nixos", "--head", "bump")
	if code != exitFailure || !strings.Contains(stdout, ": incomplete: could not verify 1 item against kernel.org\n") ||
		!strings.Contains(stderr, "kupdate check: could not verify everything against kernel.org (1 items above): the check did not pass; run it again\n") {
		t.Errorf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	for _, args := range [][]string{
		{"check"},
		{"check", "--pr", "1", "--base", "a", "--head", "b"},
		{"check", "--base", "a"},
	} {
		if code, _, _ := s.kupdate(args...); code != exitUsage {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, _, stderr := s.kupdate("check", "--nixpkgs", work, "--base", "nosuch", "--head", "bump"); code != exitFailure ||
		!strings.Contains(stderr, `kupdate check: the check could not run: revision "nosuch" is not a commit`) {
		t.Errorf("unknown revision: exit %d, stderr %s", code, stderr)
	}
}

func TestCheckPRReportsStatus(t *testing.T) {
	t.Parallel()
	s := newCheckSetup(t, false)
	_, head := s.contribute("bump", "linux_6_12: 6.12.64 -> 6.12.66", kernelorgtest.FlatHash("6.12.65"))
	n := s.openPR("bump")

	code, stdout, stderr := s.kupdate("check", "--pr", fmt.Sprint(n), "--report")
	if code != exitFindings {
		t.Fatalf("exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, kernelsOrg+`:27: "6.12" hash `+kernelorgtest.FlatHash("6.12.65")+` does not match kernel.org's signed checksum for linux-6.12.66.tar.xz`) {
		t.Errorf("stdout lacks the finding:\n%s", stdout)
	}
	if want := "reported: commit status kupdate/check = failure on " + head + " (1 finding)\n"; !strings.HasSuffix(stdout, want) {
		t.Errorf("stdout does not end with %q:\n%s", want, stdout)
	}
	want := []githubtest.Status{{Context: "kupdate/check", State: "failure", Description: "1 finding", Creator: "kupdate-bot"}}
	if d := cmp.Diff(want, s.gh.Statuses("NixOS", "nixpkgs", head)); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	var reqs []string
	for _, r := range s.gh.Requests() {
		reqs = append(reqs, fmt.Sprintf("%s %d", r, r.Status))
	}
	wantReqs := []string{
		fmt.Sprintf("GET /repos/NixOS/nixpkgs/pulls/%d 200", n),
		"GET /repos/NixOS/nixpkgs/compare/staging-nixos...contributor%3Abump?per_page=1 200",
		"GET /repos/NixOS/nixpkgs/commits/" + head + "/status?per_page=100 200",
		"POST /repos/NixOS/nixpkgs/statuses/" + head + " 201",
	}
	if d := cmp.Diff(wantReqs, reqs); d != "" {
		t.Errorf("API requests (-want +got):\n%s", d)
	}
	// The PR was fetched shallow into kupdate's own cache repository.
	cache := filepath.Join(s.cacheDir, "check.git")
	if got := gitIn(t, cache, "rev-parse", check.PRRef(n)); got != head {
		t.Errorf("cache has %s for the PR, want %s", got, head)
	}
	if _, err := os.Stat(filepath.Join(cache, "shallow")); err != nil {
		t.Errorf("the cache repository is not shallow: %v", err)
	}

	// The contributor fixes the hash: the same PR now passes.
	work := filepath.Join(t.TempDir(), "fix")
	gitIn(t, filepath.Dir(work), "clone", "--quiet", "--branch", "bump", s.gh.GitURL("contributor", "nixpkgs"), work)
	b, _ := os.ReadFile(filepath.Join(work, kernelsOrg))
	b = bytes.Replace(b, []byte(kernelorgtest.FlatHash("6.12.65")), []byte(kernelorgtest.FlatHash("6.12.66")), 1)
	if err := os.WriteFile(filepath.Join(work, kernelsOrg), b, 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, work, "commit", "--quiet", "--amend", "-a", "--no-edit")
	gitIn(t, work, "push", "--quiet", "--force", "origin", "bump")
	fixed := gitIn(t, work, "rev-parse", "HEAD")
	code, stdout, stderr = s.kupdate("check", "--pr", fmt.Sprint(n), "--report")
	if code != exitOK {
		t.Fatalf("after the fix: exit %d\n%s%s", code, stdout, stderr)
	}
	if want := "reported: commit status kupdate/check = success on " + fixed + " (1 kernel change verified against kernel.org)\n"; !strings.HasSuffix(stdout, want) {
		t.Errorf("after the fix: stdout does not end with %q:\n%s", want, stdout)
	}
	want = []githubtest.Status{{Context: "kupdate/check", State: "success", Description: "1 kernel change verified against kernel.org", Creator: "kupdate-bot"}}
	if d := cmp.Diff(want, s.gh.Statuses("NixOS", "nixpkgs", fixed)); d != "" {
		t.Errorf("statuses after the fix (-want +got):\n%s", d)
	}

	// With a maintainer's checkout, the PR is fetched into it in full: the
	// checkout is never made shallow.
	checkout := filepath.Join(t.TempDir(), "nixpkgs")
	gitIn(t, filepath.Dir(checkout), "clone", "--quiet", s.gh.GitURL("NixOS", "nixpkgs"), checkout)
	if code, stdout, stderr := s.kupdate("check", "--pr", fmt.Sprint(n), "--nixpkgs", checkout); code != exitOK {
		t.Errorf("--nixpkgs checkout: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := gitIn(t, checkout, "rev-parse", check.PRRef(n)); got != fixed {
		t.Errorf("checkout has %s for the PR, want %s", got, fixed)
	}
	if _, err := os.Stat(filepath.Join(checkout, ".git", "shallow")); !os.IsNotExist(err) {
		t.Errorf("the checkout became shallow: %v", err)
	}

	// kernel.org fails: the status says error, not success.
	s.ko.SetFault("/releases.json", kernelorgtest.Fault{Status: 404})
	code, stdout, _ = s.kupdate("check", "--pr", fmt.Sprint(n), "--report")
	if code != exitFailure {
		t.Errorf("kernel.org failing: exit %d, want 1", code)
	}
	if want := "reported: commit status kupdate/check = error on " + fixed + " (could not verify 1 item against kernel.org)\n"; !strings.HasSuffix(stdout, want) {
		t.Errorf("kernel.org failing: stdout does not end with %q:\n%s", want, stdout)
	}
	st := s.gh.Statuses("NixOS", "nixpkgs", fixed)
	if got := st[len(st)-1]; got.State != "error" || got.Description != "could not verify 1 item against kernel.org" {
		t.Errorf("status with kernel.org failing: %+v", got)
	}
}

func TestCheckPRReportsCheckRun(t *testing.T) {
	t.Parallel()
	s := newCheckSetup(t, true)
	_, head := s.contribute("bump", "Kernel updates for 2026-01-10", kernelorgtest.FlatHash("6.12.66"))
	n := s.openPR("bump")

	code, stdout, stderr := s.kupdate("check", "--pr", fmt.Sprint(n), "--report")
	if code != exitFindings {
		t.Fatalf("exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	runs := s.gh.CheckRuns("NixOS", "nixpkgs", head)
	if len(runs) != 1 {
		t.Fatalf("check runs: %+v", runs)
	}
	r := runs[0]
	wantSummary := fmt.Sprintf("**1 finding** — kupdate check of %s..%s (1 commit)\n\n### Findings\n\n- `%s:27`: commit %s \"Kernel updates for 2026-01-10\": \"Kernel updates for ...\" is a pull request title; each commit is titled after the one branch it changes: \"linux_6_12: 6.12.64 -> 6.12.66\"\n\n### Verified against kernel.org\n\n| branch | change | hash |\n|---|---|---|\n| 6.12 | 6.12.64 -> 6.12.66 | `%s` |\n",
		s.gh.BranchSHA("NixOS", "nixpkgs", "staging-nixos")[:12], head[:12], kernelsOrg, head[:12], kernelorgtest.FlatHash("6.12.66"))
	if r.Name != "kupdate/check" || r.Status != "completed" || r.Conclusion != "failure" || r.Title != "1 finding" || r.App != "kupdate[bot]" {
		t.Errorf("check run: %+v", r)
	}
	if d := cmp.Diff(wantSummary, r.Summary); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}
	if want := "reported: check run kupdate/check = failure on " + head + " (1 finding)\n"; !strings.HasSuffix(stdout, want) {
		t.Errorf("stdout does not end with %q:\n%s", want, stdout)
	}
	if got := s.gh.Statuses("NixOS", "nixpkgs", head); got != nil {
		t.Errorf("an App reports a check run, not a status: %+v", got)
	}
	// Running again with nothing new writes nothing.
	s.gh.ResetRequests()
	code, stdout, _ = s.kupdate("check", "--pr", fmt.Sprint(n), "--report")
	if code != exitFindings {
		t.Errorf("second run: exit %d", code)
	}
	if want := "reported: check run kupdate/check = failure on " + head + " (1 finding; already there, nothing written)\n"; !strings.HasSuffix(stdout, want) {
		t.Errorf("second run: stdout does not end with %q:\n%s", want, stdout)
	}
	for _, req := range s.gh.Requests() {
		if req.Method != http.MethodGet && !strings.Contains(req.Path, "access_tokens") {
			t.Errorf("second run wrote %s", req)
		}
	}
}

// prEdit is one commit of a test pull request: edit changes the kernel
// files, and the commit is titled title.
type prEdit struct {
	title string
	edit  func(t *testing.T, files map[string][]byte)
}

// change is an edit that makes c with the updater: what kupdate writes.
func change(c family.Change) func(*testing.T, map[string][]byte) {
	return func(t *testing.T, files map[string][]byte) {
		t.Helper()
		changed, err := familytest.Apply(files, c, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(files, changed)
	}
}

// then chains edits.
func then(edits ...func(*testing.T, map[string][]byte)) func(*testing.T, map[string][]byte) {
	return func(t *testing.T, files map[string][]byte) {
		for _, e := range edits {
			e(t, files)
		}
	}
}

// swap is an edit that replaces old with new in a file, exactly once.
func swap(path, old, new string) func(*testing.T, map[string][]byte) {
	return func(t *testing.T, files map[string][]byte) {
		t.Helper()
		if n := bytes.Count(files[path], []byte(old)); n != 1 {
			t.Fatalf("%s: %q occurs %d times, want once", path, old, n)
		}
		files[path] = bytes.Replace(files[path], []byte(old), []byte(new), 1)
	}
}

// openPRWith pushes a branch of commits to the fork and opens its PR.
func (s *checkSetup) openPRWith(branch string, edits ...prEdit) (number int, head string) {
	t := s.t
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	gitIn(t, filepath.Dir(work), "clone", "--quiet", "--branch", "staging-nixos", s.gh.GitURL("contributor", "nixpkgs"), work)
	gitIn(t, work, "checkout", "--quiet", "-b", branch)
	paths := []string{kernelfiles.KernelsJSONPath, kernelfiles.LinuxKernelsPath, kernelfiles.AliasesPath}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(work, p))
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
	}
	for _, e := range edits {
		e.edit(t, files)
		for _, p := range paths {
			if err := os.WriteFile(filepath.Join(work, p), files[p], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		gitIn(t, work, "commit", "--quiet", "-am", e.title)
	}
	gitIn(t, work, "push", "--quiet", "origin", branch)
	return s.openPR(branch), gitIn(t, work, "rev-parse", "HEAD")
}

// TestCheckPRCases: pull requests on the GitHub simulator, checked with
// --report as a token (commit status) and as a GitHub App (check run).
func TestCheckPRCases(t *testing.T) {
	t.Parallel()
	s := newCheckSetup(t, false)
	fh := kernelorgtest.FlatHash
	const kj = kernelsOrg
	bump := func(to, hash string) family.Change {
		return vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: "6.12", From: "6.12.64", To: to, Hash: hash, LTS: true})
	}
	init619 := vanilla.Made(family.Change{Kind: vanilla.Init, Branch: "6.19", To: "6.19", Hash: fh("6.19")})
	sampleAliases, err := os.ReadFile("../../testdata/nixpkgs/" + kernelfiles.AliasesPath)
	if err != nil {
		t.Fatal(err)
	}

	for i, tc := range []struct {
		name  string
		edits []prEdit
		want  []string // findings as printed; "%s" is the head commit, abbreviated
	}{
		{
			name:  "correct bump",
			edits: []prEdit{{"linux_6_12: 6.12.64 -> 6.12.66", change(bump("6.12.66", fh("6.12.66")))}},
		},
		{
			name:  "wrong hash",
			edits: []prEdit{{"linux_6_12: 6.12.64 -> 6.12.66", change(bump("6.12.66", fh("6.12.65")))}},
			want:  []string{kj + `:27: "6.12" hash ` + fh("6.12.65") + ` does not match kernel.org's signed checksum for linux-6.12.66.tar.xz (` + fh("6.12.66") + `); run kupdate update or fix the hash`},
		},
		{
			name:  "typo in a version",
			edits: []prEdit{{"linux_6_12: 6.12.64 -> 6.12.66", then(change(bump("6.12.66", fh("6.12.66"))), swap(kj, `"6.12.66"`, `"6.12.606"`))}},
			want: []string{
				kj + `:27: "6.12" 6.12.606 is not a kernel.org release: releases.json does not list it and kernel.org's signed checksum list has no linux-6.12.606.tar.xz; fix the version`,
				kj + `:27: commit %s "linux_6_12: 6.12.64 -> 6.12.66": the title does not say what the commit does; it changes "6.12" from 6.12.64 to 6.12.606: title it "linux_6_12: 6.12.64 -> 6.12.606"`,
			},
		},
		{
			name:  "downgrade",
			edits: []prEdit{{"linux_6_12: 6.12.64 -> 6.12.63", change(bump("6.12.63", fh("6.12.63")))}},
			want:  []string{kj + `:27: "6.12" goes backwards: 6.12.63 is older than 6.12.64 at the base; a kernel update never downgrades (a typo in the version?)`},
		},
		{
			name: "re-added EOL branch",
			edits: []prEdit{{"linux_6_17: init at 6.17.13", swap(kj, "        \"lts\": false\n    }\n}\n",
				"        \"lts\": false\n    },\n    \"6.17\": {\n        \"version\": \"6.17.13\",\n        \"hash\": \""+fh("6.17.13")+"\",\n        \"lts\": false\n    }\n}\n")}},
			want: []string{kj + `:37: "6.17" was removed from this tree before (its throw is at pkgs/top-level/linux-kernels.nix:165); kupdate never adds a removed branch back (nixpkgs#258569): drop the entry`},
		},
		{
			name: "init missing its aliases",
			edits: []prEdit{{"linux_6_19: init at 6.19", then(change(init619), func(t *testing.T, files map[string][]byte) {
				files[kernelfiles.AliasesPath] = sampleAliases
			})}},
			want: []string{kj + ":37: \"6.19\" is added without everything its init needs: pkgs/top-level/aliases.nix lacks `linux_6_19 = linuxKernel.kernels.linux_6_19;` and `linuxPackages_6_19 = linuxKernel.packages.linux_6_19;` (kupdate update writes them; nixpkgs squashes them into the `linux_6_19: init at ...` commit)"},
		},
		{
			name: "reformatted JSON",
			edits: []prEdit{{"kernels-org.json: reformat", func(t *testing.T, files map[string][]byte) {
				files[kj] = bytes.ReplaceAll(files[kj], []byte("    "), []byte("  "))
			}}},
			want: []string{kj + `:2: not formatted as kupdate writes it (Python's json.dump(indent=4) and a final newline): line 2 is "  \"testing\": {", want "    \"testing\": {"; run kupdate update or reformat`},
		},
		{
			name:  "mistitled commit",
			edits: []prEdit{{"linux_6_12: 6.12.64 -> 6.12.65", change(bump("6.12.66", fh("6.12.66")))}},
			want:  []string{kj + `:27: commit %s "linux_6_12: 6.12.64 -> 6.12.65": the title does not say what the commit does; it changes "6.12" from 6.12.64 to 6.12.66: title it "linux_6_12: 6.12.64 -> 6.12.66"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			n, head := s.openPRWith(fmt.Sprintf("case-%d", i), tc.edits...)
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				want[i] = strings.ReplaceAll(w, "commit %s", "commit "+head[:12])
			}
			wantCode, wantState, wantTitle := exitOK, "success", "1 kernel change verified against kernel.org"
			if len(want) > 0 {
				wantCode, wantState, wantTitle = exitFindings, "failure", fmt.Sprintf("%d finding", len(want))
				if len(want) > 1 {
					wantTitle += "s"
				}
			}
			if tc.name == "reformatted JSON" {
				// No entry changed: only the format finding.
				wantTitle = "1 finding"
			}

			// As a token: a commit status.
			code, stdout, stderr := s.kupdateWith(s.tokenCfg, "check", "--pr", fmt.Sprint(n), "--report")
			if code != wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, wantCode, stdout, stderr)
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
				if strings.HasPrefix(l, "pkgs/") {
					got = append(got, l)
				}
			}
			if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("findings (-want +got):\n%s\nstdout:\n%s", d, stdout)
			}
			wantStatus := []githubtest.Status{{Context: "kupdate/check", State: wantState, Description: wantTitle, Creator: "kupdate-bot"}}
			if d := cmp.Diff(wantStatus, s.gh.Statuses("NixOS", "nixpkgs", head)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			var reqs []string
			for _, r := range s.gh.Requests() {
				reqs = append(reqs, fmt.Sprintf("%s %d", r, r.Status))
			}
			wantReqs := []string{
				fmt.Sprintf("GET /repos/NixOS/nixpkgs/pulls/%d 200", n),
				fmt.Sprintf("GET /repos/NixOS/nixpkgs/compare/staging-nixos...contributor%%3Acase-%d?per_page=1 200", i),
				"GET /repos/NixOS/nixpkgs/commits/" + head + "/status?per_page=100 200",
				"POST /repos/NixOS/nixpkgs/statuses/" + head + " 201",
			}
			if d := cmp.Diff(wantReqs, reqs); d != "" {
				t.Errorf("API requests (-want +got):\n%s", d)
			}

			// As a GitHub App: a check run whose summary lists the findings.
			s.gh.ResetRequests()
			if code, stdout, stderr := s.kupdateWith(s.appCfg, "check", "--pr", fmt.Sprint(n), "--report"); code != wantCode {
				t.Fatalf("as an App: exit %d, want %d\n%s%s", code, wantCode, stdout, stderr)
			}
			runs := s.gh.CheckRuns("NixOS", "nixpkgs", head)
			if len(runs) != 1 || runs[0].Name != "kupdate/check" || runs[0].Conclusion != wantState || runs[0].Title != wantTitle {
				t.Fatalf("check runs: %+v", runs)
			}
			for _, f := range want {
				where, msg, _ := strings.Cut(f, ": ")
				if line := "- `" + where + "`: " + msg + "\n"; !strings.Contains(runs[0].Summary, line) {
					t.Errorf("check run summary lacks %q:\n%s", line, runs[0].Summary)
				}
			}
			var writes []string
			for _, r := range s.gh.Requests() {
				if r.Method != http.MethodGet {
					writes = append(writes, fmt.Sprintf("%s %d", r, r.Status))
				}
			}
			if d := cmp.Diff([]string{"POST /app/installations/7/access_tokens 201", "POST /repos/NixOS/nixpkgs/check-runs 201"}, writes); d != "" {
				t.Errorf("App writes (-want +got):\n%s", d)
			}
		})
	}
}

// An rc whose snapshot git.kernel.org answers 404 for: kernel.org lists it,
// so the snapshot is not made yet and the check could not verify it (exit
// 1, never a pass); kernel.org does not, so it is not a release (exit 3).
func TestCheckRCSnapshotNotFound(t *testing.T) {
	t.Parallel()
	s := newCheckSetup(t, false)
	if err := s.ko.SetReleases(kernelorgtest.Spec{Version: "6.20-rc1"}, kernelorgtest.Spec{Version: "6.19"}, kernelorgtest.Spec{Version: "6.18.7"},
		kernelorgtest.Spec{Version: "6.17.13", EOL: true}, kernelorgtest.Spec{Version: "6.12.66", Moniker: "longterm"}); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(t.TempDir(), "work")
	gitIn(t, filepath.Dir(work), "clone", "--quiet", "--branch", "staging-nixos", s.gh.GitURL("contributor", "nixpkgs"), work)
	base := gitIn(t, work, "rev-parse", "HEAD")
	for _, tc := range []struct {
		rc     string
		code   int
		result string // the line after the report's first, "%s" the head commit
		stderr string
	}{
		{"6.20-rc1", exitFailure,
			`incomplete: could not verify 1 item against kernel.org` + "\n" +
				kernelsOrg + `:2: "testing" 6.20-rc1: kernel.org lists the release but git.kernel.org has no snapshot linux-6.20-rc1.tar.gz yet; re-run the check later (not verified)`,
			"kupdate check: could not verify everything against kernel.org (1 items above): the check did not pass; run it again\n"},
		{"6.19-rc7", exitFindings,
			`fail: 1 finding` + "\n" +
				kernelsOrg + `:2: "testing" 6.19-rc7 is not a kernel.org release: releases.json does not list it and git.kernel.org has no snapshot linux-6.19-rc7.tar.gz; fix the version`,
			""},
	} {
		t.Run(tc.rc, func(t *testing.T) {
			s.t = t
			s.ko.SetFault(kernelorgtest.TarballPath(tc.rc), kernelorgtest.Fault{Status: 404})
			gitIn(t, work, "checkout", "--quiet", "-b", tc.rc, base)
			files := map[string][]byte{}
			for _, p := range []string{kernelfiles.KernelsJSONPath, kernelfiles.LinuxKernelsPath, kernelfiles.AliasesPath} {
				b, err := os.ReadFile(filepath.Join(work, p))
				if err != nil {
					t.Fatal(err)
				}
				files[p] = b
			}
			change(vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: "testing", From: "6.19-rc4", To: tc.rc, Hash: kernelorgtest.NARHash(tc.rc)}))(t, files)
			if err := os.WriteFile(filepath.Join(work, kernelsOrg), files[kernelsOrg], 0o644); err != nil {
				t.Fatal(err)
			}
			gitIn(t, work, "commit", "--quiet", "-am", "linux_testing: 6.19-rc4 -> "+tc.rc)
			head := gitIn(t, work, "rev-parse", "HEAD")

			n := s.ko.Requests(kernelorgtest.TarballPath(tc.rc))
			code, stdout, stderr := s.kupdate("check", "--nixpkgs", work, "--base", "origin/staging-nixos", "--head", tc.rc)
			want := fmt.Sprintf("kupdate check %s..%s (1 commit): %s\n", base[:12], head[:12], tc.result)
			if code != tc.code || stdout != want || !strings.HasSuffix(stderr, tc.stderr) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", code, tc.code, stdout, want, stderr)
			}
			if got := s.ko.Requests(kernelorgtest.TarballPath(tc.rc)) - n; got != 1 {
				t.Errorf("%d requests for the snapshot, want 1", got)
			}
		})
	}
}
