package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// kupdate serve is wired: the status page shows the branches the last
// cycle left (here a `kupdate run` before), /metrics has kupdate's metrics,
// and the end of its context stops it cleanly.
func TestServeCommand(t *testing.T) {
	t.Parallel()
	world, cfg, env := demoWorld(t)
	if code, stdout, stderr := runInWorld(t, world, env, "--config", cfg, "run", "--no-build"); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "listen = '127.0.0.1:8380'", "listen = '"+addr+"'", 1)
	text = strings.Replace(text, "schedule = '17 * * * *'", "schedule = '0 0 1 1 *'", 1)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	var stderr strings.Builder
	go func() {
		done <- runWith(ctx, []string{"--config", cfg, "serve"}, io.Discard, &stderr, func(k string) string { return env[k] }, world.Now)
	}()
	get := func(path string) string {
		for i := 0; ; i++ {
			resp, err := http.Get("http://" + addr + path)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return string(b)
			}
			if i == 500 {
				t.Fatalf("GET %s: %v", path, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got := get("/healthz"); !strings.HasPrefix(got, "ok") {
		t.Errorf("/healthz: %q", got)
	}
	if got := get("/status.json"); !strings.Contains(got, `"attr": "linux_6_12"`) || !strings.Contains(got, `"number": 1`) {
		t.Errorf("/status.json has no branches from the last cycle:\n%s", got)
	}
	metrics := get("/metrics")
	if !strings.Contains(metrics, "kupdate_cycles_total") {
		t.Errorf("/metrics:\n%.2000s", metrics)
	}
	// The run before succeeded: a restart does not read as "never".
	var last float64
	if i := strings.Index(metrics, "\nkupdate_last_success_timestamp_seconds "); i < 0 {
		t.Error("/metrics has no kupdate_last_success_timestamp_seconds")
	} else if _, err := fmt.Sscan(metrics[i+len("\nkupdate_last_success_timestamp_seconds "):], &last); err != nil ||
		last < float64(world.Now().Add(-time.Hour).Unix()) || last > float64(world.Now().UnixNano())/1e9 {
		t.Errorf("kupdate_last_success_timestamp_seconds = %v (%v), want the run's end, within the last hour of %v", last, err, world.Now())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve: exit %d\n%s", code, stderr.String())
	}
}
