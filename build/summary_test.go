package build_test

import (
	"testing"

	"github.com/kupdate/kupdate/build"
)

func TestReportSummary(t *testing.T) {
	t.Parallel()
	res := func(attr, tier string, s build.Status) build.Result {
		return build.Result{Attr: attr, Tier: tier, Status: s}
	}
	for _, tc := range []struct {
		results []build.Result
		want    string
	}{
		{nil, "nothing to build"},
		{[]build.Result{res("linux_6_12", "eval", build.Passed), res("linux_6_12", "configfile", build.Passed)}, "2 passed"},
		{[]build.Result{
			res("linux_6_12", "eval", build.Passed), res("linux_6_12", "configfile", build.Passed),
			res("linux_6_18", "eval", build.Passed), res("linux_6_18", "configfile", build.Failed),
		}, "3 passed, 1 failed (linux_6_18 configfile)"},
		{[]build.Result{
			res("linux_6_12", "eval", build.TimedOut), res("linux_6_12", "configfile", build.Skipped),
			res("linux_6_18", "eval", build.Failed), res("linux_6_18", "configfile", build.Skipped),
			res("linux_6_19", "eval", build.Cancelled),
		}, "1 failed, 1 timed out, 1 cancelled, 2 skipped (linux_6_12 eval, linux_6_18 eval)"},
	} {
		if got := (build.Report{Results: tc.results}).Summary(); got != tc.want {
			t.Errorf("Summary() = %q, want %q", got, tc.want)
		}
	}
}
