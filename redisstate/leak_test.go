package redisstate_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/tailguard/tailguard/redisstate/internal/fleetlab"
)

// TestMain first lets the binary serve as a fleet worker when the
// multi-process test re-executes it. Otherwise it runs the tests, and
// goleak proves that a Store leaves no goroutine behind once its probe has
// ended, and that every client and redis-server was shut down.
func TestMain(m *testing.M) {
	fleetlab.Serve()
	goleak.VerifyTestMain(m)
}
