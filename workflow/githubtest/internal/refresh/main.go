// Command refresh rewrites the copies of GitHub's published contract that
// githubtest and server's tests validate against, from the npm packages GitHub
// and Octokit publish. It is the only way those files change; CI never runs
// it (it needs npm and the registry) and reads the committed files.
//
//	go run ./workflow/githubtest/internal/refresh   # from the module root
//
// It trims each description to exactly what kupdate uses: the REST
// operations githubtest serves, the GraphQL fields of the three documents
// kupdate sends, the webhook events server reads. To use a new REST
// operation, GraphQL field or webhook event, add it to the lists below and
// run it again; to move to newer packages, change the versions. Every file
// it writes names the package and version it came from.
package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The packages, pinned: a refresh is a deliberate change of version.
var (
	restPkg     = pkg{"@octokit/openapi", "23.0.2"}
	graphqlPkg  = pkg{"@octokit/graphql-schema", "15.26.1"}
	webhooksPkg = pkg{"@octokit/openapi-webhooks", "12.1.0"}
	examplesPkg = pkg{"@octokit/webhooks-examples", "7.6.1"}
)

// operations are the REST operations githubtest serves (its route table
// names each); githubtest's tests fail when the two lists differ.
var operations = []string{
	"apps/create-installation-access-token",
	"checks/create",
	"checks/list-for-ref",
	"checks/update",
	"git/list-matching-refs",
	"issues/add-labels",
	"issues/create-comment",
	"issues/create-label",
	"issues/list-comments",
	"issues/list-events-for-timeline",
	"issues/list-labels-for-repo",
	"issues/list-labels-on-issue",
	"issues/remove-label",
	"pulls/create",
	"pulls/create-review",
	"pulls/get",
	"pulls/list",
	"pulls/list-reviews",
	"pulls/merge",
	"pulls/remove-requested-reviewers",
	"pulls/request-reviewers",
	"pulls/update",
	"repos/compare-commits-with-basehead",
	"repos/create-commit-status",
	"repos/get",
	"repos/get-branch",
	"repos/get-branch-rules",
	"repos/get-combined-status-for-ref",
	"repos/list-branches",
	"repos/list-commit-statuses-for-ref",
	"repos/list-releases",
}

// graphqlFields are the object fields kupdate's GraphQL documents select
// (workflow/merge.go). Arguments and input objects are kept whole.
var graphqlFields = []string{
	"Query.repository",
	"Repository.pullRequest",
	"PullRequest.id",
	"PullRequest.isInMergeQueue",
	"PullRequest.isDraft",
	"Mutation.enqueuePullRequest",
	"EnqueuePullRequestPayload.mergeQueueEntry",
	"MergeQueueEntry.position",
	"Mutation.convertPullRequestToDraft",
	"ConvertPullRequestToDraftPayload.pullRequest",
}

// webhookEvents are the events server reads (X-GitHub-Event), and
// ignoredEvents some it is sent but ignores: their example payloads are
// kept too, to show they are ignored.
var (
	webhookEvents = []string{"ping", "pull_request", "push", "check_suite"}
	ignoredEvents = []string{"status"}
)

type pkg struct{ name, version string }

func (p pkg) String() string { return p.name + "@" + p.version }

func main() {
	root := flag.String("root", ".", "the module root (where go.mod is)")
	flag.Parse()
	log.SetFlags(0)
	if err := run(context.Background(), *root); err != nil {
		log.Fatal("refresh: ", err)
	}
}

func run(ctx context.Context, root string) error {
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("run it from the module root or pass -root: %w", err)
	}
	tmp, err := os.MkdirTemp("", "kupdate-refresh-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	rest, err := fetch(ctx, tmp, restPkg, "package/generated/api.github.com.json")
	if err != nil {
		return err
	}
	schema, err := fetch(ctx, tmp, graphqlPkg, "package/schema.graphql")
	if err != nil {
		return err
	}
	hooks, err := fetch(ctx, tmp, webhooksPkg, "package/generated/api.github.com.json")
	if err != nil {
		return err
	}
	examples, err := fetch(ctx, tmp, examplesPkg, "package/api.github.com/index.json")
	if err != nil {
		return err
	}

	contract := filepath.Join(root, "workflow", "githubtest", "testdata", "contract")
	webhooks := filepath.Join(root, "server", "testdata", "webhooks")
	for _, out := range []struct {
		dir, name string
		trim      func() ([]byte, error)
	}{
		{contract, "api.github.com.json", func() ([]byte, error) { return trimREST(rest, operations) }},
		{contract, "schema.graphql", func() ([]byte, error) { return trimGraphQL(schema, graphqlFields) }},
		{webhooks, "openapi-webhooks.json", func() ([]byte, error) { return trimWebhooks(hooks, webhookEvents) }},
		{webhooks, "examples.json", func() ([]byte, error) {
			return trimExamples(examples, append(append([]string(nil), webhookEvents...), ignoredEvents...))
		}},
	} {
		b, err := out.trim()
		if err != nil {
			return fmt.Errorf("%s: %w", out.name, err)
		}
		if err := os.MkdirAll(out.dir, 0o755); err != nil {
			return err
		}
		path := filepath.Join(out.dir, out.name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
		log.Printf("wrote %s (%d bytes)", path, len(b))
	}
	return nil
}

// fetch downloads p with npm (the registry npm is configured for) and
// returns the named file of its tarball.
func fetch(ctx context.Context, dir string, p pkg, file string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "npm", "pack", "--silent", "--pack-destination", dir, p.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("npm pack %s: %w", p, err)
	}
	tgz := filepath.Join(dir, strings.TrimSpace(string(out)))
	f, err := os.Open(tgz)
	if err != nil {
		return nil, fmt.Errorf("npm pack %s: %w", p, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tgz, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s has no %s", p, file)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tgz, err)
		}
		if h.Name == file {
			return io.ReadAll(tr)
		}
	}
}
