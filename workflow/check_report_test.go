package workflow_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kupdate/kupdate/config"
	"github.com/kupdate/kupdate/workflow"
	"github.com/kupdate/kupdate/workflow/githubtest"
)

func TestPRRevisions(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	ctx := context.Background()
	base := f.sim.BranchSHA("NixOS", "nixpkgs", "staging-nixos")
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"), bump("linux_6_18", "6.18.2", "6.18.3"))
	res := syncOK(t, w, u)
	// The base moves on after the PR was opened: the merge base stays.
	_, err := f.sim.Commit("NixOS", "nixpkgs", "staging-nixos", map[string]string{"README": "later\n"}, "unrelated")
	must(t, err)
	f.sim.ResetRequests()

	got, err := w.PRRevisions(ctx, res[0].Number)
	must(t, err)
	want := &workflow.PRRevisions{
		Number: res[0].Number, URL: got.URL,
		Base: "staging-nixos", BaseSHA: f.sim.BranchSHA("NixOS", "nixpkgs", "staging-nixos"), HeadSHA: u.Head,
		MergeBase: base, Commits: 2,
		FetchURL: f.sim.GitURL("NixOS", "nixpkgs"), FetchRef: fmt.Sprintf("refs/pull/%d/head", res[0].Number),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("PRRevisions (-want +got):\n%s", d)
	}
	f.wantRequests(
		fmt.Sprintf("GET /repos/NixOS/nixpkgs/pulls/%d 200", res[0].Number),
		"GET /repos/NixOS/nixpkgs/compare/staging-nixos...kupdate-bot%3Akupdate%2Fstaging-nixos%2Fupdates?per_page=1 200",
	)

	// git can fetch the head from where PRRevisions says.
	dir := t.TempDir()
	f.git(dir, "init", "--quiet", "--bare", dir)
	f.git(dir, "fetch", "--quiet", got.FetchURL, "+"+got.FetchRef+":refs/pr")
	if sha := f.git(dir, "rev-parse", "refs/pr"); sha != u.Head {
		t.Errorf("fetched %s, want the head %s", sha, u.Head)
	}

	if _, err := w.PRRevisions(ctx, 999); err == nil || !strings.Contains(err.Error(), "read PR #999") {
		t.Errorf("PRRevisions(999) error = %v", err)
	}
}

// bodies records the JSON bodies sent to check-run endpoints, for asserting
// the annotations (the simulator keeps a run's output, not its annotations).
type bodies struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent []string // "METHOD path: body"
}

func (b *bodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && strings.Contains(r.URL.Path, "/check-runs") && r.Method != http.MethodGet {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		b.mu.Lock()
		b.sent = append(b.sent, r.Method+" "+r.URL.Path+": "+string(data))
		b.mu.Unlock()
	}
	return b.next.RoundTrip(r)
}

func (b *bodies) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.sent
	b.sent = nil
	return out
}

type sentRun struct {
	Conclusion string `json:"conclusion"`
	Output     struct {
		Title       string `json:"title"`
		Annotations []struct {
			Path      string `json:"path"`
			StartLine int    `json:"start_line"`
			Level     string `json:"annotation_level"`
			Message   string `json:"message"`
			Title     string `json:"title"`
		} `json:"annotations"`
	} `json:"output"`
}

func annotations(n int) []workflow.Annotation {
	var out []workflow.Annotation
	for i := 1; i <= n; i++ {
		out = append(out, workflow.Annotation{Path: "pkgs/os-specific/linux/kernel/kernels-org.json", Line: i, Level: "failure", Title: "hash", Message: fmt.Sprintf("finding %d", i)})
	}
	return out
}

