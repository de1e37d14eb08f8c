package throttle

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/attempt"
)

// TestGateSteps drives the gate's state machine at fixed instants, the way
// rate's tests do: each step is an action at an offset from t0 and the
// state a request then finds.
func TestGateSteps(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type step struct {
		at       time.Duration
		do       string // "pause", "settle-open", "settle-pushback", "settle-abandon", or "" (just enter)
		pauseTo  time.Duration
		mayProbe bool
		want     gateState
		until    time.Duration // for gateClosed
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"open by default", []step{
			{at: 0, mayProbe: true, want: gateOpen},
		}},
		{"pause closes until its end, then one probe", []step{
			{at: 0, do: "pause", pauseTo: 5 * time.Second, mayProbe: true, want: gateClosed, until: 5 * time.Second},
			{at: 4 * time.Second, mayProbe: true, want: gateClosed, until: 5 * time.Second},
			{at: 5 * time.Second, mayProbe: true, want: gateProbe},
			{at: 5 * time.Second, mayProbe: true, want: gateProbing},
			{at: 6 * time.Second, do: "settle-open", mayProbe: true, want: gateOpen},
		}},
		{"a hedge never probes", []step{
			{at: 0, do: "pause", pauseTo: time.Second, mayProbe: false, want: gateClosed, until: time.Second},
			{at: time.Second, mayProbe: false, want: gateClosed, until: time.Second},
			{at: time.Second, mayProbe: true, want: gateProbe},
		}},
		{"a probe pushed back closes again", []step{
			{at: 0, do: "pause", pauseTo: time.Second, mayProbe: true, want: gateClosed, until: time.Second},
			{at: time.Second, mayProbe: true, want: gateProbe},
			{at: 1100 * time.Millisecond, do: "pause", pauseTo: 2100 * time.Millisecond, mayProbe: true, want: gateClosed, until: 2100 * time.Millisecond},
			{at: 1100 * time.Millisecond, do: "settle-pushback", mayProbe: true, want: gateClosed, until: 2100 * time.Millisecond},
			{at: 2100 * time.Millisecond, mayProbe: true, want: gateProbe},
		}},
		{"an abandoned probe is passed on", []step{
			{at: 0, do: "pause", pauseTo: time.Second, mayProbe: true, want: gateClosed, until: time.Second},
			{at: time.Second, mayProbe: true, want: gateProbe},
			{at: time.Second, do: "settle-abandon", mayProbe: true, want: gateProbe},
		}},
		{"a shorter pause does not shorten a longer one", []step{
			{at: 0, do: "pause", pauseTo: 5 * time.Second, mayProbe: true, want: gateClosed, until: 5 * time.Second},
			{at: time.Second, do: "pause", pauseTo: 2 * time.Second, mayProbe: true, want: gateClosed, until: 5 * time.Second},
		}},
		{"a good probe does not open a gate a later pause extended", []step{
			{at: 0, do: "pause", pauseTo: time.Second, mayProbe: true, want: gateClosed, until: time.Second},
			{at: time.Second, mayProbe: true, want: gateProbe},
			{at: 1100 * time.Millisecond, do: "pause", pauseTo: 3 * time.Second, mayProbe: true, want: gateClosed, until: 3 * time.Second},
			{at: 1200 * time.Millisecond, do: "settle-open", mayProbe: true, want: gateClosed, until: 3 * time.Second},
			{at: 3 * time.Second, mayProbe: true, want: gateProbe},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g gate
			for i, s := range tt.steps {
				now := at(s.at)
				switch s.do {
				case "pause":
					g.pause(at(s.pauseTo))
				case "settle-open":
					g.settle(now, probeOpen)
				case "settle-pushback":
					g.settle(now, probePushback)
				case "settle-abandon":
					g.settle(now, probeAbandoned)
				}
				v := g.enter(now, s.mayProbe, false)
				require.Equal(t, s.want, v.state, "step %d", i)
				if s.want == gateClosed {
					assert.Equal(t, at(s.until), v.until, "step %d", i)
				}
			}
		})
	}
}

func TestGateWakesWaitersOnChange(t *testing.T) {
	var g gate
	t0 := time.Now()
	g.pause(t0.Add(time.Hour))
	v := g.enter(t0, true, false)
	require.Equal(t, gateClosed, v.state)
	select {
	case <-v.changed:
		t.Fatal("woken without a change")
	default:
	}
	g.pause(t0.Add(2 * time.Hour))
	select {
	case <-v.changed:
	default:
		t.Fatal("a longer pause must wake waiters, who may no longer afford it")
	}
}

