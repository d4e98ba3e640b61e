package main

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/kupdate/kupdate/demo"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// demoKnobs is the demo-only page of `kupdate demo --serve`: what happens
// upstream and on GitHub, done by a person through plain HTML forms (or
// curl) — publish a point release, sign it, let CI pass or fail, approve a
// PR. Each POST redirects back to the page, which says what was done.
type demoKnobs struct {
	world *demo.Env
	base  string // the front's URL, for the links
	mu    sync.Mutex
	said  string // what the last knob did
}

func newDemoKnobs(world *demo.Env, base string) http.Handler {
	k := &demoKnobs{world: world, base: base}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /demo/{$}", k.page)
	mux.HandleFunc("POST /demo/publish", k.act(k.publish))
	mux.HandleFunc("POST /demo/sign", k.act(k.sign))
	mux.HandleFunc("POST /demo/ci", k.act(k.ci))
	mux.HandleFunc("POST /demo/approve", k.act(k.approve))
	return mux
}

// act runs a knob on the request's form: its error is the caller's (400,
// naming the field), else the page says what it did.
func (k *demoKnobs) act(knob func(r *http.Request) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		said, err := knob(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		k.mu.Lock()
		k.said = said
		k.mu.Unlock()
		http.Redirect(w, r, "/demo/", http.StatusSeeOther)
	}
}

// publish is kernel.org publishing the next point release of the branch
// series names ("6.6": 6.6.126 -> 6.6.127); unsigned=1 leaves it out of
// the signed sha256sums.asc until /demo/sign.
func (k *demoKnobs) publish(r *http.Request) (string, error) {
	series := r.FormValue("series")
	next, cur, ok := nextPointRelease(k.world.KernelOrg.Releases(), series)
	if !ok {
		return "", fmt.Errorf("series %q: not a kernel.org branch with point releases that is not end of life (e.g. 6.6)", series)
	}
	sp := kernelorgtest.Spec{Version: next, Moniker: cur.Moniker, Date: k.world.Now().Format("2006-01-02")}
	if r.FormValue("unsigned") != "" {
		if err := k.world.PublishUnsigned(sp); err != nil {
			return "", err
		}
		return fmt.Sprintf("kernel.org published %s (%s), not signed yet: kupdate holds it until you sign it.", next, sp.Moniker), nil
	}
	if err := k.world.PublishRelease(sp); err != nil {
		return "", err
	}
	return fmt.Sprintf("kernel.org published %s (%s): the next cycle proposes it.", next, sp.Moniker), nil
}

// nextPointRelease is the release after series' current one on kernel.org.
func nextPointRelease(releases []kernelorgtest.Spec, series string) (next string, cur kernelorgtest.Spec, ok bool) {
	for _, sp := range releases {
		parts := strings.Split(sp.Version, ".")
		if len(parts) != 3 || parts[0]+"."+parts[1] != series || sp.EOL {
			continue
		}
		n, err := strconv.Atoi(parts[2])
		if err != nil {
			continue
		}
		return fmt.Sprintf("%s.%d", series, n+1), sp, true
	}
	return "", kernelorgtest.Spec{}, false
}

func (k *demoKnobs) sign(r *http.Request) (string, error) {
	v := r.FormValue("version")
	for _, u := range k.world.Unsigned() {
		if u == v {
			k.world.Sign(v)
			return fmt.Sprintf("kernel.org signed %s: the next cycle proposes it.", v), nil
		}
	}
	return "", fmt.Errorf("version %q: not a release kernel.org has published unsigned (unsigned now: %s)", v, strings.Join(k.world.Unsigned(), ", "))
}

// ci posts the simulated CI's status on the PR's head: state success or
// failure.
func (k *demoKnobs) ci(r *http.Request) (string, error) {
	n, err := k.prNumber(r)
	if err != nil {
		return "", err
	}
	state := r.FormValue("state")
	if state != "success" && state != "failure" {
		return "", fmt.Errorf("state %q: want success or failure", state)
	}
	pr, err := k.world.PR(n)
	if err != nil {
		return "", err
	}
	if err := k.world.SetCheck(pr.HeadSHA, demoCI, state); err != nil {
		return "", err
	}
	return fmt.Sprintf("CI reported %q %s on #%d.", demoCI, state, n), nil
}

func (k *demoKnobs) approve(r *http.Request) (string, error) {
	n, err := k.prNumber(r)
	if err != nil {
		return "", err
	}
	if err := k.world.MarkReady(n); err != nil {
		return "", err
	}
	if err := k.world.Approve(n); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s marked #%d ready for review and approved it: with CI green, the next cycle merges it.", demo.Maintainer, n), nil
}

