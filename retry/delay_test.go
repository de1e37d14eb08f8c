package retry

import (
	"context"
	"math"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/testkit"
)

// With NoJitter the waits are the envelope, exactly.
func TestBackoffDelaysExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503))
		var delays []time.Duration
		cfg := Config{MaxAttempts: 6, BaseDelay: 100 * time.Millisecond, MaxDelay: 500 * time.Millisecond,
			Jitter: NoJitter, OnRetry: func(i RetryInfo) { delays = append(delays, i.Delay) },
			Budget: tolerant()}
		resp, err := New(cfg).Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		resp.Body.Close()
		ms := time.Millisecond
		want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 500 * ms, 500 * ms}
		assert.Equal(t, want, s.gaps())
		assert.Equal(t, want, delays, "OnRetry reports the delay actually waited")
	})
}

// Each jitter kind's waits, measured at the upstream, stay in its
// envelope, and OnRetry reports exactly the wait.
func TestJitterDelaysInEnvelope(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		jitter Jitter
		lo, hi func(k int, prev time.Duration) time.Duration // bounds of retry k (0-based)
	}{
		{"full", FullJitter,
			func(int, time.Duration) time.Duration { return 0 },
			func(k int, _ time.Duration) time.Duration { return min(100*ms<<k, time.Second) }},
		{"equal", EqualJitter,
			func(k int, _ time.Duration) time.Duration { return min(100*ms<<k, time.Second) / 2 },
			func(k int, _ time.Duration) time.Duration { return min(100*ms<<k, time.Second) }},
		{"decorrelated", DecorrelatedJitter,
			func(int, time.Duration) time.Duration { return 100 * ms },
			func(_ int, prev time.Duration) time.Duration { return min(3*prev, time.Second) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 {
				synctest.Test(t, func(t *testing.T) {
					s := newScript(status(503))
					var delays []time.Duration
					cfg := Config{MaxAttempts: 8, BaseDelay: 100 * ms, MaxDelay: time.Second, Jitter: tc.jitter,
						OnRetry: func(i RetryInfo) { delays = append(delays, i.Delay) }, Budget: tolerant()}
					resp, err := New(cfg).Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
					require.NoError(t, err)
					resp.Body.Close()
					gaps := s.gaps()
					require.Len(t, gaps, 7)
					assert.Equal(t, delays, gaps)
					prev := 100 * ms
					for k, g := range gaps {
						assert.GreaterOrEqual(t, g, tc.lo(k, prev), "retry %d", k+1)
						assert.LessOrEqual(t, g, tc.hi(k, prev), "retry %d", k+1)
						prev = g
					}
				})
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name  string
		first func() step
		want  time.Duration
	}{
		{"503 seconds", func() step { return retryAfter(503, "2") }, 2 * time.Second},
		{"429 seconds", func() step { return retryAfter(429, "7") }, 7 * time.Second},
		{"429 HTTP-date", func() step {
			return retryAfter(429, time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
		}, 3 * time.Second},
		{"503 past HTTP-date asks no pause: the backoff", func() step {
			return retryAfter(503, time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat))
		}, DefaultBaseDelay},
		{"502 with Retry-After", func() step { return retryAfter(502, "1") }, time.Second},
		{"429 without Retry-After uses backoff", func() step { return status(429) }, DefaultBaseDelay},
		{"Retry-After 0 asks no pause: the backoff", func() step { return retryAfter(503, "0") }, DefaultBaseDelay},
		{"a malformed Retry-After: the backoff", func() step { return retryAfter(429, "soon") }, DefaultBaseDelay},
		{"exactly MaxRetryAfter", func() step { return retryAfter(503, "30") }, 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(tc.first(), status(200))
				var info RetryInfo
				cfg := quiet(Config{OnRetry: func(i RetryInfo) { info = i }})
				start := time.Now()
				resp, err := New(cfg).Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
				require.NoError(t, err)
				assert.Equal(t, 200, resp.StatusCode)
				resp.Body.Close()
				// Honoured, never earlier, at most RetryAfterSpread later.
				waited := time.Since(start)
				assert.GreaterOrEqual(t, waited, tc.want)
				if info.ServerDelay {
					assert.LessOrEqual(t, waited, spread(tc.want, 1))
				} else {
					assert.Equal(t, tc.want, waited, "NoJitter's first backoff, exactly")
				}
				assert.Equal(t, []time.Duration{waited}, s.gaps())
				assert.Equal(t, waited, info.Delay)
				assert.Equal(t, 1, info.Attempt)
				assert.Zero(t, s.tr.Open())
			})
		})
	}
}

