package childproc

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv tells the test binary, run again as a child, to be a kupdate
// that starts `sleep <marker>` through Run and waits.
const helperEnv = "KUPDATE_CHILDPROC_HELPER"

// TestHelperProcess is not a test: it is the kupdate TestDeathSignal kills.
func TestHelperProcess(t *testing.T) {
	marker := os.Getenv(helperEnv)
	if marker == "" {
		t.Skip("helper process only")
	}
	// From a goroutine of its own, as kupdate's builds and checks run.
	done := make(chan error)
	go func() {
		cmd := exec.Command("sleep", marker)
		cmd.Env = Env(os.Environ(), nil, nil)
		done <- Run(cmd)
	}()
	<-done
	os.Exit(0)
}

// uniqueMarker is a sleep duration no other process on the machine has in
// its command line.
func uniqueMarker(t *testing.T) string {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1e9))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("300.%09d", n.Int64())
}

// pids are the live processes (not zombies) with marker in their command
// line.
func pids(t *testing.T, marker string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 || len(stat) < i+3 || stat[i+2] == 'Z' {
			continue
		}
		if strings.Contains(string(cmdline), marker) {
			out = append(out, pid)
		}
	}
	return out
}

// waitFor polls cond for a long bound: how long the kernel takes is not
// what the tests measure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 300 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// TestDeathSignal: a child started with Run does not outlive a kupdate
// killed with SIGKILL, which runs no code of its own on the way out.
func TestDeathSignal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux's")
	}
	marker := uniqueMarker(t)
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	helper.Env = append(os.Environ(), helperEnv+"="+marker)
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, pid := range pids(t, marker) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	waitFor(t, "the child to start", func() bool { return len(pids(t, marker)) == 1 })
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	helper.Wait()
	waitFor(t, "the child to die with its parent", func() bool { return len(pids(t, marker)) == 0 })
}

func TestStartRefusesInheritedEnv(t *testing.T) {
	err := Start(exec.Command("/kupdate/test/true"))
	if err == nil || !strings.Contains(err.Error(), "refusing to start /kupdate/test/true with kupdate's whole environment") {
		t.Errorf("Start with a nil Env: %v", err)
	}
}

// TestHold: a child started in a tracked directory holds its lock as long
// as it, or a process it left behind, lives; an untracked directory has
// nothing to hold.
func TestHold(t *testing.T) {
	dir := t.TempDir()
	if f, err := Hold(dir); f != nil || err != nil {
		t.Fatalf("Hold of an untracked directory = %v, %v", f, err)
	}
	if busy, err := InUse(dir); busy || err != nil {
		t.Fatalf("InUse of an untracked directory = %v, %v", busy, err)
	}
	if err := Track(dir); err != nil {
		t.Fatal(err)
	}
	if busy, err := InUse(dir); busy || err != nil {
		t.Fatalf("InUse before any child = %v, %v", busy, err)
	}

	// The shell leaves a sleep behind and exits: the sleep holds the lock.
	marker := uniqueMarker(t)
	cmd := exec.Command("sh", "-c", "sleep "+marker+" >/dev/null 2>&1 & echo $!")
	cmd.Dir = dir
	cmd.Env = Env(os.Environ(), nil, nil)
	out := new(strings.Builder)
	cmd.Stdout = out
	if err := Run(cmd); err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("sh printed %q", out)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if busy, err := InUse(dir); !busy || err != nil {
		t.Errorf("InUse with the sleep alive = %v, %v", busy, err)
	}
	// Children of the same run share the lock.
	if f, err := Hold(dir); f == nil || err != nil {
		t.Errorf("Hold with the sleep alive = %v, %v", f, err)
	} else {
		f.Close()
	}

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the lock to be free", func() bool {
		busy, err := InUse(dir)
		if err != nil {
			t.Fatal(err)
		}
		return !busy
	})
}
