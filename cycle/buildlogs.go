package cycle

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kupdate/kupdate/atomicfile"
	"github.com/kupdate/kupdate/build"
	"github.com/kupdate/kupdate/state"
)

// keepBuilds records on each attribute of st the tiers of its build in
// this cycle, and keeps the log of every tier that did not pass in the
// state directory (state.LogDir, at most state.MaxLogs files), for the
// status page to link. An attribute not built this cycle keeps its last.
func (c *Cycle) keepBuilds(st *state.State, rep *Report, now time.Time) {
	results := map[string][]build.Result{}
	for _, b := range rep.Branches {
		for _, res := range b.Build.Results {
			// A result reused from an earlier cycle was kept then: its
			// record (and log) stay as they are.
			if !b.ReusedAttr(res.Attr) {
				results[res.Attr] = append(results[res.Attr], res)
			}
		}
	}
	if len(results) == 0 {
		return
	}
	dir := filepath.Join(c.stateDir, state.LogDir)
	for i := range st.Attrs {
		a := &st.Attrs[i]
		rs, ok := results[a.Attr]
		if !ok {
			continue
		}
		a.Tiers = nil
		for _, res := range rs {
			t := state.Tier{Tier: res.Tier, Status: string(res.Status), TookMS: res.Duration.Milliseconds()}
			if res.Status != build.Passed && res.Status != build.Skipped {
				name := fmt.Sprintf("%s-%s-%s.log", now.UTC().Format("20060102T150405Z"), res.Attr, res.Tier)
				if err := writeLog(dir, name, res); err != nil {
					c.log.Warn("cycle: keeping the build log", "attr", res.Attr, "tier", res.Tier, "error", err)
				} else {
					t.Log = name
				}
			}
			a.Tiers = append(a.Tiers, t)
		}
	}
	c.pruneLogs(dir)
}

func writeLog(dir, name string, res build.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s after %s\n", res.Attr, res.Tier, res.Status, res.Duration.Round(time.Millisecond))
	if res.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", res.Error)
	}
	if res.Drv != "" {
		fmt.Fprintf(&b, "derivation: %s\n", res.Drv)
	}
	fmt.Fprintf(&b, "command: %s\n\n%s", res.CommandLine(), res.LogTail)
	return atomicfile.Write(filepath.Join(dir, name), []byte(b.String()), 0o644)
}

// pruneLogs removes the oldest logs beyond state.MaxLogs (the names start
// with their time, so they sort oldest first).
func (c *Cycle) pruneLogs(dir string) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var names []string
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".log") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, n := range names[:max(len(names)-state.MaxLogs, 0)] {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			c.log.Warn("cycle: removing an old build log", "file", n, "error", err)
		}
	}
}
