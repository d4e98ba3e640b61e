package cycle

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/gitops"
	"github.com/kupdate/kupdate/workflow"
)

// The cycle reaches git, GitHub and the builder through these interfaces,
// defined here by what it needs: the production types are *gitops.Repo,
// *workflow.Workflow and *build.Runner; the decision rules between them
// are plain functions of values (decide.go, outcome.go, kept.go).

// repository is the nixpkgs repository a cycle writes its commits into:
// the managed clone or a maintainer's checkout.
type repository interface {
	Base() plumbing.Hash
	// BranchTip is the commit another base branch starts from
	// (nixpkgs.bases).
	BranchTip(ctx context.Context, name string) (plumbing.Hash, error)
	ReadFile(ctx context.Context, commit plumbing.Hash, path string) ([]byte, error)
	// Build writes a branch's commits as objects on base.
	Build(ctx context.Context, base plumbing.Hash, b gitops.Branch) (gitops.BuiltBranch, error)
	// ExportFree writes commit's tree into a directory under root that no
	// earlier run's process still uses, and returns it.
	ExportFree(ctx context.Context, commit plumbing.Hash, root string) (string, error)
	Diff(ctx context.Context, commit plumbing.Hash) (string, error)
	// PushDryRun reads what the fork's branches hold and what pushing
	// them would do; Push pushes.
	PushDryRun(ctx context.Context, fork gitops.Remote, bs []gitops.BuiltBranch) []gitops.PushResult
	Push(ctx context.Context, fork gitops.Remote, bs []gitops.BuiltBranch) []gitops.PushResult
	Close() error
}

// forge is the GitHub repository the cycle proposes its branches on.
type forge interface {
	Sync(ctx context.Context, updates []workflow.BranchUpdate) ([]workflow.PRResult, error)
	OpenPR(ctx context.Context, branch, base string) (*workflow.PullRequest, error)
	FindPR(ctx context.Context, branch string) (*workflow.PullRequest, error)
	Promote(ctx context.Context) ([]workflow.PromoteResult, error)
}

// builder runs the build tiers of attributes in a tree.
type builder interface {
	Run(ctx context.Context, dir string, attrs []string) build.Report
}

var (
	_ repository = (*gitops.Repo)(nil)
	_ forge      = (*workflow.Workflow)(nil)
	_ builder    = (*build.Runner)(nil)
)
