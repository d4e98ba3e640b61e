package cycle_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/kupdate/kupdate/cycle"
	"github.com/kupdate/kupdate/runlog"
)

// jsonLogs makes the cycle log to f.logs as text, as the fixture does, and
// also as JSON (with the service's duration rendering) to the returned
// buffer.
func jsonLogs(f *fixture) (*syncBuffer, func(*cycle.Options)) {
	b := &syncBuffer{}
	return b, func(o *cycle.Options) {
		o.Log = slog.New(slog.NewMultiHandler(
			slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
			slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: runlog.ReplaceAttr}),
		))
	}
}

// checkJSONLogs holds the JSON lines of cycles to what an operator's log
// search needs: every line carries its cycle's id (cycles cycles, distinct
// ids), one event per action (no two lines of a cycle name the same event
// of the same thing), one error key, no empty attribute, durations with
// their unit.
func checkJSONLogs(t *testing.T, logs string, cycles int) {
	t.Helper()
	ids := map[string]bool{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON log line: %v\n%s", err, line)
		}
		id, _ := rec["cycle"].(string)
		if id == "" {
			t.Errorf("a line without a cycle id: %s", line)
		}
		ids[id] = true
		// The event and what it is about: a second such line in one cycle
		// says the same thing twice.
		var key strings.Builder
		for _, k := range []string{"cycle", "msg", "branch", "attr", "tier", "title", "from", "to", "action"} {
			key.WriteString(fmtAny(rec[k]) + "|")
		}
		if seen[key.String()] {
			t.Errorf("event logged twice in one cycle: %s", line)
		}
		seen[key.String()] = true
		for k, v := range rec {
			switch {
			case k == "err":
				t.Errorf(`"err" where the key is "error": %s`, line)
			case v == "" || v == nil:
				t.Errorf("empty attribute %q: %s", k, line)
			}
			if k == "took" {
				if _, ok := v.(string); !ok {
					t.Errorf("took without a unit: %s", line)
				}
			}
		}
		if m, _ := rec["msg"].(string); m == "push" || strings.HasPrefix(m, "github: branch") || strings.HasPrefix(m, "github: promotion") {
			t.Errorf("a library's line for what the cycle logs itself: %s", line)
		}
	}
	if len(ids) != cycles {
		t.Errorf("%d cycle ids in the log, want %d: %v", len(ids), cycles, ids)
	}
}

func fmtAny(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
