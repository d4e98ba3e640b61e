package cycle_test

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestSurvivorKeepsItsTree: a build command that leaves a process behind
// in a session of its own (out of reach of its process group) keeps the
// export directory it ran in: the next branch is exported into tree-1, not
// under the survivor's feet.
func TestSurvivorKeepsItsTree(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	n, err := rand.Int(rand.Reader, big.NewInt(1e9))
	must(t, err)
	marker := fmt.Sprintf("600.%09d", n.Int64())
	f.cfg.Build.Tiers = []string{"eval"}
	// It exits once the sleep is in its own session (field 6 of stat): the
	// group kill at the end of the tier would catch it before.
	leave := `setsid sleep ` + marker + ` </dev/null >/dev/null 2>&1 &
while [ "$(cut -d' ' -f6 /proc/$!/stat)" != "$!" ]; do sleep 0.01; done`
	f.cfg.Build.Commands = map[string][]string{"eval": {"sh", "-c", leave}}
	t.Cleanup(func() { killMarked(t, marker) })

	rep := f.run()
	if len(rep.Branches) != 2 {
		t.Fatalf("%d branches, want 2", len(rep.Branches))
	}
	for i, dir := range []string{"tree", "tree-1"} {
		got, err := os.ReadFile(filepath.Join(f.cache, dir, ".kupdate-export"))
		if want := rep.Branches[i].Head; err != nil || strings.TrimSpace(string(got)) != want {
			t.Errorf("%s holds %q (%v), want branch %s's head %s", dir, got, err, rep.Branches[i].Name, want)
		}
	}
	if killMarked(t, marker) == 0 {
		t.Errorf("no survivor: the test showed nothing\n%s", f.logs)
	}
}

// killMarked kills the processes with marker in their command line and
// says how many there were.
func killMarked(t *testing.T, marker string) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); strings.Contains(string(cmd), marker) {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				n++
			}
		}
	}
	return n
}
