package pin

import (
	"fmt"

	"github.com/kupdate/kupdate/kernelorg"
)

// Status is what a pin needs.
type Status string

const (
	Current Status = "current" // the newest release of its series (or newer)
	Behind  Status = "behind"  // its series has a newer release: move it to Decision.Newest
	EOL     Status = "eol"     // its series is end of life: reported, never moved
)

// Decision is what a pin moves to.
type Decision struct {
	Status  Status
	Series  string            // the series it was compared with
	Newest  kernelorg.Version // that series' newest release; zero when kernel.org lists none
	Release kernelorg.Release // its releases.json row (ChangeLog, EOL)
	Reason  string            // for EOL: what to do
}

// Latest asks for the newest series that is not end of life.
const Latest = "latest"

// Decide compares p with kernel.org's releases. series "" keeps p in its own
// series; "X.Y" or Latest asks for another one. A pin never moves backwards
// and never into or within a series kernel.org calls end of life.
func Decide(p Pin, rels []kernelorg.Release, series string) (Decision, error) {
	switch series {
	case "":
		series = p.Upstream.Series()
	case Latest:
		series = ""
		for _, r := range rels {
			if r.Branch != "testing" && !r.EOL && !r.Version.IsRC() && (series == "" || kernelorg.CompareSeries(r.Branch, series) > 0) {
				series = r.Branch
			}
		}
		if series == "" {
			return Decision{}, fmt.Errorf("kernel.org lists no series that is not end of life")
		}
	default:
		if _, _, err := kernelorg.ParseSeries(series); err != nil {
			return Decision{}, fmt.Errorf("--series %q: want X.Y or latest", series)
		}
	}
	d := Decision{Series: series}
	var rel *kernelorg.Release
	for i := range rels {
		if rels[i].Branch == series {
			rel = &rels[i]
		}
	}
	switch {
	case rel == nil:
		d.Status = EOL
		d.Reason = fmt.Sprintf("kernel.org no longer lists series %s (end of life): move to a maintained series with --series X.Y or --series latest", series)
		return d, nil
	case rel.EOL:
		d.Status, d.Newest, d.Release = EOL, rel.Version, *rel
		d.Reason = fmt.Sprintf("series %s is end of life on kernel.org (its last release is %s): move to a maintained series with --series X.Y or --series latest", series, rel.Version)
		return d, nil
	}
	d.Newest, d.Release = rel.Version, *rel
	if rel.Version.Compare(p.Upstream) <= 0 {
		d.Status = Current
		return d, nil
	}
	d.Status = Behind
	return d, nil
}
