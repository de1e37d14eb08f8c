package main

import (
	"testing"

	"go.uber.org/goleak"
)

// Every arm's servers, transports and policies must be gone when run
// returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
