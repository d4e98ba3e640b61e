package vanilla

import (
	"github.com/kupdate/kupdate/family"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestKernelEntries(t *testing.T) {
	in := `{
    "testing": {
        "version": "6.19-rc4",
        "hash": "sha256:a",
        "lts": false
    },
    "6.12": {"version": "6.12.64", "hash": "sha256:b", "lts": true},
    "5.4": {
        "version": "5.4.1",
        "hash": "sha256:c"
    },
    "6.1": {"version": 6, "hash": "x"},
    "6.12": {"version": "6.12.65", "hash": "sha256:d", "lts": true}
}
`
	got, err := kernelEntries([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []entry{
		{Branch: "testing", Line: 2, Version: "6.19-rc4", Hash: "sha256:a", LTS: ptr(false)},
		{Branch: "6.12", Line: 7, Version: "6.12.64", Hash: "sha256:b", LTS: ptr(true)},
		{Branch: "5.4", Line: 8, Version: "5.4.1", Hash: "sha256:c"},
		{Branch: "6.1", Line: 12, err: `want {"version": string, "hash": string, "lts": bool}: json: cannot unmarshal number into Go struct field .version of type string`},
		{Branch: "6.12", Line: 13, Version: "6.12.65", Hash: "sha256:d", LTS: ptr(true)},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(entry{})); diff != "" {
		t.Errorf("kernelEntries (-want +got):\n%s", diff)
	}
}

func TestDiffEntries(t *testing.T) {
	base := []entry{
		{Branch: "testing", Version: "6.19-rc4", Hash: "a"},
		{Branch: "6.1", Version: "6.1.1", Hash: "b"},
		{Branch: "6.12", Version: "6.12.1", Hash: "c"},
		{Branch: "6.17", Version: "6.17.9", Hash: "d"},
	}
	head := []entry{
		{Branch: "testing", Version: "6.19-rc5", Hash: "e"},
		{Branch: "6.1", Version: "6.1.1", Hash: "b"},
		{Branch: "6.12", Version: "6.12.1", Hash: "c2"},
		{Branch: "6.19", Version: "6.19", Hash: "f"},
	}
	var got []string
	for _, c := range diffEntries(base, head) {
		s := c.Branch + ":"
		if c.Old != nil {
			s += c.Old.Version
		}
		s += ">"
		if c.New != nil {
			s += c.New.Version
		}
		got = append(got, s)
	}
	want := []string{"testing:6.19-rc4>6.19-rc5", "6.12:6.12.1>6.12.1", "6.19:>6.19", "6.17:6.17.9>"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diffEntries (-want +got):\n%s", diff)
	}
}

func TestCommitChanges(t *testing.T) {
	tree := func(kj string) *family.Tree {
		if kj == "-" {
			return family.NewTree(nil)
		}
		return family.NewTree(map[string][]byte{kernelsJSON: []byte(kj)})
	}
	const (
		two    = `{"6.1": {"version": "6.1.1", "hash": "a"}, "6.12": {"version": "6.12.1", "hash": "b"}}`
		one    = `{"6.12": {"version": "6.12.2", "hash": "c"}}`
		broken = `{"6.12": `
	)
	for _, tc := range []struct {
		name          string
		before, after string
		want          []string
		removed       []string
	}{
		{"bump and removal", two, one, []string{"6.12:6.12.1>6.12.2", "6.1:6.1.1>"}, []string{"6.1"}},
		// A missing file counts as empty; one that does not parse, as nothing.
		{"file added", "-", one, []string{"6.12:>6.12.2"}, nil},
		{"file deleted", one, "-", []string{"6.12:6.12.2>"}, []string{"6.12"}},
		{"before broken", broken, one, nil, nil},
		{"after broken", two, broken, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range commitChanges(tree(tc.before), tree(tc.after)) {
				s := c.Branch + ":"
				if c.Old != nil {
					s += c.Old.Version
				}
				s += ">"
				if c.New != nil {
					s += c.New.Version
				}
				got = append(got, s)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("commitChanges (-want +got):\n%s", d)
			}
			var removed []string
			for b := range RemovedBranches(tree(tc.before), tree(tc.after)) {
				removed = append(removed, b)
			}
			if d := cmp.Diff(tc.removed, removed); d != "" {
				t.Errorf("RemovedBranches (-want +got):\n%s", d)
			}
		})
	}
}

func TestListed(t *testing.T) {
	tr := family.NewTree(map[string][]byte{kernelsJSON: []byte(`{"6.12": {"version": "6.12.1", "hash": "b", "lts": true}, "6.18": {"version": 6}}`)})
	want := []Branch{{Name: "6.12", LTS: ptr(true)}, {Name: "6.18"}}
	if d := cmp.Diff(want, Listed(tr)); d != "" {
		t.Errorf("Listed (-want +got):\n%s", d)
	}
	if got := Listed(family.NewTree(map[string][]byte{kernelsJSON: []byte("{")})); got != nil {
		t.Errorf("Listed of a broken file = %v, want nil", got)
	}
}
