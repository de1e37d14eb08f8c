package redisserver

import (
	"errors"
	"os"
)

// TB is the part of testing.TB that [Test] needs; taking it instead of
// testing.TB keeps the testing package out of the example's binary.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Test starts a redis-server for t and stops it when t ends. When
// redis-server is not installed, the test fails under CI=true (CI must
// run what it claims to) and is skipped elsewhere, saying how to install
// it; scripts/test.sh installs it, so the README's test command runs these
// tests on a fresh machine.
func Test(t TB) *Server {
	t.Helper()
	s, err := Start()
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skipf("%v; skipping (under CI=true this fails)", err)
		return nil // for a TB whose Skipf returns
	}
	if err != nil {
		t.Fatalf("%v", err)
		return nil
	}
	t.Cleanup(func() { s.Close() })
	return s
}