// prNumber is the form's pr: an open PR of NixOS/nixpkgs.
func (k *demoKnobs) prNumber(r *http.Request) (int, error) {
	v := r.FormValue("pr")
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("pr %q: want the number of an open PR of %s/%s", v, demo.Owner, demo.Repo)
	}
	pr, err := k.world.PR(n)
	if err != nil {
		return 0, fmt.Errorf("pr %q: %w", v, err)
	}
	if pr.State != "open" {
		return 0, fmt.Errorf("pr %q: #%d is %s; want an open PR", v, n, pr.State)
	}
	return n, nil
}

func (k *demoKnobs) page(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	data := knobsPage{Said: k.said, Base: k.base, GitHub: k.world.GitHub.URL(), Maintainer: demo.Maintainer, CI: demoCI}
	k.mu.Unlock()
	unsigned := map[string]bool{}
	for _, v := range k.world.Unsigned() {
		unsigned[v] = true
	}
	for _, sp := range k.world.KernelOrg.Releases() {
		row := knobsRelease{Spec: sp, Unsigned: unsigned[sp.Version]}
		if parts := strings.Split(sp.Version, "."); len(parts) == 3 {
			row.Series = parts[0] + "." + parts[1]
			row.Next, _, _ = nextPointRelease([]kernelorgtest.Spec{sp}, row.Series)
		}
		data.Releases = append(data.Releases, row)
	}
	for _, pr := range k.world.PRs() {
		state := pr.State
		switch {
		case pr.Merged:
			state = "merged"
		case pr.Draft:
			state = "draft"
		}
		data.PRs = append(data.PRs, knobsPR{Number: pr.Number, Title: pr.Title, State: state, Head: pr.Head})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := knobsTemplate.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

type knobsPage struct {
	Said, Base, GitHub, Maintainer, CI string
	Releases                           []knobsRelease
	PRs                                []knobsPR
}

type knobsRelease struct {
	kernelorgtest.Spec
	Series, Next string // "" for a release with no point releases (mainline)
	Unsigned     bool
}

type knobsPR struct {
	Number             int
	Title, State, Head string
}

var knobsTemplate = template.Must(template.New("knobs").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kupdate demo: the knobs</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em}
table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left;border-bottom:1px solid #ddd}
form{display:inline}.said{background:#eef;padding:.5em}</style></head><body>
<h1>kupdate demo: the knobs</h1>
<p>Everything here is simulated: you are kernel.org, CI and {{.Maintainer}}. kupdate's <a href="/">status page</a>
shows what the service does about it on its next cycle (also <a href="/status.json">/status.json</a>,
<a href="/metrics">/metrics</a>; the simulated GitHub is at {{.GitHub}}).</p>
{{with .Said}}<p class="said" id="said">{{.}}</p>{{end}}
<h2>kernel.org</h2>
<table><tr><th>release</th><th>moniker</th><th></th></tr>
{{range .Releases}}<tr><td>{{.Version}}{{if .EOL}} (EOL){{end}}{{if .Unsigned}} (not signed yet){{end}}</td><td>{{.Moniker}}</td><td>
{{if .Unsigned}}<form method="post" action="/demo/sign"><input type="hidden" name="version" value="{{.Version}}"><button>Sign {{.Version}}</button></form>{{end}}
{{if and .Next (not .EOL)}}<form method="post" action="/demo/publish"><input type="hidden" name="series" value="{{.Series}}"><button>Publish {{.Next}}</button></form>
<form method="post" action="/demo/publish"><input type="hidden" name="series" value="{{.Series}}"><input type="hidden" name="unsigned" value="1"><button>Publish {{.Next}}, not signed yet</button></form>{{end}}
</td></tr>
{{end}}</table>
<h2>Pull requests on NixOS/nixpkgs</h2>
<table><tr><th>PR</th><th>title</th><th>state</th><th>branch</th><th></th></tr>
{{range .PRs}}<tr class="pr" id="pr-{{.Number}}"><td>#{{.Number}}</td><td>{{.Title}}</td><td>{{.State}}</td><td>{{.Head}}</td><td>
{{if or (eq .State "open") (eq .State "draft")}}<form method="post" action="/demo/ci"><input type="hidden" name="pr" value="{{.Number}}"><input type="hidden" name="state" value="success"><button>CI passes</button></form>
<form method="post" action="/demo/ci"><input type="hidden" name="pr" value="{{.Number}}"><input type="hidden" name="state" value="failure"><button>CI fails</button></form>
<form method="post" action="/demo/approve"><input type="hidden" name="pr" value="{{.Number}}"><button>Approve</button></form>{{end}}
</td></tr>
{{end}}</table>
<p>CI posts the status <code>{{.CI}}</code>. From a terminal: <code>curl -d series=6.6 {{.Base}}/demo/publish</code>, <code>/demo/sign</code> (version),
<code>/demo/ci</code> (pr, state), <code>/demo/approve</code> (pr).</p>
</body></html>
`))
