package workflow

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

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
		// The caller logs the result (one line per pair, with its context).
		if err != nil {
			errs = append(errs, err)
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

// Who merges a promotion PR, as its body says and its marker records.
const (
	mergeOff   = "off"   // promote.merge is off: a person
	mergeOn    = "on"    // kupdate merges it
	mergeQueue = "queue" // kupdate adds it to the target's merge queue
)

var promotionMarkerRE = regexp.MustCompile(`<!-- kupdate: promote \S+ -> \S+(?: merge=(\w+))? -->`)

// promotionMode is who the body of a promotion PR says merges it; false
// when the body has no marker or one written before it said so.
func promotionMode(body string) (string, bool) {
	m := promotionMarkerRE.FindStringSubmatch(body)
	if m == nil || m[1] == "" {
		return "", false
	}
	return m[1], true
}

// promotionBody says what the PR brings and who merges it, as the
// configuration (promote.merge) and the target's rules (a merge queue) have
// it. nixpkgs' automation policy wants a person to review what automation
// proposes: with merging off that person reviews this PR; with it on, kupdate
// merges without another review, and the body says why that holds (each
// commit was reviewed on its way into the staging branch) and how to stop
// it.
func promotionBody(p config.Pair, mode string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- kupdate: promote %s -> %s merge=%s -->\n", p.From, p.To, mode)
	fmt.Fprintf(&b, "Brings `%s` into `%s`. It adds no change of its own: each commit it brings was reviewed by a person before it was merged into `%s`.\n\n", p.From, p.To, p.From)
	if mode == mergeOff {
		b.WriteString("kupdate does not merge it (`promote.merge` is off): a person reviews it and merges it once every status check on its head is green.\n\n---\n\n")
		b.WriteString(Disclosure + "\n")
		return b.String()
	}
	how, then := "merges this PR", ""
	if mode == mergeQueue {
		how, then = fmt.Sprintf("adds this PR to the merge queue of `%s`", p.To), " (the queue then merges it)"
	}
	fmt.Fprintf(&b, "`promote.merge` is on: kupdate %s once every status check on its head is green%s; until at least one check has reported, it waits. It asks for no further review (an approval that `%s`'s protection requires still holds it back). To stop it, close this PR: kupdate opens a new one only when `%s` moves on.\n\n---\n\n", how, then, p.To, p.From)
	fmt.Fprintf(&b, "This PR was prepared by kupdate, an automated tool. nixpkgs' automation policy wants a person to review what automation proposes: each commit here was reviewed on its way into `%s`, and this PR only carries them on.\n", p.From)
	return b.String()
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
	// The body says who merges the PR, so with merging on the target's
	// rules (a merge queue?) are read before it is written; the merge
	// decision below uses the same answer.
	var r rules
	mode := mergeOff
	if w.promote.Merge {
		if r, err = w.branchRules(ctx, p.To); err != nil {
			return err
		}
		mode = mergeOn
		if r.queue {
			mode = mergeQueue
		}
	}
	text := promotionBody(p, mode)
	if pr != nil {
		n := pr.GetNumber()
		res.Number, res.URL, res.Outcome = n, pr.GetHTMLURL(), Open
		// Rewritten only when who merges it changed (or an older kupdate
		// wrote it without saying): a person's edit stays otherwise.
		if have, ok := promotionMode(pr.GetBody()); !ok || have != mode {
			err := w.write(ctx, acts, fmt.Sprintf("edit PR #%d: body", n), "", func(ctx context.Context) error {
				_, _, err := w.gh.PullRequests.Edit(ctx, w.owner, w.repo, n, &github.PullRequest{Body: &text})
				return err
			})
			if err != nil {
				return err
			}
		}
	} else {
		// Not a draft: its commits were each reviewed and merged already,
		// and a draft can be neither merged nor queued.
		title := promotionTitle(p.From, w.clock())
		res.Outcome = w.done(Opened)
		err := w.write(ctx, acts, fmt.Sprintf("open PR %s:%s -> %s: %s", w.owner, p.From, p.To, title),
			fmt.Sprintf("check that branches %s and %s exist in %s/%s", p.From, p.To, w.owner, w.repo),
			func(ctx context.Context) error {
				var err error
				pr, _, err = w.gh.PullRequests.Create(ctx, w.owner, w.repo, github.CreatePullRequest{
					Title: &title, Head: w.owner + ":" + p.From, Base: p.To, Body: &text, Draft: new(false),
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
	// Every check is green; a required one that has not reported yet still
	// holds the merge back.
	if v, why := verdict(checks, r.required); v != Merged {
		res.Outcome, res.Reason = v, why
		return nil
	}
	res.Outcome, res.Reason, err = w.mergeOrEnqueue(ctx, acts, pr, p.To, r.queue)
	return err
}
