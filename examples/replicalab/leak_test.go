package main

import (
	"testing"

	"go.uber.org/goleak"
)

// The lab's servers, clients and hedges must all be gone when run returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
