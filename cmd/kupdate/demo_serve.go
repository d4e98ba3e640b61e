package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/demo"
	"github.com/kupdate/kupdate/server"
)

// demoService is `kupdate demo --serve`: after the story, `kupdate serve`
// runs against the same world on a short schedule until ctx is done, with
// the demo's knobs (demoKnobs) beside its status page.
type demoService struct {
	out     io.Writer
	world   *demo.Env
	log     *slog.Logger
	noBuild bool
	front   net.Listener  // --listen: the status page and the knobs
	every   time.Duration // --every: the schedule
	kept    bool
}

// run serves until ctx is done. The service listens on a loopback port of
// its own; what the newcomer opens is the front on --listen, which shows
// the service's pages and adds /demo/.
func (d *demoService) run(ctx context.Context) error {
	cfg := d.world.Config
	cfg.Serve.Schedule = "@every " + d.every.String()
	cfg.Serve.Jitter = 0
	cfg.Serve.Listen = d.front.Addr().String()
	if err := d.world.SaveConfig(); err != nil {
		return err
	}
	envFile, err := d.world.WriteEnvFile()
	if err != nil {
		return err
	}
	s, err := d.server()
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	inner, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + d.front.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("/demo/", newDemoKnobs(d.world, base))
	mux.Handle("/", s.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(d.front)
	defer hs.Close()

	d.printService(base, envFile)
	if err := s.Serve(ctx, inner); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(d.out, "\nStopped: the service, its page and the knobs.\n")
	return nil
}

// server is `kupdate serve` as serve.go builds it, on the world's clock,
// tokens and mirrors.
func (d *demoService) server() (*server.Server, error) {
	m := server.NewMetrics(prometheus.NewRegistry())
	c, err := cycle.New(d.world.Config, cycle.Options{
		NoBuild:           d.noBuild,
		Log:               d.log,
		Getenv:            d.world.Getenv,
		Now:               d.world.Now,
		UserAgent:         "kupdate/" + buildVersion() + " (demo)",
		UpstreamTransport: m.InstrumentUpstream(http.DefaultTransport),
		GitHubTransport:   m.InstrumentGitHub(d.world.GitHub.Client().Transport),
		Metrics:           m,
		BuildEnv:          d.world.BuildEnv,
	})
	if err != nil {
		return nil, err
	}
	return server.New(d.world.Config, c, m, d.log,
		server.WithGetenv(d.world.Getenv), server.WithBuildInfo(buildInfo()), server.WithClock(worldClock{d.world.Now}))
}

func (d *demoService) printService(base, envFile string) {
	w := d.out
	cfg := filepath.Join(d.world.Dir, "config.toml")
	fmt.Fprintf(w, "\n== kupdate serve, against the same world, until Ctrl-C\n\n")
	fmt.Fprintf(w, "status page    %s/  (and /status.json, /metrics)\n", base)
	fmt.Fprintf(w, "schedule       a cycle every %s (serve.schedule \"@every %s\"); -v shows the service's log\n", d.every, d.every)
	fmt.Fprintf(w, "knobs          %s/demo/  be kernel.org, CI and %s (simulated), with buttons or curl:\n", base, demo.Maintainer)
	fmt.Fprintf(w, "  curl -d series=6.6 %s/demo/publish         kernel.org publishes the next 6.6 point release\n", base)
	fmt.Fprintf(w, "  curl -d series=6.6 -d unsigned=1 %s/demo/publish   ... not signed yet\n", base)
	fmt.Fprintf(w, "  curl -d version=6.6.127 %s/demo/sign       kernel.org signs it\n", base)
	fmt.Fprintf(w, "  curl -d pr=5 -d state=failure %s/demo/ci   CI fails (or state=success) on #5\n", base)
	fmt.Fprintf(w, "  curl -d pr=5 %s/demo/approve               %s marks #5 ready and approves it\n", base, demo.Maintainer)
	fmt.Fprintf(w, "configuration  %s\n", cfg)
	fmt.Fprintf(w, "environment    %s\n", envFile)
	fmt.Fprintf(w, "  (the tokens and mirrors the configuration names; valid while this runs) — from another shell:\n")
	fmt.Fprintf(w, "  set -a; . %s; set +a\n", envFile)
	fmt.Fprintf(w, "  kupdate --config %s status\n", cfg)
	if d.kept {
		fmt.Fprintf(w, "Ctrl-C stops the service and the simulators; %s stays.\n", d.world.Dir)
	} else {
		fmt.Fprintf(w, "Ctrl-C stops the service and the simulators and removes %s.\n", d.world.Dir)
	}
}

// worldClock is the service's clock: the world's time (the status page's
// "now" agrees with the PRs' dates), real timers.
type worldClock struct{ now func() time.Time }

func (c worldClock) Now() time.Time { return c.now() }
func (c worldClock) NewTimer(d time.Duration) server.Timer {
	return realTimer{time.NewTimer(d)}
}

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }
