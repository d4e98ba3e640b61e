package fetch_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kupdate/kupdate/fetch"
)

// A URL's body is asked for again conditionally, and a 304 answered with
// the kept body; a server that sends no validators is asked in full.
func TestBodiesConditional(t *testing.T) {
	etag := map[string]string{"ETag": `"v1"`, "Last-Modified": "Tue, 05 Jan 2026 10:00:00 GMT"}
	srv := serve(t, answer{header: etag, body: "v1"}, answer{status: 304}, answer{header: map[string]string{"ETag": `"v2"`}, body: "v2"}, answer{status: 304})
	c := client("example.org", &sleeps{})
	var kept fetch.Bodies
	ctx := context.Background()
	for i, want := range []string{"v1", "v1", "v2", "v2"} {
		got, err := c.GetBody(ctx, fetch.Request{URL: srv.URL}, &kept)
		if err != nil || string(got) != want {
			t.Errorf("GetBody %d = %q, %v; want %q", i, got, err, want)
		}
	}
	wantINM := []string{"", `"v1"`, `"v1"`, `"v2"`}
	wantIMS := []string{"", etag["Last-Modified"], etag["Last-Modified"], ""}
	for i := range wantINM {
		if inm, ims := srv.header(i, "If-None-Match"), srv.header(i, "If-Modified-Since"); inm != wantINM[i] || ims != wantIMS[i] {
			t.Errorf("request %d: If-None-Match %q, If-Modified-Since %q; want %q, %q", i, inm, ims, wantINM[i], wantIMS[i])
		}
	}
	if s := c.Stats(); s.Requests != 4 || s.NotModified != 2 || s.Bytes != 4 {
		t.Errorf("stats %+v, want 4 requests, 2 answered 304, 4 bytes", s)
	}

	// Without validators nothing is kept: every request is in full.
	plain := serve(t, answer{body: "x"})
	for range 2 {
		if _, err := c.GetBody(ctx, fetch.Request{URL: plain.URL}, &kept); err != nil {
			t.Fatal(err)
		}
	}
	if inm := plain.header(1, "If-None-Match"); inm != "" {
		t.Errorf("asked conditionally on nothing: %q", inm)
	}
}

// A body the caller found bad is forgotten: the next request is in full,
// so a bad copy heals by itself.
func TestBodiesForget(t *testing.T) {
	srv := serve(t, answer{header: map[string]string{"ETag": `"v1"`}, body: "v1"})
	c := client("example.org", &sleeps{})
	kept := fetch.Bodies{Disk: fetch.Store{Dir: t.TempDir()}}
	ctx := context.Background()
	if _, err := c.GetBody(ctx, fetch.Request{URL: srv.URL}, &kept); err != nil {
		t.Fatal(err)
	}
	kept.Forget(srv.URL)
	if _, err := c.GetBody(ctx, fetch.Request{URL: srv.URL}, &kept); err != nil {
		t.Fatal(err)
	}
	if inm := srv.header(1, "If-None-Match"); inm != "" {
		t.Errorf("after Forget: If-None-Match %q, want none", inm)
	}
	kept.Forget(srv.URL)
	if ents, _ := os.ReadDir(kept.Disk.Dir); len(ents) != 0 {
		t.Errorf("after Forget, the disk keeps %v", ents)
	}
}

// With a Disk, a new process (new Bodies, new Client) asks conditionally
// and gets the body from the disk on a 304, in kernelorg's format.
func TestBodiesOnDisk(t *testing.T) {
	srv := serve(t, answer{header: map[string]string{"ETag": `"v1"`}, body: "v1\nsecond line"}, answer{status: 304})
	dir := t.TempDir()
	ctx := context.Background()
	name := func(string) string { return "list.entry" }
	first := fetch.Bodies{Disk: fetch.Store{Dir: dir}, Name: name}
	if _, err := client("example.org", &sleeps{}).GetBody(ctx, fetch.Request{URL: srv.URL}, &first); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "list.entry"))
	want := `{"url":"` + srv.URL + `","etag":"\"v1\"","sha256":"e78d76659f193abdebf64ad30ed5ceedce1ab35e9c24b786703a16d6f71af366"}` + "\nv1\nsecond line"
	if err != nil || string(data) != want {
		t.Errorf("the file holds\n%s\nwant\n%s", data, want)
	}
	second := fetch.Bodies{Disk: fetch.Store{Dir: dir}, Name: name}
	c := client("example.org", &sleeps{})
	got, err := c.GetBody(ctx, fetch.Request{URL: srv.URL}, &second)
	if err != nil || string(got) != "v1\nsecond line" {
		t.Errorf("new process: %q, %v", got, err)
	}
	if s := c.Stats(); s.NotModified != 1 || s.Bytes != 0 {
		t.Errorf("new process: stats %+v, want one 304", s)
	}
}

// A damaged or foreign file is ignored and logged, naming the server.
func TestStoreIgnores(t *testing.T) {
	for _, c := range []struct {
		name, data, log string
	}{
		{"no header line", `{"url":`, `level=WARN msg="ignoring a corrupt kernel.org cache file; fetching in full" file=%FILE% error="no header line"`},
		{"bad digest", `{"url":"%URL%","etag":"x","sha256":"00"}` + "\nbody", `level=WARN msg="ignoring a corrupt kernel.org cache file (its body does not match its digest); fetching in full" file=%FILE%`},
		{"another URL", `{"url":"https://mirror.example/x","etag":"x","sha256":"230d8358dc8e8890b4c58deeb62912ee2f20357ae92a5cc861b98e68fe31acb5"}` + "\nbody", `level=INFO msg="ignoring a kernel.org cache file of another URL" file=%FILE% cached=https://mirror.example/x url=%URL%`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := fetch.Store{Dir: t.TempDir(), Server: "kernel.org", Log: slog.New(slog.NewTextHandler(&logs, nil))}
			url := "https://kernel.org/x"
			if err := os.WriteFile(s.File("x.entry"), []byte(strings.ReplaceAll(c.data, "%URL%", url)), 0o644); err != nil {
				t.Fatal(err)
			}
			if b, ok := s.Load("x.entry", url); ok {
				t.Errorf("loaded %+v", b)
			}
			if want := strings.NewReplacer("%FILE%", s.File("x.entry"), "%URL%", url).Replace(c.log); !strings.Contains(logs.String(), want) {
				t.Errorf("log:\n%s\nwant a line with\n%s", logs.String(), want)
			}
		})
	}
}
