// Package build builds and tests candidate kernels with Nix, in tiers.
//
// Each attribute of linuxKernel.kernels runs the configured tiers in order
// (eval → configfile → kernel → test), each a command template from
// config.toml; a tier that does not pass skips the attribute's later tiers,
// while other attributes go on. Commands run in their own process group,
// which is terminated as a whole on a tier's timeout or on cancellation.
// Distribution is Nix's own: builders, max-jobs and cores are passed to Nix.
package build

import (
	"slices"
	"time"
)

// Status is the outcome of one tier for one attribute.
type Status string

const (
	Passed    Status = "passed"
	Failed    Status = "failed"
	Skipped   Status = "skipped"   // an earlier tier of the attribute did not pass
	TimedOut  Status = "timed-out" // the tier ran past build.timeout
	Cancelled Status = "cancelled" // the run was cancelled (SIGTERM) before or while the tier ran

	// Running appears only in Progress events, for a tier still running.
	Running Status = "running"
)

// Result is one tier of one attribute.
type Result struct {
	Attr     string // attribute of linuxKernel.kernels, e.g. linux_6_12
	Tier     string // eval, configfile, kernel, test
	Status   Status
	Duration time.Duration
	Command  []string // the argument vector that ran
	Drv      string   // the failing derivation, when Nix named one
	LogTail  string   // last build.log_lines lines of output, for failures
	// Error says in one line why the tier did not pass ("exit status 100",
	// "timed out after 4h0m0s", "skipped: configfile failed"); empty when it passed.
	Error string
}

// Report is every result of one build run, ordered by attribute (in the
// order they were asked for) then tier. Only the configured tiers appear.
type Report struct {
	Results []Result
}

// Attrs are the attributes of the report, in order.
func (r Report) Attrs() []string {
	var attrs []string
	for _, res := range r.Results {
		if !slices.Contains(attrs, res.Attr) {
			attrs = append(attrs, res.Attr)
		}
	}
	return attrs
}

// For is the results of one attribute, in tier order.
func (r Report) For(attr string) []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Attr == attr {
			out = append(out, res)
		}
	}
	return out
}

// Status sums up attr: the status of its first tier that did not pass, or
// Passed; "" when the report has no result for attr.
func (r Report) Status(attr string) Status {
	return summarize(r.For(attr))
}

// OK reports whether every tier of every attribute passed. An empty report
// is OK: nothing needed building.
func (r Report) OK() bool {
	for _, res := range r.Results {
		if res.Status != Passed {
			return false
		}
	}
	return true
}

func summarize(results []Result) Status {
	if len(results) == 0 {
		return ""
	}
	for _, res := range results {
		if res.Status != Passed {
			return res.Status
		}
	}
	return Passed
}
