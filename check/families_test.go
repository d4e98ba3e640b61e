package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kupdate/kupdate/family"
)

// The files of the toy family.
const (
	toyJSON = "pkgs/os-specific/linux/kernel/toy.json"
	toyNix  = "pkgs/os-specific/linux/kernel/toy.nix"
)

// toyFamily is a kernel family only this test knows (linux_toy, its
// version in toy.json, its expression in toy.nix), with no verifier. The
// check learns of it from the registry alone.
type toyFamily struct{}

func (toyFamily) Name() string                        { return "toy" }
func (toyFamily) Paths() []string                     { return []string{toyJSON, toyNix} }
func (toyFamily) Present(t *family.Tree) bool         { return t.Has(toyJSON) }
func (toyFamily) Load(*family.Tree) error             { return nil }
func (toyFamily) Attrs(*family.Tree) []family.Attr    { return nil }
func (toyFamily) EvalChecks(family.Change) []string   { return nil }
func (toyFamily) Ahead(*family.Tree, family.Key) bool { return true }
func (toyFamily) Offers(context.Context) ([]family.Offer, error) {
	return nil, nil
}
func (toyFamily) Plan(context.Context, *family.Tree) (*family.Plan, error) {
	return &family.Plan{}, nil
}
func (toyFamily) Apply(*family.Tree, family.Change) (map[string][]byte, error) {
	return nil, errors.New("the toy family makes no changes")
}
func (toyFamily) CheckFile(string, []byte) (bool, error) { return false, nil }
func (toyFamily) Entries(string, []byte, family.Change, string) ([]string, bool) {
	return nil, false
}

// verifyingToy is the toy family with a verifier: 9.9 is not a release of
// toy.example; anything else is.
type verifyingToy struct{ toyFamily }

func (verifyingToy) Sources() []string    { return []string{"toy.example"} }
func (verifyingToy) EntryFiles() []string { return []string{toyJSON} }

var toyClaimRE = regexp.MustCompile(`^linux_toy: \S+ -> \S+$`)

func (verifyingToy) ClaimsChange(title string) bool { return toyClaimRE.MatchString(title) }

func toyVersion(t *family.Tree) string {
	var v struct{ Version string }
	_ = json.Unmarshal(t.File(toyJSON), &v)
	return v.Version
}

func (verifyingToy) Verify(_ context.Context, pr family.PR, out *family.Results) (family.Titler, error) {
	from, to := toyVersion(pr.Base), toyVersion(pr.Head)
	switch {
	case from == to:
	case to == "9.9":
		out.Findingf(toyJSON, 1, family.RuleVersion, "%s is not a toy.example release", to)
	default:
		out.Verify(family.Verified{File: toyJSON, Line: 1, Branch: "toy", From: from, To: to})
	}
	return toyTitler{}, nil
}

type toyTitler struct{}

func (toyTitler) Titles(c family.Commit) family.CommitTitles {
	from, to := toyVersion(c.Parent), toyVersion(c.Tree)
	if !slices.Contains(c.Files, toyJSON) || from == to {
		return family.CommitTitles{}
	}
	return family.CommitTitles{File: toyJSON, Line: 1, Want: []family.Title{
		{Text: "linux_toy: " + from + " -> " + to, What: fmt.Sprintf("changes toy from %s to %s", from, to)},
	}}
}

// newToyRepo is newPRRepo with the toy family's files at the base.
func newToyRepo(t *testing.T) *prRepo {
	t.Helper()
	tr := newTestRepo(t)
	tr.commitDir("sample tree", sampleTree)
	toy := map[string][]byte{toyJSON: []byte(`{"version": "1.2"}` + "\n"), toyNix: []byte("{ }\n")}
	base := tr.commit("toy kernels", toy)
	tr.run("checkout", "-q", "-b", "pr")
	files := toy
	for _, p := range registry(nil, nil).Paths() {
		if b, err := os.ReadFile(filepath.Join(sampleTree, filepath.FromSlash(p))); err == nil {
			files[p] = b
		}
	}
	return &prRepo{testRepo: tr, base: base, files: files}
}

func setToy(version string) func(map[string][]byte) {
	return func(files map[string][]byte) {
		files[toyJSON] = []byte(`{"version": "` + version + `"}` + "\n")
	}
}

