package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer the command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// patience bounds every wait of TestDemoServe: generous, for a loaded
// machine; the test asserts what happens, never how fast.
const patience = 10 * time.Minute

// `kupdate demo --serve`: after the story the service runs against the
// world; its status page answers on --listen, a publish on the knobs page
// leads to a PR on a following scheduled cycle, the kept configuration
// works from outside with demo.env, and cancelling (Ctrl-C) stops it all
// with exit 0.
func TestDemoServe(t *testing.T) {
	t.Parallel()
	keep := filepath.Join(t.TempDir(), "demo")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--no-build", "--keep", keep, "--serve", "--listen", "127.0.0.1:0", "--every", "1s"}, out, errb, func(string) string { return "" })
	}()

	base := awaitServing(t, out, errb, done)
	for _, l := range strings.Split(out.String(), "\n") {
		if columns(l) > demoWidth {
			t.Errorf("line %d columns wide: %s", columns(l), l)
		}
	}
	if body := get(t, base+"/"); !strings.Contains(body, "<title>kupdate status</title>") {
		t.Errorf("the status page at %s/ is not kupdate's:\n%.300s", base, body)
	}
	k := knobsClient{t: t, base: base}
	k.page(`<form method="post" action="/demo/publish"><input type="hidden" name="series" value="6.6"><button>Publish 6.6.127</button></form>`)
	k.refused("/demo/publish", url.Values{"series": {"9.9"}}, `series "9.9": not a kernel.org branch with point releases that is not end of life (e.g. 6.6)`)
	k.refused("/demo/approve", url.Values{"pr": {"1"}}, `pr "1": #1 is closed; want an open PR`)
	k.post("/demo/publish", url.Values{"series": {"6.6"}}, "kernel.org published 6.6.127 (longterm): the next cycle proposes it.")

	// A scheduled cycle opens a new rolling PR (#1 was merged in the story).
	want := `{"branch":"6.6","attr":"linux_6_6","nixpkgs":"6.6.126","kernel_org":"6.6.127","pr":5,"state":"draft"}`
	got := ""
	for deadline := time.Now().Add(patience); got != want && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		got = branchRow(t, get(t, base+"/status.json"), "linux_6_6")
	}
	if got != want {
		t.Fatalf("status.json's 6.6 row: %s\nwant %s\nstderr:\n%s", got, want, errb.String())
	}
	k.page(`<tr class="pr" id="pr-5"><td>#5</td><td>kernel updates for 2026-04-30</td><td>draft</td><td>kupdate/staging-nixos/updates</td>`)
	keptConfigWorks(t, keep)

	// CI and the reviewer: a following cycle merges #5.
	k.post("/demo/ci", url.Values{"pr": {"5"}, "state": {"success"}}, `CI reported "ci/hydra (simulated)" success on #5.`)
	k.post("/demo/approve", url.Values{"pr": {"5"}}, "demo-maintainer marked #5 ready for review and approved it: with CI green, the next cycle merges it.")
	k.await(`<tr class="pr" id="pr-5"><td>#5</td><td>kernel updates for 2026-04-30</td><td>merged</td>`)

	// A release kernel.org has not signed yet, then signs.
	k.post("/demo/publish", url.Values{"series": {"6.1"}, "unsigned": {"1"}}, "kernel.org published 6.1.164 (longterm), not signed yet: kupdate holds it until you sign it.")
	k.page(`<button>Sign 6.1.164</button>`)
	k.refused("/demo/sign", url.Values{"version": {"6.1.163"}}, `version "6.1.163": not a release kernel.org has published unsigned (unsigned now: 6.1.164)`)
	k.post("/demo/sign", url.Values{"version": {"6.1.164"}}, "kernel.org signed 6.1.164: the next cycle proposes it.")

	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(out.String(), "\nStopped: the service, its page and the knobs.\n") {
			t.Errorf("after cancel: exit %d, stdout ends:\n%s\nstderr:\n%s", code, tail(out.String()), errb.String())
		}
	case <-time.After(patience):
		t.Fatal("the demo did not stop after its context was cancelled")
	}
	for _, f := range []string{"config.toml", "demo.env", "github/NixOS/nixpkgs.git/HEAD"} {
		if _, err := os.Stat(filepath.Join(keep, f)); err != nil {
			t.Errorf("--keep: %v", err)
		}
	}
}

// knobsClient drives the knobs page of a running demo --serve.
type knobsClient struct {
	t    *testing.T
	base string
}