// A dead load balancer answering every request "503, Retry-After: 0" is
// backed off from like any failing host, never retried back to back: the
// stage took the 0 for the server's wait, and sent every attempt at once.
func TestRetryAfterZeroBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(retryAfter(503, "0"))
		var infos []RetryInfo
		cfg := quiet(Config{MaxAttempts: 4, Budget: tolerant(), OnRetry: func(i RetryInfo) { infos = append(infos, i) }})
		resp, err := New(cfg).Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		assert.Equal(t, 503, resp.StatusCode)
		resp.Body.Close()
		b := DefaultBaseDelay
		assert.Equal(t, []time.Duration{b, 2 * b, 4 * b}, s.gaps())
		for _, i := range infos {
			assert.False(t, i.ServerDelay, "the backoff, not the server's word")
		}
	})
}

// A server's wait is a minimum: never shortened, but spread up to
// RetryAfterSpread later, so that clients told the same thing at once do
// not all come back in the same millisecond.
func TestRetryAfterSpread(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 50 {
		synctest.Test(t, func(t *testing.T) {
			s := newScript(retryAfter(503, "1"), retryAfter(503, "1"), status(200))
			resp, err := New(Config{}).Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
			require.NoError(t, err)
			resp.Body.Close()
			for _, g := range s.gaps() {
				require.GreaterOrEqual(t, g, time.Second)
				require.LessOrEqual(t, g, 1200*time.Millisecond)
				seen[g] = true
			}
		})
	}
	assert.Greater(t, len(seen), 90, "100 waits, (almost) all different")
}

func TestSpread(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		u    float64
		want time.Duration
	}{
		{time.Second, 0, time.Second},
		{time.Second, 0.5, 1100 * time.Millisecond},
		{time.Second, 0.999999, 1199999800 * time.Nanosecond},
		{0, 0.7, 0},
		{math.MaxInt64, 0.5, math.MaxInt64},
		{math.MaxInt64 - 10, 0.000001, math.MaxInt64},
	} {
		assert.Equal(t, tc.want, spread(tc.d, tc.u), "%v, %v", tc.d, tc.u)
	}
}

// The stage that deposited reports every attempt's outcome to its budget,
// whose failure gate then stops retries into a dead upstream: 10 requests,
// every attempt failing, cost 13 attempts instead of 30 (the first request
// retries twice, the second once; five failures close the gate), though
// the floor alone would allow 10 retries per second.
func TestFailuresCloseTheBudgetGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := budget.New(budget.Config{})
		s := &testkit.Stub{Respond: func(int, *http.Request) (*http.Response, error) {
			return testkit.Respond(nil, 503, "down", nil), nil
		}}
		r := New(Config{Budget: b})
		rt := r.Wrap(s)
		for range 10 {
			resp, err := rt.RoundTrip(newReq(t, t.Context(), "GET", ""))
			require.NoError(t, err)
			resp.Body.Close()
		}
		assert.Equal(t, 13, s.Calls())
		assert.Equal(t, Stats{Requests: 10, Retries: 3, Exhausted: 1, BudgetDenied: 9}, r.Stats())
		assert.Equal(t, uint64(13), b.Stats().Failures)
		assert.Equal(t, uint64(9), b.Stats().Gated)

		// A stage inside another that deposited into the same budget
		// leaves the reporting to it: each attempt counts once.
		shared := budget.New(budget.Config{})
		marks := attempt.Marks(1, attempt.Mark{Budget: shared})
		ctx := attempt.WithHedge(t.Context(), &marks[0])
		resp, err := New(Config{Budget: shared}).Wrap(s).RoundTrip(newReq(t, ctx, "GET", ""))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Zero(t, shared.Stats().Failures)
	})
}

// A Retry-After above MaxRetryAfter returns that response at once.
func TestHugeRetryAfterReturnsAtOnce(t *testing.T) {
	for _, v := range []string{"31", "3600", "99999999999999999999", "Fri, 31 Dec 2099 23:59:59 GMT"} {
		t.Run(v, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(retryAfter(503, v), status(200))
				r := New(Config{})
				start := time.Now()
				resp, err := r.Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
				require.NoError(t, err)
				assert.Zero(t, time.Since(start), "no sleep at all")
				assert.Equal(t, 503, resp.StatusCode)
				assert.Equal(t, v, resp.Header.Get("Retry-After"))
				assert.Equal(t, "slow down", readBody(t, resp))
				assert.Equal(t, 1, s.Calls())
				assert.Equal(t, Stats{Requests: 1, ThrottleStops: 1}, r.Stats())
			})
		})
	}
}

