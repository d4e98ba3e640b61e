package families_test

import (
	"context"
	"os"
	"testing"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/families"
	"github.com/kupdate/kupdate/family/xanmod"
	"github.com/kupdate/kupdate/family/zen"
	"github.com/kupdate/kupdate/gitlabtest"
	"github.com/kupdate/kupdate/srcarchive/srcarchivetest"
	"github.com/kupdate/kupdate/updater"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

// BenchmarkIdlePlanZenXanmod is what the zen and xanmod families cost a
// cycle with nothing new, through the registry as the cycle builds it
// (families.New with the configuration's GitHub and GitLab): a tree with
// zen-kernels.nix and xanmod-kernels.nix at their upstreams' newest
// releases, sources that listed them before (a running service). Reported
// per plan: requests to each forge, and GitHub's counted against its rate
// limit.
func BenchmarkIdlePlanZenXanmod(b *testing.B) {
	gh, err := githubtest.New(githubtest.Options{Root: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer gh.Close()
	gl := gitlabtest.New()
	defer gl.Close()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(gh.CreateRepo("zen-kernel", "zen-kernel", "main"))
	for _, tag := range []string{"v6.17.9-lqx1", "v6.17.9-zen1"} {
		must(gh.PublishRelease("zen-kernel", "zen-kernel", githubtest.Release{Tag: tag, Source: srcarchivetest.Kernel("z", tag)}))
	}
	must(gl.CreateProject("xanmod/linux"))
	for _, r := range [][2]string{{"lts", "6.12.60-xanmod1"}, {"main", "6.17.9-xanmod1"}} {
		must(gl.PublishRelease("xanmod/linux", gitlabtest.Release{Tag: r[1],
			Links: []gitlabtest.Link{{Name: "https://sourceforge.net/projects/xanmod/files/releases/" + r[0] + "/" + r[1] + "/"}}}))
	}
	cfg := config.Default()
	cfg.GitHub.APIURL, cfg.GitLab.APIURL = gh.APIURL(), gl.APIURL()
	cfg.Nixpkgs.CacheDir = b.TempDir()
	reg := families.New(families.Sources{Config: &cfg, GitHubTransport: gh.Client().Transport, GitLabTransport: gl.Client().Transport})
	files := map[string][]byte{}
	for path, file := range map[string]string{zen.Path: "../family/zen/testdata/zen-kernels-6.17.9.nix", xanmod.Path: "../family/xanmod/testdata/xanmod-kernels.nix"} {
		files[path], err = os.ReadFile(file)
		must(err)
	}
	tr, err := reg.Load(files)
	must(err)
	planner := &updater.Planner{Families: reg}
	_, err = planner.Plan(context.Background(), tr)
	must(err)
	gh.ResetRequests()
	gl.ResetRequests()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := planner.Plan(context.Background(), tr)
		if err != nil || len(p.Changes)+len(p.Held)+len(p.Skipped) != 0 {
			b.Fatalf("an idle plan planned %+v, %v", p, err)
		}
	}
	b.StopTimer()
	counted := 0
	for _, r := range gh.Requests() {
		if r.Counted {
			counted++
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(len(gh.Requests()))/n, "github-requests/plan")
	b.ReportMetric(float64(counted)/n, "github-counted/plan")
	b.ReportMetric(float64(len(gl.Requests()))/n, "gitlab-requests/plan")
	not := 0
	for _, r := range gl.Requests() {
		if r.Status == 304 {
			not++
		}
	}
	b.ReportMetric(float64(not)/n, "gitlab-304/plan")
}
