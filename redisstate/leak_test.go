package redisstate_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain: goleak proves that a Store leaves no goroutine behind once its
// probe has ended, and that every client and redis-server was shut down.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