func TestReportCheckAnnotatedApp(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	f := newFixture(t, func(c *config.Config) {
		c.GitHub.AppID, c.GitHub.InstallationID, c.GitHub.PrivateKeyFile = 42, 7, keyFile
	})
	f.sim.AddApp(42, 7, "kupdate", &key.PublicKey)
	rec := &bodies{next: f.opts.Transport}
	f.opts.Transport = rec
	w := f.workflow()
	ctx := context.Background()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	f.sim.ResetRequests()

	failing := workflow.CheckReport{
		Check:       workflow.Check{Name: workflow.CheckName, SHA: u.Head, State: workflow.Failure, Title: "51 findings", Summary: "the findings"},
		Annotations: annotations(51),
	}
	_, err = w.ReportCheckAnnotated(ctx, failing)
	must(t, err)
	runs := f.sim.CheckRuns("NixOS", "nixpkgs", u.Head)
	if len(runs) != 1 || runs[0].Name != "kupdate/check" || runs[0].Status != "completed" || runs[0].Conclusion != "failure" ||
		runs[0].Title != "51 findings" || runs[0].Summary != "the findings" {
		t.Errorf("check runs: %+v", runs)
	}
	reqs := writes(f.sim.Requests())
	wantWrites := []string{
		"POST /app/installations/7/access_tokens",
		"POST /repos/NixOS/nixpkgs/check-runs",
		fmt.Sprintf("PATCH /repos/NixOS/nixpkgs/check-runs/%d", runs[0].ID),
	}
	if d := cmp.Diff(wantWrites, reqs); d != "" {
		t.Errorf("writes (-want +got):\n%s", d)
	}
	sent := rec.take()
	if len(sent) != 2 {
		t.Fatalf("sent %d check-run bodies, want 2: %q", len(sent), sent)
	}
	var n []int
	for i, s := range sent {
		var run sentRun
		_, body, _ := strings.Cut(s, ": ")
		must(t, json.Unmarshal([]byte(body), &run))
		n = append(n, len(run.Output.Annotations))
		if i == 0 {
			a := run.Output.Annotations[0]
			if a.Path != "pkgs/os-specific/linux/kernel/kernels-org.json" || a.StartLine != 1 || a.Level != "failure" || a.Title != "hash" || a.Message != "finding 1" || run.Conclusion != "failure" {
				t.Errorf("first annotation %+v of %+v", a, run)
			}
		} else if a := run.Output.Annotations[0]; a.Message != "finding 51" || a.StartLine != 51 {
			t.Errorf("annotation of the update: %+v", a)
		}
	}
	if d := cmp.Diff([]int{50, 1}, n); d != "" {
		t.Errorf("annotations per request (-want +got):\n%s", d)
	}

	// The same result again writes nothing.
	f.sim.ResetRequests()
	acts, err := w.ReportCheckAnnotated(ctx, failing)
	must(t, err)
	if w := writes(f.sim.Requests()); len(w) != 0 || len(acts) != 0 {
		t.Errorf("second identical report wrote %v (actions %v)", w, acts)
	}

	// A check that could not verify fails, with its own title, in a new run
	// (an update would keep the old annotations).
	errored := workflow.CheckReport{
		Check:   workflow.Check{Name: workflow.CheckName, SHA: u.Head, State: workflow.Failure, Title: "could not verify 1 item against kernel.org", Summary: "kernel.org unreachable"},
		Errored: true, Annotations: []workflow.Annotation{{Path: "pkgs/os-specific/linux/kernel/kernels-org.json", Level: "warning", Message: "unreachable"}},
	}
	_, err = w.ReportCheckAnnotated(ctx, errored)
	must(t, err)
	runs = f.sim.CheckRuns("NixOS", "nixpkgs", u.Head)
	if len(runs) != 2 || runs[1].Conclusion != "failure" || runs[1].Title != "could not verify 1 item against kernel.org" {
		t.Errorf("check runs after the errored report: %+v", runs)
	}
	sent = rec.take()
	if len(sent) != 1 || !strings.Contains(sent[0], `"start_line":1,`) || !strings.Contains(sent[0], `"annotation_level":"warning"`) {
		t.Errorf("errored report sent %q", sent)
	}
	if _, err := w.ReportCheckAnnotated(ctx, workflow.CheckReport{Check: workflow.Check{Name: workflow.CheckName, SHA: u.Head, State: workflow.Success}, Errored: true}); err == nil {
		t.Error("an errored check reported success")
	}
}

func TestReportCheckAnnotatedStatus(t *testing.T) {
	f := newFixture(t)
	w := f.workflow()
	ctx := context.Background()
	u := f.push(rolling, bump("linux_6_12", "6.12.63", "6.12.64"))
	f.sim.ResetRequests()

	for _, tc := range []struct {
		r    workflow.CheckReport
		want githubtest.Status
	}{
		{
			workflow.CheckReport{Check: workflow.Check{Name: workflow.CheckName, SHA: u.Head, State: workflow.Failure, Title: "2 findings", Summary: "..."}, Annotations: annotations(2)},
			githubtest.Status{Context: "kupdate/check", State: "failure", Description: "2 findings", Creator: "kupdate-bot"},
		},
		{
			workflow.CheckReport{Check: workflow.Check{Name: workflow.CheckName, SHA: u.Head, State: workflow.Failure, Title: "could not verify 1 item against kernel.org"}, Errored: true},
			githubtest.Status{Context: "kupdate/check", State: "error", Description: "could not verify 1 item against kernel.org", Creator: "kupdate-bot"},
		},
		{
			workflow.CheckReport{Check: workflow.Check{Name: workflow.CheckName, SHA: u.Head, State: workflow.Success, Title: "1 kernel change verified against kernel.org"}},
			githubtest.Status{Context: "kupdate/check", State: "success", Description: "1 kernel change verified against kernel.org", Creator: "kupdate-bot"},
		},
	} {
		for range 2 { // the second report of the same result writes nothing
			_, err := w.ReportCheckAnnotated(ctx, tc.r)
			must(t, err)
		}
		st := f.sim.Statuses("NixOS", "nixpkgs", u.Head)
		if d := cmp.Diff(tc.want, st[len(st)-1]); d != "" {
			t.Errorf("latest status (-want +got):\n%s", d)
		}
	}
	if d := cmp.Diff([]string{
		"POST /repos/NixOS/nixpkgs/statuses/" + u.Head,
		"POST /repos/NixOS/nixpkgs/statuses/" + u.Head,
		"POST /repos/NixOS/nixpkgs/statuses/" + u.Head,
	}, writes(f.sim.Requests())); d != "" {
		t.Errorf("writes (-want +got):\n%s", d)
	}
}
