package redisstate

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// takeOne asks for one token of a generous quota and times the call.
func takeOne(ctx context.Context, s *Store) (time.Duration, error) {
	start := time.Now()
	_, err := s.take(ctx, "k", 1e6, 1000, 1, 0)
	return time.Since(start), err
}

// waitShared polls until a call succeeds again, and returns how long
// that took.
func waitShared(t *testing.T, s *Store) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 20*time.Second {
		if _, err := takeOne(context.Background(), s); err == nil {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the store did not resume within 20s of Redis answering again")
	return 0
}

// failUntilDown calls s until it answers ErrUnavailable, and fails t if
// that takes fewer than downAfter failed calls, a call that fails with
// ErrUnavailable before, or more than ten seconds.
func failUntilDown(t *testing.T, s *Store) {
	t.Helper()
	start := time.Now()
	for n := 0; ; n++ {
		_, err := takeOne(context.Background(), s)
		switch {
		case errors.Is(err, ErrUnavailable):
			if n < downAfter {
				t.Fatalf("down after %d failed calls, want %d", n, downAfter)
			}
			return
		case err == nil:
			t.Fatalf("call %d to a failing Redis succeeded", n)
		case time.Since(start) > 10*time.Second:
			t.Fatalf("still up after %d failed calls in %v: %v", n, time.Since(start), err)
		}
		if n == 0 {
			t.Logf("the first failure: %v", err)
		}
	}
}

// TestKilledRedis: the call that meets a dead Redis fails with the cause;
// every call after it fails at once with ErrUnavailable, without touching
// Redis; a restarted Redis is used again after the retry interval.
func TestKilledRedis(t *testing.T) {
	srv, rdb := testRedis(t)
	s := newStore(t, rdb, Config{RetryInterval: 100 * time.Millisecond, Timeout: generous})
	ctx := context.Background()
	if _, err := takeOne(ctx, s); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	failUntilDown(t, s)
	for range 100 {
		if _, err := takeOne(ctx, s); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("call while down: %v, want ErrUnavailable", err)
		}
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("resumed %v after the restart", waitShared(t, s))
	// The restarted Redis lost the scripts; the probe loaded them again,
	// so a call is one EVALSHA and no EVAL.
	rdb.ConfigResetStat(ctx)
	if _, err := takeOne(ctx, s); err != nil {
		t.Fatal(err)
	}
	if eval, evalsha := commandCalls(t, rdb, "eval"), commandCalls(t, rdb, "evalsha"); eval != 0 || evalsha != 1 {
		t.Errorf("after the restart a call made %d EVAL and %d EVALSHA, want one EVALSHA", eval, evalsha)
	}
}

// TestHungRedisIsBounded: a Redis that accepts but never answers (SIGSTOP)
// costs the first caller at most Config.Timeout, not go-redis's 5 s read
// timeout, and the callers after it nothing.
func TestHungRedisIsBounded(t *testing.T) {
	srv, rdb := testRedis(t)
	const timeout = 20 * time.Millisecond
	s := newStore(t, rdb, Config{Timeout: timeout, RetryInterval: 100 * time.Millisecond})
	ctx := context.Background()
	if _, err := takeOne(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := srv.Freeze(); err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		d, err := takeOne(ctx, s)
		if errors.Is(err, ErrUnavailable) && n >= downAfter {
			break // marked down: 3 failures over at least downSpan
		}
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call to a hung Redis: %v, want a deadline error", err)
		}
		// Generous: a loaded machine may be late to wake the caller, but
		// nowhere near the 5 s the client would wait without the bound.
		if d > time.Second {
			t.Errorf("call to a hung Redis took %v, bound %v", d, timeout)
		}
		t.Logf("call to a hung Redis returned after %v (bound %v)", d, timeout)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := takeOne(ctx, s); !errors.Is(err, ErrUnavailable) {
					t.Errorf("call while hung: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	srv.Thaw()
	t.Logf("resumed %v after the thaw", waitShared(t, s))
}

// TestOneProbeAtATime: while Redis is down, however many callers there
// are, at most one probe runs per retry interval (a probe loads both
// scripts: two SCRIPT LOADs). The callers go on for 300 ms and until a
// call succeeds again, and the bound is taken from how long they ran: on
// the loaded 2-core machine no probe had reached Redis within a fixed
// 300 ms ("0 SCRIPT LOADs in 300 ms").
func TestOneProbeAtATime(t *testing.T) {
	srv, rdb := testRedis(t)
	const interval = 50 * time.Millisecond
	s := newStore(t, rdb, Config{RetryInterval: interval, Timeout: generous})
	srv.Kill()
	failUntilDown(t, s)
	srv.Restart()
	rdb.ConfigResetStat(context.Background())
	start := time.Now()
	var up atomic.Bool // a call succeeded: a probe loaded the scripts
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for time.Since(start) < 300*time.Millisecond || !up.Load() && time.Since(start) < 20*time.Second {
				if _, err := takeOne(context.Background(), s); err == nil {
					up.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if !up.Load() {
		t.Fatal("no call succeeded within 20 s of the restart")
	}
	loads := commandCalls(t, rdb, "script|load")
	ran := time.Since(start)
	if most := 2 * (int(ran/interval) + 1); loads < 2 || loads > most {
		t.Errorf("%d SCRIPT LOADs in %v with a %v retry interval, want 2 to %d", loads, ran.Round(time.Millisecond), interval, most)
	}
}

// TestCallerCancelIsNotAFailure: a caller that gives up says nothing about
// Redis: the store stays up.
func TestCallerCancelIsNotAFailure(t *testing.T) {
	_, rdb := testRedis(t)
	s := newStore(t, rdb, Config{Timeout: generous})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := takeOne(ctx, s); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled caller: %v", err)
	}
	if _, err := takeOne(context.Background(), s); err != nil {
		t.Fatalf("after a canceled caller: %v", err)
	}
}

// TestNotReadyIsLocal: before the store has connected, calls fail fast;
// Ready waits for the connection.
func TestNotReadyIsLocal(t *testing.T) {
	addr := deadAddr(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	s := New(rdb, Config{RetryInterval: 10 * time.Millisecond})
	if _, err := takeOne(context.Background(), s); !errors.Is(err, ErrUnavailable) {
		t.Errorf("call before connecting: %v, want ErrUnavailable", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Ready(ctx); err == nil {
		t.Error("Ready succeeded with nothing listening")
	}
	waitProbed(t, s)
}

func TestNewPanics(t *testing.T) {
	ok := redis.NewClient(&redis.Options{Addr: deadAddr(t), ContextTimeoutEnabled: true})
	defer ok.Close()
	noCtx := redis.NewClient(&redis.Options{Addr: deadAddr(t)})
	defer noCtx.Close()
	for _, tc := range []struct {
		name  string
		rdb   redis.UniversalClient
		cfg   Config
		field string
	}{
		{"nil client", nil, Config{}, "nil client"},
		{"context deadlines ignored", noCtx, Config{}, "ContextTimeoutEnabled"},
		{"negative Timeout", ok, Config{Timeout: -1}, "Timeout"},
		{"negative RetryInterval", ok, Config{RetryInterval: -1}, "RetryInterval"},
		{"negative Lease", ok, Config{Lease: -1}, "Lease"},
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tc.field) {
					t.Errorf("%s: panic %q, want one naming %s", tc.name, msg, tc.field)
				}
			}()
			waitProbed(t, New(tc.rdb, tc.cfg))
		}()
	}
}

// TestOneSlowCallStaysUp: a call that fails alone (here: a caller-side
// bound too short for one round trip) makes only itself fall back; the
// next call goes to Redis.
func TestOneSlowCallStaysUp(t *testing.T) {
	_, rdb := testRedis(t)
	s := newStore(t, rdb, Config{Timeout: time.Nanosecond})
	if _, err := takeOne(context.Background(), s); err == nil {
		t.Fatal("a 1 ns bound was met")
	}
	s.s.timeout = time.Second
	if _, err := takeOne(context.Background(), s); err != nil {
		t.Fatalf("the call after one failure: %v, want it sent to Redis", err)
	}
	if st := s.health.state.Load(); st != stateUp {
		t.Errorf("state %d after one failure and a success, want up", st)
	}
}

// TestOneStallIsOneFailure: calls that were in flight together when they
// failed count as one failure (a descheduled process fails them all at
// once; here Redis is frozen while 8 calls wait for it): the store stays
// up and the next call goes to Redis. Calls that fail one after another
// still mark it down.
func TestOneStallIsOneFailure(t *testing.T) {
	srv, rdb := testRedis(t)
	s := newStore(t, rdb, Config{Timeout: 100 * time.Millisecond, RetryInterval: time.Hour})
	ctx := context.Background()
	if err := srv.Freeze(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := takeOne(ctx, s); err == nil {
				t.Error("a call to a frozen Redis succeeded")
			}
		})
	}
	wg.Wait()
	srv.Thaw()
	if st := s.health.state.Load(); st != stateUp {
		t.Fatalf("state %d after one spell of overlapping failures, want up", st)
	}
	if _, err := takeOne(ctx, s); err != nil {
		t.Fatalf("the call after the spell: %v, want it sent to Redis", err)
	}
	srv.Kill()
	failUntilDown(t, s)
}

// TestStalledCallRetried: a call that fails long after its bound (its
// process was descheduled: here the call ignores its context for three
// bounds) is tried once more at once, and counts as no failure; a call
// that fails at its bound (Redis did not answer) is not.
func TestStalledCallRetried(t *testing.T) {
	_, rdb := testRedis(t)
	s := newStore(t, rdb, Config{Timeout: 20 * time.Millisecond, RetryInterval: time.Hour})
	ctx := context.Background()
	calls := 0
	stalled := func(ctx context.Context) error {
		if calls++; calls == 1 {
			time.Sleep(3 * s.s.timeout)
			return ctx.Err()
		}
		return nil
	}
	if err := s.do(ctx, stalled); err != nil || calls != 2 {
		t.Errorf("a stalled call: %v after %d tries, want success on the second", err, calls)
	}
	calls = 0
	slow := func(ctx context.Context) error {
		calls++
		<-ctx.Done()
		return ctx.Err()
	}
	if err := s.do(ctx, slow); err == nil || calls != 1 {
		t.Errorf("a call Redis did not answer: %v after %d tries, want one failed try", err, calls)
	}
	if n := s.health.failures.Load(); n != 1 {
		t.Errorf("%d failures counted, want the unanswered call's", n)
	}
}

// TestProbesWithoutCalls: a store marked down probes Redis once
// RetryInterval later even if no call comes, and is up again before the
// next call: a process whose requests stopped (a pause) does not stay on
// local state until they resume.
func TestProbesWithoutCalls(t *testing.T) {
	srv, rdb := testRedis(t)
	s := newStore(t, rdb, Config{Timeout: 20 * time.Millisecond, RetryInterval: 50 * time.Millisecond})
	if err := srv.Freeze(); err != nil {
		t.Fatal(err)
	}
	failUntilDown(t, s)
	srv.Thaw()
	time.Sleep(500 * time.Millisecond) // no call: ten retry intervals
	waitProbed(t, s)
	if st := s.health.state.Load(); st != stateUp {
		t.Fatalf("state %d after %v without calls, want up", st, 500*time.Millisecond)
	}
	if _, err := takeOne(context.Background(), s); err != nil {
		t.Errorf("the first call after the quiet spell: %v, want it sent to Redis", err)
	}
}
