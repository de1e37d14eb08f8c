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
// checks that it prints both arms and writes the plot.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and a redis-server")
	}
	redisserver.Test(t).Close() // fails under CI=true, skips elsewhere, if redis-server is missing
	svg := filepath.Join(t.TempDir(), "fleet.svg")
	var out strings.Builder
	if err := run([]string{"-workers", "2", "-duration", "1s", "-svg", svg}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| local |", "| shared |", "plot: " + svg} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.HasPrefix(string(b), "<svg") {
		t.Errorf("plot: %v, %.40q", err, b)
	}
}
