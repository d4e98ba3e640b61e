package updater

import (
	"context"
	"fmt"

	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/kernelorg"
)

// Rechecker computes the hash of an rc snapshot again, bypassing every
// cache, for a caller that used the hash used and Nix disagreed with it.
// (*kernelorg.Client satisfies it.)
type Rechecker interface {
	Recheck(ctx context.Context, v kernelorg.Version, used string) (kernelorg.Recheck, error)
}

// PinsCachedHash reports whether c pins a hash kupdate computed and cached
// itself, which a stale or damaged cache could have made wrong: an rc
// snapshot's NAR hash (linux_testing). A release's hash is kernel.org's
// signed checksum, verified whenever it is read; computing it again would
// not change it.
func PinsCachedHash(c family.Change) bool {
	if c.Hash == "" || c.To == "" {
		return false
	}
	v, err := kernelorg.ParseVersion(c.To)
	return err == nil && v.IsRC()
}

// RecheckHash is the answer to a change that did not evaluate: when c pins
// a cached hash (PinsCachedHash), r computes it again from a fresh
// download. When that differs from c.Hash, it returns c with the new hash
// and true: apply and validate that change instead, once. Otherwise c and
// false (the hash is right, and the evaluation failed for another reason),
// with r's error when the recheck failed.
//
// The trigger is the failure itself, not Nix's message: a mismatch is the
// usual cause, but any failure of a change whose hash came from a cache is
// worth one recheck, and Nix's wording is not a contract.
func RecheckHash(ctx context.Context, r Rechecker, c family.Change) (family.Change, bool, error) {
	if r == nil || !PinsCachedHash(c) {
		return c, false, nil
	}
	res, err := r.Recheck(ctx, kernelorg.MustParseVersion(c.To), c.Hash)
	if err != nil {
		return c, false, fmt.Errorf("the rc hash could not be computed again: %w", err)
	}
	if !res.Changed {
		return c, false, nil
	}
	c.Hash = res.Hash
	return c, true, nil
}
