package throttle

import (
	"testing"

	"go.uber.org/goleak"
)

// A Throttle starts no goroutine (STYLE rule 8); goleak proves it, and that
// every waiter's timer and every test server is gone.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
