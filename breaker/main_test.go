package breaker

import (
	"testing"

	"go.uber.org/goleak"
)

// A Breaker starts no goroutine (STYLE rule 8); goleak proves it, and that
// the httptest servers of the tests are all shut down.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
