package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg"
)

// planJSON is the `plan --json` contract of docs/design.md: keep it stable.
type planJSON struct {
	Base    string          `json:"base"`
	Changes []family.Change `json:"changes"`
}

func runPlan(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "plan")
	nixpkgs := fs.String("nixpkgs", "", "the nixpkgs checkout (default nixpkgs.path)")
	asJSON := fs.Bool("json", false, "print the plan as JSON: {\"base\", \"changes\": [...]}")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, dir, ko, err := openCheckout(e, *nixpkgs)
	if err != nil {
		return err
	}
	p, err := cycle.PlanUpdate(ctx, cfg, dir, cycle.UpdateOptions{Log: e.log, Getenv: e.getenv, Now: e.now, UserAgent: userAgent(), KernelOrg: ko})
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printPlanJSON(e.stdout, p.Base, p.Plan); err != nil {
			return err
		}
	} else {
		printPlan(e.stdout, p.Base, p.Plan)
	}
	return p.Err()
}

// nixpkgsDir is --nixpkgs, else nixpkgs.path.
// openCheckout is what plan and update start from: the configuration, the
// nixpkgs tree they work on (--nixpkgs, else nixpkgs.path) and a kernel.org
// client.
func openCheckout(e *env, flagDir string) (*config.Config, string, *kernelorg.Client, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, "", nil, err
	}
	dir := flagDir
	if dir == "" {
		dir = cfg.Nixpkgs.Path
	}
	if dir == "" {
		return nil, "", nil, usageErrorf("no nixpkgs checkout: pass --nixpkgs DIR or set nixpkgs.path in the config")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, "", nil, usageErrorf("--nixpkgs %s: not a directory", dir)
	}
	ko, err := newKernelOrg(e)
	if err != nil {
		return nil, "", nil, err
	}
	return cfg, dir, ko, nil
}

func printPlanJSON(w io.Writer, base string, plan *family.Plan) error {
	out := planJSON{Base: base, Changes: plan.Changes}
	if out.Changes == nil {
		out.Changes = []family.Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func printPlan(w io.Writer, base string, plan *family.Plan) {
	if base != "" {
		fmt.Fprintf(w, "base %s\n", base)
	}
	if len(plan.Changes) == 0 {
		fmt.Fprintln(w, "nothing to do")
	}
	for _, c := range plan.Changes {
		fmt.Fprintf(w, "%s\n", c.Title)
		fmt.Fprintf(w, "    %s\n", strings.Join(c.Files, " "))
	}
	for _, n := range plan.Held {
		fmt.Fprintf(w, "held: %s\n", n)
	}
	for _, n := range plan.Skipped {
		fmt.Fprintf(w, "skipped: %s\n", n)
	}
}
