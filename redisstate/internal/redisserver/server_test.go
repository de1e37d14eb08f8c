package redisserver

import (
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLifecycle walks a server through everything the fault tests do to
// it, checking each step with a raw PING.
func TestLifecycle(t *testing.T) {
	s := Test(t)
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("fresh server: %v", err)
	}
	addr := s.Addr()

	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := ping(addr); err == nil {
		t.Error("frozen server answered PING")
	}
	if err := s.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := ping(addr); err != nil {
		t.Errorf("thawed server: %v", err)
	}

	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := ping(addr); err == nil {
		t.Error("killed server answered PING")
	}
	if err := s.Freeze(); err == nil {
		t.Error("Freeze of a killed server succeeded")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Errorf("restarted on %s, want the same address %s", s.Addr(), addr)
	}
	if err := ping(addr); err != nil {
		t.Errorf("restarted server: %v", err)
	}
	if err := s.Restart(); err == nil {
		t.Error("Restart of a running server succeeded")
	}
}

// fakeTB records what Test asked of it.
type fakeTB struct{ fatal, skip bool }

func (*fakeTB) Helper()                 {}
func (*fakeTB) Cleanup(func())          {}
func (f *fakeTB) Fatalf(string, ...any) { f.fatal = true }
func (f *fakeTB) Skipf(string, ...any)  { f.skip = true }

// TestMissingBinary: under CI=true a missing redis-server fails the test;
// elsewhere it skips it.
func TestMissingBinary(t *testing.T) {
	t.Setenv("REDIS_SERVER", "/nonexistent/redis-server")
	if _, err := Start(); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Start = %v, want ErrNotInstalled", err)
	}
	for _, tc := range []struct {
		ci          string
		fatal, skip bool
	}{
		{ci: "true", fatal: true},
		{ci: "", skip: true},
		{ci: "false", skip: true},
	} {
		t.Setenv("CI", tc.ci)
		var tb fakeTB
		if s := Test(&tb); s != nil || tb.fatal != tc.fatal || tb.skip != tc.skip {
			t.Errorf("CI=%q: server %v, fatal %v, skip %v; want fatal %v, skip %v", tc.ci, s, tb.fatal, tb.skip, tc.fatal, tc.skip)
		}
	}
}
