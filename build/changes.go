package build

import (
	"context"

	"github.com/kupdate/kupdate/updater"
)

// ChangeResult is the build of one change: the results of the attributes
// the change lists in its Build field, in that order.
type ChangeResult struct {
	Change updater.Change
	Report Report
}

// OK reports whether every tier of every attribute of the change passed. A
// change with nothing to build (a removal) is OK.
func (c ChangeResult) OK() bool { return c.Report.OK() }

// RunChanges builds the attributes of all changes in one run over the tree
// at dir (an attribute that several changes share is built once) and maps
// the results back: one ChangeResult per change, in order. The tree must
// hold every change: build a branch's changes together after applying them.
func (r *Runner) RunChanges(ctx context.Context, dir string, changes []updater.Change) []ChangeResult {
	var attrs []string
	for _, c := range changes {
		attrs = append(attrs, c.Build...)
	}
	rep := r.Run(ctx, dir, attrs)
	out := make([]ChangeResult, len(changes))
	for i, c := range changes {
		out[i].Change = c
		seen := map[string]bool{}
		for _, a := range c.Build {
			if !seen[a] {
				seen[a] = true
				out[i].Report.Results = append(out[i].Report.Results, rep.For(a)...)
			}
		}
	}
	return out
}
