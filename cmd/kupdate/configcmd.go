package main

import (
	"context"
	"fmt"
)

// runConfig is `kupdate config`: the configuration is read and validated as
// every command reads it, and where kupdate reads and keeps things is
// printed: which file (the search path ends in /etc/kupdate/config.toml),
// the state directory and the cache directory. Exit 2 when the file is
// invalid or a directory cannot be named, as run and serve would exit. The
// NixOS module runs it at build time on the config.toml it writes.
func runConfig(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "config")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	stateDir, err := cfg.StateDir()
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	cacheDir, err := cfg.CacheDir()
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	file := e.configFile
	if file == "" {
		file = "none found: the defaults"
	}
	fmt.Fprintf(e.stdout, "config: %s\nstate:  %s\ncache:  %s\n", file, stateDir, cacheDir)
	return nil
}
