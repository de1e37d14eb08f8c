package retry

import (
	"testing"

	"go.uber.org/goleak"
)

// No test may leave a goroutine, timer goroutine or connection behind:
// cancelling a wait or a timed-out attempt must stop everything.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
