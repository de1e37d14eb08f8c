package budget

import (
	"testing"

	"go.uber.org/goleak"
)

// A Budget must never start a goroutine (STYLE rule 8); goleak proves it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