// A Retry-After that fits MaxRetryAfter but not the caller's deadline also
// returns at once.
func TestRetryAfterPastDeadlineReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(retryAfter(429, "5"), status(200))
		ctx, cancel := context.WithTimeout(t.Context(), 4*time.Second)
		defer cancel()
		r := New(Config{})
		start := time.Now()
		resp, err := r.Wrap(s).RoundTrip(newReq(t, ctx, "GET", ""))
		require.NoError(t, err)
		assert.Zero(t, time.Since(start))
		assert.Equal(t, 429, resp.StatusCode)
		assert.Equal(t, "slow down", readBody(t, resp))
		assert.Equal(t, Stats{Requests: 1, DeadlineStops: 1}, r.Stats())
	})
}

// No wait that ends at or after the deadline is started; the last outcome
// is returned, whether a response or an error.
func TestDeadlineAwareBackoff(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first step
	}{{"response", status(503)}, {"error", step{err: errReset}}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScript(tc.first)
				ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
				defer cancel()
				r := New(Config{MaxAttempts: 10, BaseDelay: time.Second, Jitter: NoJitter})
				start := time.Now()
				resp, err := r.Wrap(s).RoundTrip(newReq(t, ctx, "GET", ""))
				// Attempts at 0 s and 1 s; the next wait (2 s) would end at 3 s,
				// the deadline, so the stage stops at 1 s.
				assert.Equal(t, time.Second, time.Since(start))
				assert.Equal(t, 2, s.Calls())
				assert.NoError(t, ctx.Err(), "returned before the deadline")
				if tc.first.err != nil {
					var re *Error
					require.ErrorAs(t, err, &re)
					assert.Equal(t, 2, re.Attempts)
					assert.ErrorIs(t, err, errReset)
				} else {
					require.NoError(t, err)
					assert.Equal(t, 503, resp.StatusCode)
					assert.Equal(t, "Service Unavailable", readBody(t, resp))
				}
				assert.Equal(t, Stats{Requests: 1, Retries: 1, DeadlineStops: 1}, r.Stats())
			})
		})
	}
}

// Cancelling during a wait returns ctx.Err() untouched at that instant,
// with the discarded response closed and no timer left running (goleak and
// synctest would report it).
func TestCancelDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503))
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(1500*time.Millisecond, cancel)
		start := time.Now()
		resp, err := New(Config{BaseDelay: time.Minute, MaxDelay: time.Minute, Jitter: NoJitter}).
			Wrap(s).RoundTrip(newReq(t, ctx, "GET", ""))
		assert.Nil(t, resp)
		assert.Same(t, context.Canceled, err, "ctx.Err() untouched")
		assert.Equal(t, 1500*time.Millisecond, time.Since(start))
		assert.Equal(t, 1, s.Calls())
		assert.Zero(t, s.tr.Open())
		synctest.Wait()
	})
}

// Cancelling during an attempt returns what the transport returned.
func TestCancelDuringAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			return nil, testkit.Sleep(req.Context(), time.Hour)
		}}
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		_, err := New(Config{}).Wrap(s).RoundTrip(newReq(t, ctx, "GET", ""))
		assert.Same(t, context.Canceled, err)
		assert.Equal(t, 1, s.Calls())
	})
}

func TestWaitZeroAndCanceled(t *testing.T) {
	assert.NoError(t, wait(context.Background(), 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, wait(ctx, 0), context.Canceled)
	assert.ErrorIs(t, wait(ctx, time.Hour), context.Canceled)
}

// A custom policy returning backoff.Stop ends the retries.
func TestPolicyStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(status(503))
		stop := func(time.Duration, time.Duration) backoff.BackOff { return &backoff.StopBackOff{} }
		r := New(Config{Jitter: stop})
		resp, err := r.Wrap(s).RoundTrip(newReq(t, t.Context(), "GET", ""))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 1, s.Calls())
		assert.Equal(t, uint64(1), r.Stats().Exhausted)
	})
}
