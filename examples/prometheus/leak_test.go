package main

import (
	"testing"

	"go.uber.org/goleak"
)

// The demo's servers, clients and hedges must all be gone when it closes.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
