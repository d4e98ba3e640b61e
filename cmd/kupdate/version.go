package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/kupdate/kupdate/server"
)

// Version is set by the linker, as packagers do (nixpkgs' package.nix:
// -ldflags "-X main.Version=${version}"); otherwise the module version
// `go install …@vX.Y.Z` recorded in the build info is used.
var Version = ""

func buildVersion() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// buildInfo is what this binary knows about its build: the version, the
// commit when the Go toolchain recorded one (a build in a git checkout),
// and Go. `kupdate version`, `kupdate --version`, the status page and the
// kupdate_build_info metric all show this one.
func buildInfo() server.BuildInfo {
	info := server.BuildInfo{Version: buildVersion(), GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.RevisionTime = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// writeVersion prints the version, the commit it was built from when the
// build recorded one, and Go. It needs no configuration and no
// environment, so `env -i kupdate --version` works (nixpkgs'
// versionCheckHook runs it so).
func writeVersion(w io.Writer) {
	info := buildInfo()
	fmt.Fprintf(w, "kupdate %s\n", info.Version)
	if info.Revision != "" {
		line := "commit: " + info.Revision
		if info.RevisionTime != "" {
			line += " (" + info.RevisionTime + ")"
		}
		if info.Modified {
			line += ", with uncommitted changes"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "go: %s %s/%s\n", info.GoVersion, runtime.GOOS, runtime.GOARCH)
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	writeVersion(e.stdout)
	return nil
}
