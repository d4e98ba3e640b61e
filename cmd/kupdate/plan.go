package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/updater"
)

// planJSON is the `plan --json` contract of design.md: keep it stable.
type planJSON struct {
	Base    string           `json:"base"`
	Changes []updater.Change `json:"changes"`
}

func runPlan(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "plan")
	nixpkgs := fs.String("nixpkgs", "", "the nixpkgs checkout (default nixpkgs.path)")
	asJSON := fs.Bool("json", false, "print the plan as JSON: {\"base\", \"changes\": [...]}")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	dir, err := nixpkgsDir(cfg, *nixpkgs)
	if err != nil {
		return err
	}
	_, plan, err := makePlan(ctx, e, cfg, dir)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printPlanJSON(e.stdout, gitHead(ctx, dir), plan); err != nil {
			return err
		}
	} else {
		printPlan(e.stdout, gitHead(ctx, dir), plan)
	}
	return planFailures(plan)
}

// nixpkgsDir is --nixpkgs, else nixpkgs.path.
func nixpkgsDir(cfg *config.Config, flagDir string) (string, error) {
	dir := flagDir
	if dir == "" {
		dir = cfg.Nixpkgs.Path
	}
	if dir == "" {
		return "", usageErrorf("no nixpkgs checkout: pass --nixpkgs DIR or set nixpkgs.path in the config")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", usageErrorf("--nixpkgs %s: not a directory", dir)
	}
	return dir, nil
}

// makePlan loads the tree at dir, asks kernel.org (and, for a tree with
// hardened kernels, GitHub) what is new, and plans.
func makePlan(ctx context.Context, e *env, cfg *config.Config, dir string) (*updater.Tree, *updater.Plan, error) {
	tree, err := updater.Load(os.DirFS(dir))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	// e.now dates removals' "# Added" comments.
	tree.Now = e.now
	client, err := newKernelOrg(e) // as `kupdate releases` builds it
	if err != nil {
		return nil, nil, err
	}
	releases, err := client.Releases(ctx)
	if err != nil {
		return nil, nil, err
	}
	p := &updater.Planner{Hasher: client, Log: e.log}
	if tree.HasHardened() {
		gh := updater.NewGitHubHardened(cfg.GitHub.APIURL, "kupdate/"+buildVersion()+" (+https://github.com/kupdate/kupdate)")
		if cfg.GitHub.TokenEnv != "" {
			gh.Token = e.getenv(cfg.GitHub.TokenEnv) // optional: raises GitHub's rate limit
		}
		p.Hardened = gh
	}
	plan, err := p.Plan(ctx, releases, tree)
	if err != nil {
		return nil, nil, err
	}
	return tree, plan, nil
}

// gitHead is the commit checked out at dir, "" when dir is not a git checkout.
func gitHead(ctx context.Context, dir string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--verify", "-q", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func printPlanJSON(w io.Writer, base string, plan *updater.Plan) error {
	out := planJSON{Base: base, Changes: plan.Changes}
	if out.Changes == nil {
		out.Changes = []updater.Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func printPlan(w io.Writer, base string, plan *updater.Plan) {
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

// planFailures makes held changes that failed (not those that merely wait
// for kernel.org) a failure of the command, after everything was printed.
func planFailures(plan *updater.Plan) error {
	if f := plan.Failed(); len(f) > 0 {
		return fmt.Errorf("%d change(s) held back by failures (see \"held:\" above; they are retried next run)", len(f))
	}
	return nil
}