// TestHostWideGate is the first point: a 429 with Retry-After to
// one request pauses every request to that host, and only that host.
func TestHostWideGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		u := &upstream{}
		u.answer = func(n int, req *http.Request) *http.Response {
			if n == 1 {
				// The policy makes the pace irrelevant here (without one,
				// AIMD would pace the host after its 429; see aimd_test).
				return reply(req, &u.tr, 429, "Retry-After", "5", "RateLimit-Policy", roomy)
			}
			return reply(req, &u.tr, 200)
		}
		other := &upstream{}
		other.answer = always(other, 200)
		th := New(Config{})
		rt := th.Wrap(routeByHost{"a.test": u, "b.test": other})

		status, err := send(context.Background(), rt, "http://a.test/1")
		require.NoError(t, err)
		assert.Equal(t, 429, status, "the throttle returns the response; it never retries")

		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				status, err := send(context.Background(), rt, "http://a.test/2")
				assert.NoError(t, err)
				assert.Equal(t, 200, status)
			})
		}
		_, err = send(context.Background(), rt, "http://b.test/")
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{0}, other.times(start), "another host is not paused")
		wg.Wait()

		times := u.times(start)
		require.Len(t, times, 6)
		assert.Equal(t, 5*time.Second, times[1], "the probe goes exactly when the pause ends")
		for _, at := range times[2:] {
			assert.GreaterOrEqual(t, at, 5*time.Second)
			assert.Less(t, at, 5*time.Second+DefaultReleaseWindow, "released within the window")
		}
		assert.NotEqual(t, times[2], times[5], "waiters are spread, not released at once")
		st := th.Stats()
		assert.EqualValues(t, 1, st.Pauses)
		assert.EqualValues(t, 5, st.Waited)
		assert.EqualValues(t, 0, st.Rejected())
		assert.Zero(t, u.tr.Open()+other.tr.Open())
	})
}

// routeByHost sends each request to the transport of its URL's host.
type routeByHost map[string]http.RoundTripper

func (r routeByHost) RoundTrip(req *http.Request) (*http.Response, error) {
	return r[req.URL.Hostname()].RoundTrip(req)
}

// TestGateRejectsWhatCannotWait covers the rejection rules at a closed
// gate: past MaxWait, past the deadline, and hedges, each at once and
// unsent, with the instant the gate opens as the hint.
func TestGateRejectsWhatCannotWait(t *testing.T) {
	tests := []struct {
		name    string
		maxWait time.Duration
		ctx     func(context.Context) (context.Context, context.CancelFunc)
	}{
		{"beyond MaxWait", 5 * time.Second, nil},
		{"MaxWait negative: never waits", -1, nil},
		{"beyond the deadline", 0, func(c context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(c, 9*time.Second)
		}},
		{"a wait ending at the deadline", 0, func(c context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(c, 10*time.Second)
		}},
		{"a hedge", 0, func(c context.Context) (context.Context, context.CancelFunc) {
			return hedgeCtx(c, 2), func() {}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{}
				u.answer = always(u, 429, "Retry-After", "10")
				th := New(Config{MaxWait: tt.maxWait})
				rt := th.Wrap(u)
				_, err := send(context.Background(), rt, "http://a.test/")
				require.NoError(t, err)
				opens := time.Now().Add(10 * time.Second)

				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if tt.ctx != nil {
					ctx, cancel = tt.ctx(ctx)
				}
				defer cancel()
				body := &closeTracker{}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://a.test/", body)
				before := time.Now()
				resp, err := rt.RoundTrip(req)
				assert.Nil(t, resp)
				assert.Equal(t, before, time.Now(), "rejected at once")
				assert.ErrorIs(t, err, ErrThrottled)
				var te *Error
				require.ErrorAs(t, err, &te)
				assert.Equal(t, Gate, te.Reason)
				assert.Equal(t, "http://a.test:80", te.Host)
				assert.Equal(t, opens, te.Until)
				assert.Equal(t, 10*time.Second, te.RetryAfter())
				assert.True(t, body.closed, "the body is closed even though nothing was sent")
				assert.Equal(t, 1, u.count(), "nothing was sent")
				assert.EqualValues(t, 1, th.Stats().RejectedGate)
				assert.NoError(t, ctx.Err(), "the caller's context is never canceled")
			})
		})
	}
}

// TestGateWaitEndsWithContext: a caller that cancels while waiting gets
// ctx.Err() at once, and its leaving does not disturb the others.
func TestGateWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = func(n int, req *http.Request) *http.Response {
			if n == 1 {
				return reply(req, &u.tr, 503, "Retry-After", "3")
			}
			return reply(req, &u.tr, 200)
		}
		rt := New(Config{}).Wrap(u)
		_, err := send(context.Background(), rt, "http://a.test/")
		require.NoError(t, err)

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			_, err := send(ctx, rt, "http://a.test/")
			done <- err
		}()
		time.Sleep(time.Second)
		cancel()
		synctest.Wait()
		select {
		case err := <-done:
			assert.True(t, errors.Is(err, context.Canceled))
			assert.NotErrorIs(t, err, ErrThrottled)
		default:
			t.Fatal("a canceled waiter must return at once")
		}
		status, err := send(context.Background(), rt, "http://a.test/")
		require.NoError(t, err)
		assert.Equal(t, 200, status)
		assert.Equal(t, 2, u.count())
	})
}

