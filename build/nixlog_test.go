package build

import (
	"strings"
	"testing"
	"time"
)

const (
	drvA = "/nix/store/biklfm102360i47lsqyyb71hp4x0qhhj-linux-config-6.19.drv"
	drvB = "/nix/store/6mjm7jabyxwnpv4xw7b80bzjap53zr6k-linux-6.19.drv"
	drvC = "/nix/store/yawfhwh57x04qlvj6c4dki1yap0da3l3-nixos-test-kernel-generic.drv"
)

// TestFailingDrv: the derivation to blame, from the messages of Nix 2.8 (as
// Debian ships it) through the "Cannot build" shape of 2.21 and newer.
func TestFailingDrv(t *testing.T) {
	tests := []struct {
		name, log, want string
	}{
		{"2.8 builder", `these 2 derivations will be built:
  ` + drvA + `
  ` + drvB + `
building '` + drvA + `'...
error: builder for '` + drvA + `' failed with exit code 2;
       last 10 log lines:
       > make: *** [Makefile:1] Error 2
       For full logs, run 'nix log ` + drvA + `'.
error: 1 dependencies of derivation '` + drvB + `' failed to build
`, drvA},
		{"2.8 dependency only", "error: 1 dependencies of derivation '" + drvB + "' failed to build\n" +
			"error: 1 dependencies of derivation '" + drvC + "' failed to build\n", drvB},
		{"2.21 builder", `building '` + drvA + `'...
error: Cannot build '` + drvA + `'.
       Reason: builder failed with exit code 2.
       Output paths:
         /nix/store/n9yl2hqsljax4gabc7c1qbxbkb0j6l55-linux-config-6.19
error: Cannot build '` + drvB + `'.
       Reason: 1 dependency failed.
`, drvA},
		{"2.21 dependency first", "error: Cannot build '" + drvB + "'.\n       Reason: 1 dependency failed.\n" +
			"error: Cannot build '" + drvA + "'.\n       Reason: builder failed with exit code 1.\n", drvA},
		{"2.21 dependency only", "error: Cannot build '" + drvC + "'.\n       Reason: 2 dependencies failed.\n", drvC},
		{"cannot build at the end", "error: Cannot build '" + drvA + "'.", drvA},
		{"remote 2.8", "building '" + drvA + "' on 'ssh-ng://farm'...\n" +
			"error: build of '" + drvA + "' on 'ssh-ng://farm' failed: builder for '" + drvA + "' failed with exit code 1\n", drvA},
		{"installable", "error: build of '" + drvB + "^out' failed: Cannot build '" + drvA + "'.\n       Reason: builder failed with exit code 1.\n", drvA},
		{"installable only", "error: build of '" + drvB + "^*' failed\n", drvB},
		{"hash mismatch", "error: hash mismatch in fixed-output derivation '" + drvA + "':\n         specified: sha256-x\n            got:    sha256-y\n" +
			"error: 1 dependencies of derivation '" + drvB + "' failed to build\n", drvA},
		{"colours", "\x1b[31;1merror:\x1b[0m builder for '\x1b[35;1m" + drvA + "\x1b[0m' failed with exit code 2\n", drvA},
		{"eval error", "error: attribute 'linux_6_19' in selection path 'linuxKernel.kernels.linux_6_19' not found\n", ""},
		{"building is not failing", "building '" + drvA + "'...\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newNixLog(5)
			l.readFrom(strings.NewReader(tt.log))
			if got := l.drv(); got != tt.want {
				t.Errorf("drv() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLogTail(t *testing.T) {
	long := strings.Repeat("x", 3*maxLineBytes)
	tests := []struct {
		name string
		keep int
		log  string
		want string
	}{
		{"fewer lines than kept", 3, "a\nb\n", "a\nb"},
		{"last lines", 3, "1\n2\n3\n4\n5\n", "3\n4\n5"},
		{"no final newline", 2, "1\n2\n3", "2\n3"},
		{"crlf and redrawn progress", 2, "a\r\n[1/3 built] x\r[2/3 built] y\n", "a\n[2/3 built] y"},
		{"colours", 1, "\x1b[31;1merror:\x1b[0m failed\n", "error: failed"},
		{"long line cut", 2, long + "\nend\n", strings.Repeat("x", maxLineBytes) + "\nend"},
		{"empty", 3, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newNixLog(tt.keep)
			l.readFrom(strings.NewReader(tt.log))
			if got := l.tail(); got != tt.want {
				t.Errorf("tail() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProgressString(t *testing.T) {
	for _, tt := range []struct {
		p    Progress
		want string
	}{
		{Progress{Attr: "linux_6_12", Tier: "configfile", Status: Running, Elapsed: 130*time.Second + 400*time.Millisecond}, "building linux_6_12 configfile (2m10s)"},
		{Progress{Attr: "linux_6_12", Tier: "eval", Status: Running}, "building linux_6_12 eval (0s)"},
		{Progress{Attr: "linux_6_12", Tier: "eval", Status: Passed, Elapsed: 180 * time.Millisecond}, "linux_6_12 eval: passed (180ms)"},
		{Progress{Attr: "linux_6_19", Tier: "kernel", Status: Skipped}, "linux_6_19 kernel: skipped (0s)"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
