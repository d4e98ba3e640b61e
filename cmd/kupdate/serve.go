package main

import (
	"context"
	"net/http"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/server"
)

// stableStaging is a staging branch of a stable line, a promotion source
// with promote.stable.
var stableStaging = regexp.MustCompile(`^staging-nixos-\d\d\.\d\d$`)

// runServe is `kupdate serve`: the cycle on [serve] schedule, promotions on
// webhooks, the status page and /metrics, until SIGTERM (main's context).
func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if cfg, _, err = e.openState(cfg, true); err != nil {
		return err
	}
	m := server.NewMetrics(prometheus.NewRegistry())
	c, err := cycle.New(cfg, cycle.Options{
		Log: e.log, Getenv: e.getenv, Now: e.now, UserAgent: userAgent(),
		UpstreamTransport: m.InstrumentUpstream(http.DefaultTransport),
		GitHubTransport:   m.InstrumentGitHub(http.DefaultTransport),
		Metrics:           m,
		BuildEnv:          mirrorEnv(e.getenv),
	})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	opts := []server.Option{server.WithGetenv(e.getenv), server.WithBuildInfo(buildInfo())}
	if cfg.Promote.Stable {
		opts = append(opts, server.WithPromotionSource(stableStaging.MatchString))
	}
	s, err := server.New(cfg, c, m, e.log, opts...)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return s.Run(ctx)
}