// TestProbePassedOnWhenUnanswered: if the probe's caller cancels, the next
// waiter probes instead of everyone waiting forever.
func TestProbePassedOnWhenUnanswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		u := &upstream{latency: time.Second}
		u.answer = func(n int, req *http.Request) *http.Response {
			if n == 1 {
				return reply(req, &u.tr, 429, "Retry-After", "2", "RateLimit-Policy", roomy)
			}
			return reply(req, &u.tr, 200)
		}
		rt := New(Config{}).Wrap(u)
		_, err := send(context.Background(), rt, "http://a.test/")
		require.NoError(t, err) // at 1 s; the gate is closed until 3 s

		probeCtx, cancelProbe := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		defer cancelProbe()
		var wg sync.WaitGroup
		wg.Go(func() {
			_, err := send(probeCtx, rt, "http://a.test/probe")
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		})
		time.Sleep(2100 * time.Millisecond) // 3.1 s: the probe is in flight
		wg.Go(func() {
			status, err := send(context.Background(), rt, "http://a.test/next")
			assert.NoError(t, err)
			assert.Equal(t, 200, status)
		})
		wg.Wait()
		times := u.times(start)
		require.Len(t, times, 3)
		assert.Equal(t, 3*time.Second, times[1], "the first probe")
		assert.Equal(t, 3500*time.Millisecond, times[2], "the next waiter probes as soon as the first times out")
	})
}

// TestRetryWaitsExactlyForTheGate: a retry (attempt 2 of an enclosing retry
// stage) meeting the gate waits exactly until it opens, like an original;
// a hedge's retry is still a hedge and does not wait.
func TestRetryWaitsExactlyForTheGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = func(n int, req *http.Request) *http.Response {
			if n == 1 {
				return reply(req, &u.tr, 429, "Retry-After", "2", "RateLimit-Policy", roomy)
			}
			return reply(req, &u.tr, 200)
		}
		rt := New(Config{}).Wrap(u)
		start := time.Now()
		send(context.Background(), rt, "http://a.test/")
		retryCtx := attempt.WithRetry(context.Background(), &attempt.Marks(2, attempt.Mark{})[1])

		_, err := send(attempt.WithRetry(hedgeCtx(context.Background(), 2), &attempt.Marks(2, attempt.Mark{})[1]), rt, "http://a.test/")
		assert.ErrorIs(t, err, ErrThrottled, "a hedge's retry is optional too")

		status, err := send(retryCtx, rt, "http://a.test/")
		assert.NoError(t, err)
		assert.Equal(t, 200, status)
		assert.Equal(t, []time.Duration{0, 2 * time.Second}, u.times(start))
	})
}

// TestReleaseWindowOnlyWithWaiters: requests arriving while an opening
// gate releases its waiters wait for the release window to end, behind
// them; but when the probe was the only request waiting, nobody is being
// released, and a newcomer goes at once.
func TestReleaseWindowOnlyWithWaiters(t *testing.T) {
	for _, waiters := range []int{0, 3} {
		t.Run(fmt.Sprint(waiters, " waiters"), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{latency: 10 * time.Millisecond}
				u.answer = func(n int, req *http.Request) *http.Response {
					if n == 1 {
						return reply(req, &u.tr, 429, "Retry-After", "1", "RateLimit-Policy", roomy)
					}
					return reply(req, &u.tr, 200, "RateLimit-Policy", roomy)
				}
				rt := New(Config{}).Wrap(u)
				start := time.Now()
				send(context.Background(), rt, "http://a.test/") // the gate is closed from 10 ms to 1.01 s
				var wg sync.WaitGroup
				for range waiters + 1 { // the first to the gate probes, answered at 1.02 s
					wg.Go(func() { send(context.Background(), rt, "http://a.test/") })
				}
				time.Sleep(1100 * time.Millisecond) // to 1.11 s, inside the release window if one began at 1.02 s
				send(context.Background(), rt, "http://a.test/")
				times := u.times(start)
				newcomer := times[len(times)-1]
				if waiters == 0 {
					assert.Equal(t, 1110*time.Millisecond, newcomer, "nobody to release: at once")
				} else {
					assert.Equal(t, 1020*time.Millisecond+DefaultReleaseWindow, newcomer, "behind the released")
				}
				wg.Wait()
			})
		})
	}
}