// TestCheckFamilies: check runs whatever families the registry holds, a
// family it has never heard of included, and applies the title rule across
// them.
func TestCheckFamilies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		toy        family.Family
		pr         func(t *testing.T, p *prRepo)
		want       []string // "%s" = the head commit
		unverified []string
		summary    string
	}{
		{
			// Not verified is not a pass.
			name: "a family without a verifier",
			toy:  toyFamily{},
			pr: func(t *testing.T, p *prRepo) {
				p.edit("linux_toy: 1.2 -> 1.3", func(files map[string][]byte) {
					setToy("1.3")(files)
					files[toyNix] = []byte("{ enableFoo = true; }\n")
				})
			},
			unverified: []string{
				toyJSON + ": changed, but kupdate check cannot verify the toy kernels (the family has no verifier): review the change by hand",
				toyNix + ": changed, but kupdate check cannot verify the toy kernels (the family has no verifier): review the change by hand",
			},
			summary: "could not verify 2 items",
		},
		{
			name:    "a verifying family",
			toy:     verifyingToy{},
			pr:      func(t *testing.T, p *prRepo) { p.edit("linux_toy: 1.2 -> 1.3", setToy("1.3")) },
			summary: "1 kernel change verified against toy.example",
		},
		{
			name: "its findings and titles",
			toy:  verifyingToy{},
			pr:   func(t *testing.T, p *prRepo) { p.edit("linux_toy: 1.2 -> 1.3", setToy("9.9")) },
			want: []string{
				toyJSON + `:1: 9.9 is not a toy.example release`,
				toyJSON + `:1: commit %s "linux_toy: 1.2 -> 1.3": the title does not say what the commit does; it changes toy from 1.2 to 9.9: title it "linux_toy: 1.2 -> 9.9"`,
			},
			summary: "2 findings",
		},
		{
			name: "one commit, two families",
			toy:  verifyingToy{},
			pr: func(t *testing.T, p *prRepo) {
				p.apply("linux_6_12: 6.12.64 -> 6.12.66", bump("6.12", "6.12.64", "6.12.66", true), setToy("1.3"))
			},
			want: []string{
				kj + `:27: commit %s "linux_6_12: 6.12.64 -> 6.12.66": changes "6.12" from 6.12.64 to 6.12.66, changes toy from 1.2 to 1.3; nixpkgs wants one commit per branch: split it into "linux_6_12: 6.12.64 -> 6.12.66" and "linux_toy: 1.2 -> 1.3"`,
			},
			summary: "1 finding",
		},
		{
			name: "a title claiming the family's change",
			toy:  verifyingToy{},
			pr: func(t *testing.T, p *prRepo) {
				p.edit("linux_toy: 1.2 -> 1.3", func(files map[string][]byte) { files[toyNix] = []byte("{ enableFoo = true; }\n") })
			},
			want: []string{
				toyNix + `: commit %s "linux_toy: 1.2 -> 1.3": the title names a version change, but the commit changes no entry of ` + kj + ` or ` + hp + ` or ` + toyJSON + ` (only ` + toyNix + `); squash it into the commit that does, or title it after what it changes`,
			},
			summary: "1 finding",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, client := newKernelOrg(t)
			p := newToyRepo(t)
			tc.pr(t, p)
			head := p.run("rev-parse", "HEAD")
			ck := &Checker{Repo: &Repo{Dir: p.dir}, Families: append(registry(client, nil), tc.toy)}
			rep, err := ck.Check(context.Background(), "main", "pr")
			if err != nil {
				t.Fatal(err)
			}
			var got, gotU []string
			for _, f := range rep.Findings {
				got = append(got, f.String())
			}
			for _, f := range rep.Unverified {
				gotU = append(gotU, f.String())
			}
			for i := range tc.want {
				tc.want[i] = strings.ReplaceAll(tc.want[i], "commit %s", "commit "+short(head))
			}
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.unverified, gotU, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("unverified (-want +got):\n%s", d)
			}
			if got := rep.Summary(); got != tc.summary {
				t.Errorf("summary %q, want %q", got, tc.summary)
			}
		})
	}
}

// TestCheckNoKernelFiles: revisions without any family's files are not a
// tree the check can verify.
func TestCheckNoKernelFiles(t *testing.T) {
	t.Parallel()
	tr := newTestRepo(t)
	base := tr.commit("empty", map[string][]byte{"README": []byte("hi\n")})
	head := tr.commit("still nothing", map[string][]byte{"README": []byte("hello\n")})
	ck := &Checker{Repo: &Repo{Dir: tr.dir}, Families: registry(nil, nil)}
	_, err := ck.Check(context.Background(), base, head)
	want := "none of " + strings.Join(registry(nil, nil).Paths(), ", ") + " is in " + short(base) + " or " + short(head) + ": not a nixpkgs tree with kernel files (check --nixpkgs and the revisions)"
	if err == nil || err.Error() != want {
		t.Errorf("Check: %v, want %q", err, want)
	}
}
