package kernelfiles

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Whatever parses re-dumps to a fixed point: dump(parse(dump(v))) == dump(v).
func FuzzJSONRoundTrip(f *testing.F) {
	for _, p := range []string{KernelsJSONPath, PatchesJSONPath} {
		b, err := os.ReadFile(filepath.Join(sampleTree, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"a": "\ud83d\ude00\u00e9", "b": [1, -2.5e3, null, {}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseJSON("f", data)
		if err != nil {
			return
		}
		for _, sorted := range []bool{false, true} {
			once := dumpJSON(v, sorted)
			v2, err := parseJSON("f", once)
			if err != nil {
				t.Fatalf("dump of a parsed value does not parse: %v\n%s", err, once)
			}
			if twice := dumpJSON(v2, sorted); !bytes.Equal(once, twice) {
				t.Fatalf("not a fixed point:\n%s\n%s", once, twice)
			}
		}
	})
}

// The Nix scanner never panics, and a bracket it matches is one it opened.
func FuzzScanNix(f *testing.F) {
	for _, p := range []string{LinuxKernelsPath, AliasesPath} {
		b, err := os.ReadFile(filepath.Join(sampleTree, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{ a = "${ { b = 1; }.b }"; c = ''x ''${y} ${z}''; /* } */ # }
}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		nt, err := scanNix("f.nix", src)
		if err != nil {
			return
		}
		for i, c := range src {
			if nt.code[i] && (c == '{' || c == '(' || c == '[') {
				if _, err := nt.matchClose(i); err != nil {
					return // mismatched kinds are reported, not panicked on
				}
			}
		}
		if s, err := findSection(nt, "kernels"); err == nil {
			_ = s
		}
		_, _, _ = mapAliasesSet(nt)
	})
}
