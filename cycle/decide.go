package cycle

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/gitops"
)

// verdict is what the cycle does with a prepared branch.
type verdict int

const (
	proceed    verdict = iota // build, push and propose it
	keep                      // leave it exactly as proposed (the kept rule)
	leaveAlone                // someone else's commits are on it: not built, pushed or proposed
	unreadable                // what the fork's branch holds could not be told: not pushed
)

// decision is the second step's value: the verdict and the one read of the
// fork's branch it came from, which the build and publish steps use too.
type decision struct {
	verdict verdict
	kept    []Withheld        // keep: the commits the branch as built would withdraw
	fork    gitops.PushResult // what the fork's branch holds; Outcome "" when it was not read
	err     error             // unreadable: why; leaveAlone: whose commits
}

// read reports whether the fork's branch was read.
func (d decision) read() bool { return d.fork.Outcome != "" }

// decide reads the fork's branch once, when a rule needs it, and decides:
// a rolling branch that would withdraw commits already proposed for a
// reason that is not theirs is kept as it is; a branch with someone
// else's commits is left alone (before hours of building are spent on a
// branch that cannot be pushed). The fork is read when the kept rule may
// apply (a change could not be verified this cycle, or --only), when
// something must be built, and in a dry run (whose publish step is that
// read).
func (c *Cycle) decide(ctx context.Context, ps *pass, p *planned, prep prepared, bp buildPlan) (decision, error) {
	var why func(family.Key) (Withheld, bool)
	if p.rolling {
		why = unverified(ps.held, failedByAttr(prep.left), c.o.Only)
	}
	var d decision
	if why == nil && !(c.building() && len(bp.missing) > 0) && !c.o.DryRun {
		return d, nil
	}
	d.fork = ps.repo.PushDryRun(ctx, c.fork(), []gitops.BuiltBranch{prep.built})[0]
	if err := ctx.Err(); err != nil {
		return d, err
	}
	return judge(d.fork, why, prep, func(k family.Key) bool { return c.families.Ahead(ps.tree, k) }), nil
}

// judge is the decision rule, from what the fork's branch holds.
func judge(fork gitops.PushResult, why func(family.Key) (Withheld, bool), prep prepared, ahead func(family.Key) bool) decision {
	d := decision{fork: fork}
	if why != nil {
		if fork.Outcome == gitops.Rejected && fork.Head.IsZero() && fork.Err != nil {
			d.verdict, d.err = unreadable, fmt.Errorf("%s: checking what the fork's branch holds: %w", prep.built.Name, fork.Err)
			return d
		}
		in := map[string]bool{}
		for _, cm := range prep.commits {
			in[cm.Change.Attr] = true
		}
		if d.kept = keptCommits(fork.Previous, in, why, ahead); len(d.kept) > 0 {
			d.verdict = keep
			return d
		}
	}
	if fork.Outcome == gitops.SkippedForeign {
		d.verdict, d.err = leaveAlone, fork.Err
	}
	return d
}

// failedByAttr are the changes left out because they failed, by attribute.
func failedByAttr(left map[family.Key]leftOut) map[string]error {
	out := map[string]error{}
	for k, l := range left {
		if l.err != nil {
			out[k.Attr] = l.err
		}
	}
	return out
}

// logDecision says in the log what decide decided, when it is not to
// proceed.
func logDecision(ctx context.Context, log *slog.Logger, d decision) {
	switch d.verdict {
	case keep:
		for _, k := range d.kept {
			lvl := slog.LevelWarn
			if k.Only {
				lvl = slog.LevelInfo // what --only asks for
			}
			log.Log(ctx, lvl, "cycle: branch kept as proposed", "withheld", k.Title, "reason", k.Reason)
		}
	case leaveAlone:
		log.Info("cycle: branch left alone: not built", "error", d.err)
	case unreadable:
		log.Error("cycle: cannot tell what the fork's branch holds; not pushed", "error", d.err)
	}
}
