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
		files, next, err := Apply(reg, t, c)
		if err != nil {
			out = append(out, Outcome{Change: c, Err: err})
			continue
		}
		if err := WriteFiles(dir, files); err != nil {
			out = append(out, Outcome{Change: c, Err: err})
			continue
		}
		if !o.NoValidate {
			err = Validate(ctx, reg, dir, c, o.Validate)
		}
		if err == nil && o.After != nil {
			err = o.After(ctx, c, files)
		}
		if err != nil {
			restore := map[string][]byte{}
			for p := range files {
				restore[p] = t.File(p)
			}
			if rerr := WriteFiles(dir, restore); rerr != nil {
				err = fmt.Errorf("%w; and restoring the files failed too: %w (check the checkout with git status)", err, rerr)
			}
			out = append(out, Outcome{Change: c, Err: err})
			continue
		}
		t = next
		out = append(out, Outcome{Change: c, Files: files})
	}
	return out, t
}
