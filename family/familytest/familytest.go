// Package familytest makes changes of kupdate's kernel families by hand,
// for tests that need the exact bytes kupdate writes (kupdate check's
// tests build pull requests with it).
package familytest

import (
	"time"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/updater"
)

// Registry is kupdate's families without sources: enough to load a tree
// and apply changes to it, not to plan.
func Registry() family.Registry {
	return family.Registry{vanilla.New(nil), hardened.New(nil, nil)}
}

// Apply makes c to files (path -> content) as kupdate would, dated now,
// and returns the files it changed.
func Apply(files map[string][]byte, c family.Change, now time.Time) (map[string][]byte, error) {
	reg := Registry()
	t, err := reg.Load(files)
	if err != nil {
		return nil, err
	}
	t.Now = func() time.Time { return now }
	changed, _, err := updater.Apply(reg, t, c)
	return changed, err
}
