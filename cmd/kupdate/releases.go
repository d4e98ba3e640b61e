package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/kupdate/kupdate/kernelorg"
)

// releaseRow is one element of `kupdate releases --json`. The field names
// are a contract with scripts: add fields, never rename them.
type releaseRow struct {
	Branch    string `json:"branch"`
	Version   string `json:"version"`
	Moniker   string `json:"moniker"`
	EOL       bool   `json:"eol"`
	LTS       bool   `json:"lts"`
	Released  string `json:"released"`
	Source    string `json:"source"`
	ChangeLog string `json:"changelog"`
	Hash      string `json:"hash"`   // "sha256:<nix32>", "" unless status is "ok"
	Status    string `json:"status"` // "ok", "not-yet" or "error"
	Error     string `json:"error"`  // why there is no hash, "" when status is "ok"
}

// newKernelOrg builds the kernel.org client from [kernelorg]; a keyring or
// fingerprint that does not work is a configuration error.
func newKernelOrg(e *env) (*kernelorg.Client, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	opts, err := kernelorg.OptionsFromConfig(cfg)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	opts.UserAgent = "kupdate/" + buildVersion() + " (+https://github.com/kupdate/kupdate)"
	opts.Logger = e.log
	c, err := kernelorg.New(opts)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return c, nil
}

func runReleases(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "releases")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := newKernelOrg(e)
	if err != nil {
		return err
	}
	rels, err := c.Releases(ctx)
	if err != nil {
		return err
	}
	rows := make([]releaseRow, 0, len(rels))
	var failed []error
	for _, r := range rels {
		row := releaseRow{
			Branch: r.Branch, Version: r.Version.String(), Moniker: r.Moniker, EOL: r.EOL, LTS: r.LTS,
			Released: r.Released, Source: r.Source, ChangeLog: r.ChangeLog, Status: "ok",
		}
		h, err := c.Hash(ctx, r.Version)
		switch {
		case errors.Is(err, kernelorg.ErrNotYet):
			// Normal for a few hours after a release: not a failure.
			row.Status, row.Error = "not-yet", err.Error()
		case err != nil:
			row.Status, row.Error = "error", err.Error()
			failed = append(failed, err)
		default:
			row.Hash = h
		}
		rows = append(rows, row)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "BRANCH\tVERSION\tMONIKER\tEOL\tLTS\tRELEASED\tHASH")
		for _, r := range rows {
			hash := r.Hash
			switch r.Status {
			case "not-yet":
				// A release waits for its signed checksum line, an rc (the
				// only versions on branch "testing") for its snapshot.
				hash = "not yet: no signed checksum on kernel.org"
				if r.Branch == "testing" {
					hash = "not yet: no snapshot on git.kernel.org"
				}
			case "error":
				hash = "ERROR (below)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Branch, r.Version, r.Moniker, yesNo(r.EOL), yesNo(r.LTS), r.Released, hash)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, err := range failed {
		fmt.Fprintf(e.stderr, "kupdate releases: %v\n", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d hashes could not be verified", len(failed), len(rows))
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
