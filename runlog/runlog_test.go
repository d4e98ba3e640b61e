package runlog

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

func TestTaggerAndDurations(t *testing.T) {
	var b bytes.Buffer
	tag := NewTagger(slog.NewJSONHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(g []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return ReplaceAttr(g, a)
	}}))
	log := slog.New(tag)
	derived := log.With("part", "git") // built before the step, as the cycle's parts are
	log.Info("before")
	tag.Set("0a1b2c3d")
	derived.Info("during", "took", 1500*time.Millisecond)
	tag.Clear()
	derived.Info("after")
	want := `{"level":"INFO","msg":"before"}
{"level":"INFO","msg":"during","part":"git","took":"1.5s","cycle":"0a1b2c3d"}
{"level":"INFO","msg":"after","part":"git"}
`
	if b.String() != want {
		t.Errorf("got:\n%swant:\n%s", b.String(), want)
	}
}

func TestIDInContext(t *testing.T) {
	ctx := context.Background()
	if id := ID(ctx); id != "" {
		t.Errorf("ID of a bare context = %q", id)
	}
	if id := ID(WithID(ctx, "x1")); id != "x1" {
		t.Errorf("ID = %q, want x1", id)
	}
	if a, b := NewID(), NewID(); len(a) != 8 || a == b {
		t.Errorf("NewID: %q, %q", a, b)
	}
}