// post submits a form as its button does: 303 back to /demo/, which then
// says said.
func (k knobsClient) post(path string, form url.Values, said string) {
	k.t.Helper()
	code, loc, body := k.submit(path, form)
	if code != http.StatusSeeOther || loc != "/demo/" {
		k.t.Fatalf("POST %s %v: %d, Location %q, %s", path, form, code, loc, body)
	}
	k.page(`<p class="said" id="said">` + template.HTMLEscapeString(said) + `</p>`)
}

// refused expects a form to be refused with 400 and msg.
func (k knobsClient) refused(path string, form url.Values, msg string) {
	k.t.Helper()
	if code, _, body := k.submit(path, form); code != http.StatusBadRequest || body != msg+"\n" {
		k.t.Errorf("POST %s %v: %d %q, want 400 %q", path, form, code, body, msg)
	}
}

func (k knobsClient) submit(path string, form url.Values) (code int, location, body string) {
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(k.base+path, form)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// page expects the knobs page to hold html now.
func (k knobsClient) page(html string) {
	k.t.Helper()
	if body := get(k.t, k.base+"/demo/"); !strings.Contains(body, html) {
		k.t.Errorf("the knobs page has no %s:\n%s", html, body)
	}
}

// await polls the knobs page until it holds html (a cycle did something).
func (k knobsClient) await(html string) {
	k.t.Helper()
	body := ""
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if body = get(k.t, k.base+"/demo/"); strings.Contains(body, html) {
			return
		}
	}
	k.t.Fatalf("after %s, the knobs page still has no %s:\n%s", patience, html, body)
}

// awaitServing waits for the service's address in the demo's output.
func awaitServing(t *testing.T, out, errb *syncBuffer, done <-chan int) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^status page +(http://127\.0\.0\.1:\d+)/ `)
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("demo --serve ended (exit %d) before serving:\n%s\nstderr:\n%s", code, out.String(), errb.String())
		default:
		}
	}
	t.Fatalf("no status page line after %s:\n%s", patience, out.String())
	return ""
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", u, resp.Status, err, b)
	}
	return string(b)
}

// branchRow is status.json's row of attr, as the fields the test looks at.
func branchRow(t *testing.T, statusJSON, attr string) string {
	t.Helper()
	var st struct {
		Branches []struct {
			Branch, Attr, Nixpkgs string
			KernelOrg             string `json:"kernel_org"`
			PR                    *struct {
				Number int
				State  string
			}
		}
	}
	if err := json.Unmarshal([]byte(statusJSON), &st); err != nil {
		t.Fatalf("status.json: %v\n%s", err, statusJSON)
	}
	for _, b := range st.Branches {
		if b.Attr != attr {
			continue
		}
		row := struct {
			Branch    string `json:"branch"`
			Attr      string `json:"attr"`
			Nixpkgs   string `json:"nixpkgs"`
			KernelOrg string `json:"kernel_org"`
			PR        int    `json:"pr"`
			State     string `json:"state"`
		}{Branch: b.Branch, Attr: b.Attr, Nixpkgs: b.Nixpkgs, KernelOrg: b.KernelOrg}
		if b.PR != nil {
			row.PR, row.State = b.PR.Number, b.PR.State
		}
		j, _ := json.Marshal(row)
		return string(j)
	}
	return "no row for " + attr
}

// keptConfigWorks runs `kupdate status` on the kept config.toml with the
// variables of demo.env, as a newcomer's second shell would.
func keptConfigWorks(t *testing.T, keep string) {
	t.Helper()
	f, err := os.Open(filepath.Join(keep, "demo.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			vars[k] = v
		}
	}
	for _, k := range []string{"KUPDATE_DEMO_GITHUB_TOKEN", "KUPDATE_DEMO_GIT_TOKEN", "KUPDATE_KERNEL_MIRROR", "KUPDATE_GITHUB_MIRROR"} {
		if vars[k] == "" {
			t.Errorf("demo.env has no %s", k)
		}
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--config", filepath.Join(keep, "config.toml"), "status"}, &out, &errb, func(k string) string { return vars[k] })
	if code != 0 || !regexp.MustCompile(`(?m)^6\.6 .*6\.6\.127`).MatchString(out.String()) {
		t.Errorf("kupdate status with the kept config and demo.env: exit %d\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
}

func tail(s string) string {
	if len(s) > 600 {
		return s[len(s)-600:]
	}
	return s
}
