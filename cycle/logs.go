package cycle

import (
	"context"
	"log/slog"
)

// progressLogger is the logger the build runner gets when a Progress
// callback reports each tier: its own per-tier INFO lines ("build tier
// started", "build tier finished") would say the same thing twice on a
// terminal, so they go to DEBUG (-v); warnings and errors stay as they are.
func progressLogger(log *slog.Logger, progress bool) *slog.Logger {
	if !progress {
		return log
	}
	return slog.New(demoted{log.Handler()})
}

// demoted logs INFO records at DEBUG.
type demoted struct{ h slog.Handler }

func (d demoted) Enabled(ctx context.Context, l slog.Level) bool {
	if l == slog.LevelInfo {
		l = slog.LevelDebug
	}
	return d.h.Enabled(ctx, l)
}

func (d demoted) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		r.Level = slog.LevelDebug
	}
	return d.h.Handle(ctx, r)
}

func (d demoted) WithAttrs(as []slog.Attr) slog.Handler { return demoted{d.h.WithAttrs(as)} }
func (d demoted) WithGroup(name string) slog.Handler    { return demoted{d.h.WithGroup(name)} }
