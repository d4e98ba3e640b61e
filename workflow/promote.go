package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v92/github"

	"github.com/kupdate/kupdate/config"
)

// PromoteResult is what Promote did for one pair.
type PromoteResult struct {
	From, To string
	Ahead    int // commits From has that To lacks
	Number   int // the promotion PR; 0 when none (or, in a dry run, would be opened)
	URL      string
	// Outcome: UpToDate, Opened, Open (merging off), Declined (closed by a
	// maintainer at this head), Waiting, NoChecks, Failing, Merged or
	// Enqueued; in a dry run WouldOpen, WouldMerge or WouldEnqueue instead
	// of the outcome of a write.
	Outcome Outcome
	Reason  string
	Actions []string
	Err     error
}

// Promote brings each staging branch into its target (promote.pairs, plus
// with promote.stable every staging-nixos-YY.MM into release-YY.MM): when
// the staging branch is ahead it finds or opens the PR "<from> merge for
// YYYY-MM-DD", and with promote.merge merges it once every status check on
// its head is green (at least one; "no checks yet" is never green), or adds
// it to the target's merge queue when the target has one. A pair that fails
// does not stop the others.
func (w *Workflow) Promote(ctx context.Context) ([]PromoteResult, error) {
	run := &runState{}
	pairs := append([]config.Pair(nil), w.promote.Pairs...)
	if w.promote.Stable {
		if err := w.discover(ctx, run); err != nil {
			return nil, err
		}
		for _, s := range run.stagings {
			for _, r := range run.releases {
				if r == s {
					pairs = appendPair(pairs, config.Pair{From: "staging-nixos-" + s, To: "release-" + s})
				}
			}
		}
	}
	var errs []error
	var out []PromoteResult
	for _, p := range pairs {
		var res PromoteResult
		var acts []string
		err := w.converge(ctx, func(ctx context.Context) error {
			res = PromoteResult{From: p.From, To: p.To}
			return w.promoteOne(ctx, p, &res, &acts)
		})
		res.Actions, res.Err = acts, err
		if err != nil {
			w.log.Error("github: promotion failed", "from", p.From, "to", p.To, "err", err)
			errs = append(errs, err)
		} else {
			w.log.Info("github: promotion", "from", p.From, "to", p.To, "pr", res.Number, "outcome", res.Outcome, "reason", res.Reason)
		}
		out = append(out, res)
	}
	return out, errors.Join(errs...)
}

func appendPair(ps []config.Pair, p config.Pair) []config.Pair {
	for _, x := range ps {
		if x == p {
			return ps
		}
	}
	return append(ps, p)
}

func promotionBody(p config.Pair, merge bool) string {
	how := fmt.Sprintf("kupdate merges it (or adds it to the merge queue of `%s`) once every status check on its head is green; while no check has reported, it waits.", p.To)
	if !merge {
		how = "kupdate does not merge it (promote.merge is off): a person merges it once every status check is green."
	}
	return fmt.Sprintf("<!-- kupdate: promote %s -> %s -->\nBrings `%s` into `%s`, as nixpkgs' kernel process does once every status check is green.\n\n%s\n\n---\n\n%s\n",
		p.From, p.To, p.From, p.To, how, Disclosure)
}

func (w *Workflow) promoteOne(ctx context.Context, p config.Pair, res *PromoteResult, acts *[]string) error {
	var cmp *github.CommitsComparison
	err := w.read(ctx, fmt.Sprintf("compare %s...%s", p.To, p.From), func(ctx context.Context) error {
		var err error
		cmp, _, err = w.gh.Repositories.CompareCommits(ctx, w.owner, w.repo, p.To, p.From, &github.ListOptions{PerPage: 1})
		return err
	})
	if err != nil {
		return err
	}
	res.Ahead = cmp.GetAheadBy()
	if res.Ahead == 0 {
		res.Outcome = UpToDate
		return nil
	}
	prs, err := w.findPRs(ctx, w.owner, p.From, p.To, "all")
	if err != nil {
		return err
	}
	var pr, latest *github.PullRequest
	for _, x := range prs {
		if x.GetState() == "open" && (pr == nil || x.GetNumber() > pr.GetNumber()) {
			pr = x
		}
		if latest == nil || x.GetNumber() > latest.GetNumber() {
			latest = x
		}
	}
	if pr == nil && latest != nil && latest.MergedAt == nil {
		// A maintainer closed the last promotion unmerged: not again for
		// the same head; a new PR when the staging branch moves on.
		var b *github.Branch
		err := w.read(ctx, "read branch "+p.From, func(ctx context.Context) error {
			var err error
			b, _, err = w.gh.Repositories.GetBranch(ctx, w.owner, w.repo, p.From, 1)
			return err
		})
		if err != nil {
			return err
		}
		if b.GetCommit().GetSHA() == latest.GetHead().GetSHA() {
			res.Number, res.URL, res.Outcome = latest.GetNumber(), latest.GetHTMLURL(), Declined
			res.Reason = fmt.Sprintf("#%d was closed unmerged at this head of %s; kupdate opens a new PR when it moves on", latest.GetNumber(), p.From)
			return nil
		}
	}
	if pr != nil {
		res.Number, res.URL, res.Outcome = pr.GetNumber(), pr.GetHTMLURL(), Open
	} else {
		// Not a draft: its commits were each reviewed and merged already,
		// and a draft can be neither merged nor queued.
		title := promotionTitle(p.From, w.clock())
		text := promotionBody(p, w.promote.Merge)
		res.Outcome = w.done(Opened)
		err := w.write(ctx, acts, fmt.Sprintf("open PR %s:%s -> %s: %s", w.owner, p.From, p.To, title),
			fmt.Sprintf("check that branches %s and %s exist in %s/%s", p.From, p.To, w.owner, w.repo),
			func(ctx context.Context) error {
				var err error
				pr, _, err = w.gh.PullRequests.Create(ctx, w.owner, w.repo, github.CreatePullRequest{
					Title: &title, Head: w.owner + ":" + p.From, Base: p.To, Body: &text, Draft: github.Ptr(false),
				})
				return err
			})
		if err != nil {
			return err
		}
		if pr == nil { // dry run
			return nil
		}
		res.Number, res.URL = pr.GetNumber(), pr.GetHTMLURL()
	}
	if !w.promote.Merge {
		res.Reason = "promote.merge is off: a person merges it"
		return nil
	}
	checks, err := w.headChecks(ctx, pr.GetHead().GetSHA())
	if err != nil {
		return err
	}
	v, why := verdict(checks, nil)
	if v != Merged {
		res.Outcome, res.Reason = v, why
		return nil
	}
	r, err := w.branchRules(ctx, p.To)
	if err != nil {
		return err
	}
	// Every check is green; a required one that has not reported yet still
	// holds the merge back.
	if v, why := verdict(checks, r.required); v != Merged {
		res.Outcome, res.Reason = v, why
		return nil
	}
	res.Outcome, res.Reason, err = w.mergeOrEnqueue(ctx, acts, pr, p.To, r.queue)
	return err
}
