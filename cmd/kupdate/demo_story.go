package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/demo"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
	"github.com/kupdate/kupdate/workflow"
)

// unsignedRelease is the story's failure: a point release kernel.org has
// published but not yet listed in its signed sha256sums.asc.
var unsignedRelease = kernelorgtest.Spec{Version: "6.6.126", Moniker: "longterm", Date: "2026-04-30"}

// story is `kupdate demo`'s three cycles and a promotion, with what happens
// between them done by the demo and labelled as simulated.
type story struct {
	out     io.Writer
	world   *demo.Env
	c       *cycle.Cycle
	log     *slog.Logger
	noBuild bool
	// carrier is the PR carrying most changes (the rolling one): its body
	// is the one the story shows.
	carrier int
}

func (s *story) tell(ctx context.Context) error {
	simulated(s.out, "Before cycle 1", fmt.Sprintf("kernel.org publishes %s (%s), but its signed sha256sums.asc does not list it yet",
		unsignedRelease.Version, unsignedRelease.Moniker))
	if err := s.world.PublishUnsigned(unsignedRelease); err != nil {
		return err
	}
	rep, err := s.cycle(ctx, 1, "poll kernel.org, plan, apply, build, commit, push, open PRs")
	if err != nil {
		return err
	}
	if s.carrier = carrierPR(rep); s.carrier == 0 {
		return errors.New("cycle 1 opened no PR: the demo cannot go on")
	}
	if slices.ContainsFunc(rep.Held, func(n family.Note) bool { return n.Branch == "6.6" && n.Err == nil }) {
		s.say(fmt.Sprintf("The failure: kernel.org has not signed %s's checksum, and kupdate writes no hash kernel.org has not signed. "+
			"It held %s back (the \"held:\" line) and proposed the newest 6.6 release the signed file lists instead, so #%d still "+
			"carries 6.6's earlier fixes; everything else went on, and every cycle looks again.",
			unsignedRelease.Version, unsignedRelease.Version, s.carrier))
	}

	simulated(s.out, "Between cycles", "kernel.org signs "+unsignedRelease.Version+" and publishes 6.12.71 (longterm); linux-hardened publishes v6.12.71-hardened1")
	s.world.Sign(unsignedRelease.Version)
	if err := s.world.PublishRelease(kernelorgtest.Spec{Version: "6.12.71", Moniker: "longterm", Date: "2026-04-30"}); err != nil {
		return err
	}
	if err := s.world.PublishHardened("v6.12.71-hardened1"); err != nil {
		return err
	}
	if _, err = s.cycle(ctx, 2, "the signed 6.6 and the newer 6.12 go into the rolling PR"); err != nil {
		return err
	}

	pr, err := s.world.PR(s.carrier)
	if err != nil {
		return err
	}
	simulated(s.out, "Between cycles", fmt.Sprintf("CI reports %q success on #%d; %s marks it ready for review and approves it", demoCI, s.carrier, demo.Maintainer))
	if err := s.world.SetCheck(pr.HeadSHA, demoCI, "success"); err != nil {
		return err
	}
	if err := s.world.MarkReady(s.carrier); err != nil {
		return err
	}
	if err := s.world.Approve(s.carrier); err != nil {
		return err
	}
	if rep, err = s.cycle(ctx, 3, "nothing new upstream; merging and promotion"); err != nil {
		return err
	}
	return s.promote(ctx, rep)
}

// cycle runs one cycle and prints its summary; a failed cycle ends the
// story.
func (s *story) cycle(ctx context.Context, n int, what string) (*cycle.Report, error) {
	fmt.Fprintf(s.out, "\n== Cycle %d: kupdate run — %s\n\n", n, what)
	rep, err := s.c.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("cycle %d: %w", n, err)
	}
	if err := writeDemoSummary(indent(s.out), rep); err != nil {
		return nil, err
	}
	s.say(cycleFacts(rep, s.world.Config.Build.Tiers, s.noBuild))
	if err := rep.Err(); err != nil {
		for _, b := range rep.Branches {
			if !b.Build.OK() {
				return nil, fmt.Errorf("cycle %d: %w\n(a Nix build failed: see the summary above; check that nix-build works here, or run the demo with --no-build)", n, err)
			}
		}
		return nil, fmt.Errorf("cycle %d: %w", n, err)
	}
	return rep, nil
}

// promote lets CI pass on the promotion PR cycle 3 opened and runs the
// promotion step alone, as `kupdate promote` does.
func (s *story) promote(ctx context.Context, rep *cycle.Report) error {
	promo := promotionPR(rep)
	if promo == 0 {
		return nil
	}
	pr, err := s.world.PR(promo)
	if err != nil {
		return err
	}
	simulated(s.out, "Between cycles", fmt.Sprintf("CI reports %q success on #%d", demoCI, promo))
	if err := s.world.SetCheck(pr.HeadSHA, demoCI, "success"); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "\n== kupdate promote — the %s -> %s step alone\n\n", demo.Base, demo.Target)
	wf, err := workflow.New(s.world.Config, workflow.Options{Getenv: s.world.Getenv, Clock: s.world.Now, Log: s.log, Transport: s.world.GitHub.Client().Transport})
	if err != nil {
		return err
	}
	results, err := wf.Promote(ctx)
	for _, r := range results {
		fmt.Fprintf(s.out, "  %s\n", cycle.PromotionLine(r, true))
	}
	if err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	return nil
}

// say prints a paragraph of the story, indented and wrapped.
func (s *story) say(text string) {
	var b strings.Builder
	wrapLine(&b, "  ", text, "  ", demoWidth)
	fmt.Fprintf(s.out, "\n%s", b.String())
}

// carrierPR is the number of the PR whose branch carries most of rep's
// changes (the rolling one), 0 if no branch has a PR.
func carrierPR(rep *cycle.Report) int {
	n, most := 0, 0
	for _, b := range rep.Branches {
		if b.PR != nil && b.PR.Number != 0 && len(b.Changes) > most {
			n, most = b.PR.Number, len(b.Changes)
		}
	}
	return n
}
