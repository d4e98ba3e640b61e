package check

import (
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

func TestMembersSyntaxError(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"{\n  \"a\": 1,\n  \"b\": 2,\n}\n", "line 4: invalid character '}' looking for beginning of object key string"},
		{"{\n  \"a\": 1\n", "line 2: unexpected end of file"},
		{"[1]\n", "line 1: want a JSON object"},
		{"{}\n{}\n", "line 2: invalid character '{' after top-level value"},
	} {
		_, err := members([]byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("members(%q) error = %v, want %q", tc.in, err, tc.want)
		}
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
