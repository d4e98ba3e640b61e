// Package build builds and tests candidate kernels with Nix, in tiers.
package build

import "time"

// Status is the outcome of one tier for one attribute.
type Status string

const (
	Passed    Status = "passed"
	Failed    Status = "failed"
	Skipped   Status = "skipped"   // an earlier tier of the attribute failed, or the tier is not configured
	TimedOut  Status = "timed-out" // the tier ran past build.timeout
	Cancelled Status = "cancelled" // the cycle was cancelled (SIGTERM) while it ran
)

// Result is one tier of one attribute.
type Result struct {
	Attr     string        // attribute of linuxKernel.kernels, e.g. linux_6_12
	Tier     string        // eval, configfile, kernel, test
	Status   Status
	Duration time.Duration
	Command  []string // the argument vector that ran
	Drv      string   // the failing derivation, when Nix named one
	LogTail  string   // last build.log_lines lines of output, for failures
}

// Report is every result of one build run, ordered by attribute then tier.
type Report struct {
	Results []Result
}
