package updater

import (
	"context"
	"fmt"
	"github.com/kupdate/kupdate/family"
)

// Outcome is what became of one change applied to a checkout.
type Outcome struct {
	Change family.Change
	Files  map[string][]byte // what was written (nil when it failed)
	Err    error             // why it was rolled back, nil when it stuck
}

// ApplyOptions adjusts ApplyToDir.
type ApplyOptions struct {
	Validate   ValidateOptions
	NoValidate bool // skip Validate (no Nix on this machine); the JSON is still re-read
	// Recheck, when set, answers a change that pins a cached hash (an rc's)
	// and does not validate: the hash is computed again (RecheckHash), and
	// when it was wrong the change is applied and validated again with the
	// right one. Outcome.Change then carries that hash.
	Recheck Rechecker
	// After runs once a change is written and validated, e.g. to commit it.
	// Its error rolls the change back like a failed validation.
	After func(ctx context.Context, c family.Change, files map[string][]byte) error
}

// ApplyToDir applies changes in order to the checkout at dir (whose files
// t holds), one at a time: each is applied, written (WriteFiles) and
// validated. A change that fails is rolled back — its files restored on
// disk — and the next change builds on the tree without it: one failing
// change never blocks the others. It returns what became of each change and
// the tree as it is now on disk.
func ApplyToDir(ctx context.Context, reg family.Registry, dir string, t *family.Tree, changes []family.Change, o ApplyOptions) ([]Outcome, *family.Tree) {
	var out []Outcome
	for _, c := range changes {
		if err := ctx.Err(); err != nil {
			out = append(out, Outcome{Change: c, Err: err})
			continue
		}
		c, files, next, err := writeValidated(ctx, reg, dir, t, c, o)
		if err == nil && o.After != nil {
			err = o.After(ctx, c, files)
		}
		if err != nil {
			if files != nil {
				err = rollback(dir, t, files, err)
			}
			out = append(out, Outcome{Change: c, Err: err})
			continue
		}
		t = next
		out = append(out, Outcome{Change: c, Files: files})
	}
	return out, t
}

// writeValidated applies c to t, writes it and validates it; a change
// whose cached hash was wrong is written and validated again with the
// right one (ApplyOptions.Recheck). It returns the change as written and
// the files it wrote (nil when nothing was written: t is then unchanged).
func writeValidated(ctx context.Context, reg family.Registry, dir string, t *family.Tree, c family.Change, o ApplyOptions) (family.Change, map[string][]byte, *family.Tree, error) {
	files, next, err := Apply(reg, t, c)
	if err != nil {
		return c, nil, nil, err
	}
	if err := WriteFiles(dir, files); err != nil {
		return c, nil, nil, err
	}
	if o.NoValidate {
		return c, files, next, nil
	}
	err = Validate(ctx, reg, dir, c, o.Validate)
	if err == nil || o.Recheck == nil {
		return c, files, next, err
	}
	healed, ok, rerr := RecheckHash(ctx, o.Recheck, c)
	if rerr != nil {
		return c, files, next, fmt.Errorf("%w (%w)", err, rerr)
	}
	if !ok {
		return c, files, next, err
	}
	// The same files, with the right hash in them.
	again, next, err := Apply(reg, t, healed)
	if err != nil {
		return healed, files, nil, err
	}
	if err := WriteFiles(dir, again); err != nil {
		return healed, files, nil, err
	}
	return healed, again, next, Validate(ctx, reg, dir, healed, o.Validate)
}

// rollback restores on disk what files overwrote, as before has it, for a
// change that failed with err.
func rollback(dir string, before *family.Tree, files map[string][]byte, err error) error {
	restore := map[string][]byte{}
	for p := range files {
		restore[p] = before.File(p)
	}
	if rerr := WriteFiles(dir, restore); rerr != nil {
		return fmt.Errorf("%w; and restoring the files failed too: %w (check the checkout with git status)", err, rerr)
	}
	return err
}
