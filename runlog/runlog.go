// Package runlog is what kupdate's log lines share across packages: the id
// that ties together every line of one cycle (or promotion step), and how
// durations are written in JSON.
//
// The id travels in two ways. The service makes it and puts it in the
// step's context (WithID) and on its own step lines; the cycle reads it
// (ID) and sets it on a Tagger, the handler under every logger the cycle's
// parts were given when they were built (git, GitHub, kernel.org, builds), so
// their lines carry it too without each call taking a context.
package runlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync/atomic"
	"time"
)

// Key is the attribute that carries the id.
const Key = "cycle"

type idKey struct{}

// WithID is ctx carrying the step id.
func WithID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, idKey{}, id)
}

// ID is the step id ctx carries, "" when none.
func ID(ctx context.Context) string {
	id, _ := ctx.Value(idKey{}).(string)
	return id
}

// NewID is a fresh id: 8 hex digits, enough to tell a day's cycles apart in
// a log search.
func NewID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Tagger is a slog.Handler that adds the current id (Key) to every record
// while one is set. The loggers derived from it (With, WithGroup) share the
// id. Set and Clear bracket one step; steps must not overlap.
type Tagger struct {
	h  slog.Handler
	id *atomic.Pointer[string]
}

// NewTagger wraps h.
func NewTagger(h slog.Handler) *Tagger {
	return &Tagger{h: h, id: new(atomic.Pointer[string])}
}

// Set makes id the one added to every record from now on.
func (t *Tagger) Set(id string) { t.id.Store(&id) }

// Clear stops adding an id.
func (t *Tagger) Clear() { t.id.Store(nil) }

func (t *Tagger) Enabled(ctx context.Context, l slog.Level) bool { return t.h.Enabled(ctx, l) }

func (t *Tagger) Handle(ctx context.Context, r slog.Record) error {
	if id := t.id.Load(); id != nil {
		r = r.Clone()
		r.AddAttrs(slog.String(Key, *id))
	}
	return t.h.Handle(ctx, r)
}

func (t *Tagger) WithAttrs(as []slog.Attr) slog.Handler {
	return &Tagger{h: t.h.WithAttrs(as), id: t.id}
}

func (t *Tagger) WithGroup(name string) slog.Handler {
	return &Tagger{h: t.h.WithGroup(name), id: t.id}
}

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr for the JSON handler: a
// duration is written as Go writes it ("1.5s", "250ms"), with its unit,
// where JSON would give bare nanoseconds. The text handler already does so.
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// Since is the time since t, rounded to the millisecond: what a "took"
// attribute says.
func Since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
