package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind (a
// transport's connection loop, an httptest handler).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
