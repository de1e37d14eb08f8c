package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind (a
// transport's connection loop, an httptest handler). hedgedhttp's worker
// pool is exempt: its goroutines wait on a package-level channel for the
// life of the process, by that library's design, once a hedge has fired.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/cristalhq/hedgedhttp.runInPool.func1"))
}
