package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tailguard/tailguard/redisstate/internal/fleetlab"
	"github.com/tailguard/tailguard/redisstate/internal/redisserver"
)

func TestMain(m *testing.M) {
	fleetlab.Serve() // the example re-executes itself: here, this test binary
	goleak.VerifyTestMain(m)
}

// TestRun runs the example briefly, two workers for a second per arm, and
// checks that it prints the three arms and writes the plot to the current
// directory.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and a redis-server")
	}
	redisserver.Test(t).Close() // fails under CI=true, skips elsewhere, if redis-server is missing
	// The plot goes to the current directory by default, never into the
	// source tree: run from a temporary one.
	dir := t.TempDir()
	t.Chdir(dir)
	svg := filepath.Join(dir, "fleet.svg")
	var out strings.Builder
	if err := run([]string{"-workers", "2", "-duration", "1s"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| naive |", "| local |", "| shared |", "plot: fleet.svg"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.HasPrefix(string(b), "<svg") {
		t.Errorf("plot: %v, %.40q", err, b)
	}
}
