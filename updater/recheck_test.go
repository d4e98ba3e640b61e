package updater

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kupdate/kupdate/family"
	"github.com/kupdate/kupdate/family/hardened"
	"github.com/kupdate/kupdate/family/vanilla"
	"github.com/kupdate/kupdate/kernelfiles"
	"github.com/kupdate/kupdate/kernelorg"
	"github.com/kupdate/kupdate/kernelorg/kernelorgtest"
)

// wrongHash is well-formed, and the NAR hash of no snapshot.
const wrongHash = "sha256:0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a"

// fixedRechecker answers every Recheck with res or err and records the
// calls.
type fixedRechecker struct {
	res   kernelorg.Recheck
	err   error
	calls []string
}

func (r *fixedRechecker) Recheck(ctx context.Context, v kernelorg.Version, used string) (kernelorg.Recheck, error) {
	r.calls = append(r.calls, v.String()+" "+used)
	return r.res, r.err
}

// Only a change that pins an rc hash is rechecked: a release's hash is
// kernel.org's signed checksum. The change comes back with the new hash
// only when the recheck found another.
func TestRecheckHash(t *testing.T) {
	rc := vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: "testing", From: "6.19-rc4", To: "6.19-rc5", Hash: wrongHash})
	right := kernelorgtest.NARHash("6.19-rc5")
	healed := rc
	healed.Hash = right
	stable := vanilla.Made(family.Change{Kind: vanilla.Bump, Branch: "6.12", From: "6.12.64", To: "6.12.65", Hash: wrongHash})
	hardenedBump := hardened.Made(family.Change{Kind: hardened.Bump, Branch: "6.12", From: "6.12.64-hardened1", To: "6.12.65-hardened1", Hash: wrongHash}, nil)
	remove := vanilla.Made(family.Change{Kind: vanilla.Remove, Branch: "5.10", From: "5.10.247"})
	failed := errors.New("linux 6.19-rc5: snapshot: GET …: kernel.org answered 503 Service Unavailable")
	tests := []struct {
		name   string
		c      family.Change
		r      *fixedRechecker
		want   family.Change
		ok     bool
		err    string
		called bool
	}{
		{"rc, wrong hash", rc, &fixedRechecker{res: kernelorg.Recheck{Hash: right, Changed: true}}, healed, true, "", true},
		{"rc, hash confirmed", rc, &fixedRechecker{res: kernelorg.Recheck{Hash: wrongHash}}, rc, false, "", true},
		{"rc, confirmed by a 304", rc, &fixedRechecker{res: kernelorg.Recheck{Hash: wrongHash, NotModified: true}}, rc, false, "", true},
		{"rc, recheck failed", rc, &fixedRechecker{err: failed}, rc, false, "the rc hash could not be computed again: " + failed.Error(), true},
		{"stable", stable, &fixedRechecker{}, stable, false, "", false},
		{"hardened", hardenedBump, &fixedRechecker{}, hardenedBump, false, "", false},
		{"removal", remove, &fixedRechecker{}, remove, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := RecheckHash(context.Background(), tt.r, tt.c)
			if diff := cmp.Diff(tt.want, got); diff != "" || ok != tt.ok {
				t.Errorf("RecheckHash = %t, (-want +got):\n%s", ok, diff)
			}
			if e := errString(err); e != tt.err {
				t.Errorf("err = %q, want %q", e, tt.err)
			}
			if called := len(tt.r.calls) > 0; called != tt.called {
				t.Errorf("Recheck called: %v", tt.r.calls)
			} else if called && tt.r.calls[0] != "6.19-rc5 "+wrongHash {
				t.Errorf("Recheck(%s)", tt.r.calls[0])
			}
		})
	}
	if _, ok, err := RecheckHash(context.Background(), nil, rc); ok || err != nil {
		t.Errorf("without a Rechecker: %t, %v", ok, err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A wrong rc hash in kupdate's cache: Nix refuses the change (the hash
// mismatch), and with a Rechecker ApplyToDir computes the hash again,
// writes the change with the right one and validates it, all in one call.
func TestNixApplyToDirHealsWrongRCHash(t *testing.T) {
	needNix(t)
	ctx := context.Background()
	const rc = "6.19-rc11" // no other test evaluates it
	srv, err := kernelorgtest.New(kernelorgtest.Spec{Version: rc}, kernelorgtest.Spec{Version: "6.18.5"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cache := t.TempDir()
	file := filepath.Join(cache, "rc-hashes", "linux-"+rc+".nar-sha256")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	poison := `{"version":"` + rc + `","url":"` + srv.URL + kernelorgtest.TarballPath(rc) + `","hash":"` + wrongHash + `"}`
	if err := os.WriteFile(file, []byte(poison), 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	client, err := kernelorg.New(kernelorg.Options{URL: srv.URL, GitURL: srv.URL, Keyring: srv.Keyring(), Fingerprint: srv.Fingerprint(),
		CacheDir: cache, MaxAttempts: 1, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	dir := copyTree(t)
	gitInit(t, dir)
	reg := family.Registry{vanilla.New(client)}
	plan, err := (&Planner{Families: reg}).Plan(ctx, loadTree(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 1 || plan.Changes[0].Hash != wrongHash {
		t.Fatalf("planned %s; want the testing bump with the cached hash", planSummary(plan))
	}
	opts := ApplyOptions{Validate: ValidateOptions{Env: []string{"KUPDATE_KERNEL_MIRROR=" + srv.URL}}}

	// Without a recheck, Nix refuses it, and nothing of it stays.
	out, _ := ApplyToDir(ctx, reg, dir, loadTree(t, dir), plan.Changes, opts)
	if len(out) != 1 || out[0].Err == nil || !strings.Contains(out[0].Err.Error(), "hash mismatch in file downloaded from '"+srv.URL+kernelorgtest.TarballPath(rc)+"'") {
		t.Fatalf("without a recheck: %+v", out)
	}
	if st := gitStatus(t, dir); len(st) != 0 {
		t.Fatalf("git status after the failure: %v", st)
	}

	// With one, the change goes in with the right hash.
	opts.Recheck = client
	out, tr := ApplyToDir(ctx, reg, dir, loadTree(t, dir), plan.Changes, opts)
	right := kernelorgtest.NARHash(rc)
	if len(out) != 1 || out[0].Err != nil || out[0].Change.Hash != right {
		t.Fatalf("with a recheck: %+v", out)
	}
	data, err := os.ReadFile(filepath.Join(dir, kernelfiles.KernelsJSONPath))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(out[0].Files[kernelfiles.KernelsJSONPath]) || !strings.Contains(string(data), `"hash": "`+right+`"`) || strings.Contains(string(data), wrongHash) {
		t.Errorf("%s:\n%s", kernelfiles.KernelsJSONPath, data)
	}
	m, err := kernelfiles.Read(tr)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := m.Entry("testing"); e.Hash != right {
		t.Errorf("the tree's testing entry: %+v", e)
	}
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), `"hash": "`+right+`"`) {
		t.Errorf("the cache file after the recheck: %s, %v", b, err)
	}
	if !strings.Contains(log.String(), "file="+file) {
		t.Errorf("the log does not name %s:\n%s", file, log.String())
	}
}
