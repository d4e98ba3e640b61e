package cycle

import (
	"context"
	"log/slog"
	"slices"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/updater"
)

// recheckHash answers a change of todo that did not evaluate: when it pins
// an rc hash from kupdate's cache, the hash is computed again from a fresh
// download (updater.RecheckHash). When it was wrong, the change in todo
// takes the right one and recheckHash reports true: the branch is written
// and validated again in this cycle, so a wrong cache entry is healed by the
// cycle that meets it. kernelorg warns naming the cache file it rewrote. A
// recheck that fails is logged, and the change's failure stays the
// evaluation's. The caller rechecks a change at most once per cycle.
func (c *Cycle) recheckHash(ctx context.Context, log *slog.Logger, todo []family.Change, failed family.Change) bool {
	i := slices.IndexFunc(todo, func(ch family.Change) bool { return ch.Key == failed.Key })
	if i < 0 {
		return false
	}
	healed, ok, err := updater.RecheckHash(ctx, c.ko, failed)
	switch {
	case err != nil:
		log.Warn("cycle: change does not evaluate, and its rc hash could not be checked", "title", failed.Title, "error", err)
	case ok:
		todo[i] = healed
		log.Info("cycle: the rc hash was wrong; writing the branch again with the recomputed one", "title", failed.Title, "hash", healed.Hash)
	}
	return ok
}
