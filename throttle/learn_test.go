package throttle

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/attempt"
)

// feedback records what the throttle reports to an enclosing race.
type feedback struct {
	mu      sync.Mutex
	reports []attempt.Report
}

func (f *feedback) Report(r attempt.Report) {
	f.mu.Lock()
	f.reports = append(f.reports, r)
	f.mu.Unlock()
}

func (f *feedback) pauses() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Time
	for _, r := range f.reports {
		out = append(out, r.PauseUntil)
	}
	return out
}

// TestPauseStopsHedging: a pause the throttle learns, or waits out, is
// reported to an enclosing hedge race, which then sends no further hedges
// of the request (issue 11, bug 10).
func TestPauseStopsHedging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = func(n int, req *http.Request) *http.Response {
			if n == 1 {
				return reply(req, &u.tr, 429, "Retry-After", "3", "RateLimit-Policy", roomy)
			}
			return reply(req, &u.tr, 200)
		}
		rt := New(Config{}).Wrap(u)
		first, second := &feedback{}, &feedback{}
		_, err := send(attempt.WithFeedback(context.Background(), first), rt, "http://a.test/")
		require.NoError(t, err)
		opens := time.Now().Add(3 * time.Second)
		assert.Equal(t, []time.Time{opens}, first.pauses(), "the response that closed the gate")

		_, err = send(attempt.WithFeedback(context.Background(), second), rt, "http://a.test/")
		require.NoError(t, err)
		assert.Equal(t, []time.Time{opens}, second.pauses(), "a request waiting out the pause")
	})
}

func TestMaxPauseCapsAPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = func(n int, req *http.Request) *http.Response {
			if n == 1 {
				return reply(req, &u.tr, 429, "Retry-After", "86400", "RateLimit-Policy", roomy)
			}
			return reply(req, &u.tr, 200)
		}
		th := New(Config{MaxPause: 10 * time.Second, MaxWait: time.Minute})
		rt := th.Wrap(u)
		start := time.Now()
		send(context.Background(), rt, "http://a.test/")
		assert.Equal(t, start.Add(10*time.Second), th.Snapshot()[0].PausedUntil)
		status, err := send(context.Background(), rt, "http://a.test/")
		assert.NoError(t, err)
		assert.Equal(t, 200, status)
		assert.Equal(t, []time.Duration{0, 10 * time.Second}, u.times(start), "a day's Retry-After costs MaxPause, then a probe")
	})
}

// TestLearnCountsForAdaptive checks what adaptive throttling counts: a
// refusal without a pause is a request not accepted; a pause, a
// cancellation and an inner stage's rejection count as nothing.
func TestLearnCountsForAdaptive(t *testing.T) {
	tests := []struct {
		name     string
		resp     func(req *http.Request) *http.Response
		err      error
		requests uint64
		accepts  uint64
	}{
		{"200", func(req *http.Request) *http.Response { return reply(req, nil, 200) }, nil, 1, 1},
		{"404", func(req *http.Request) *http.Response { return reply(req, nil, 404) }, nil, 1, 1},
		{"503", func(req *http.Request) *http.Response { return reply(req, nil, 503) }, nil, 1, 0},
		{"bare 429", func(req *http.Request) *http.Response { return reply(req, nil, 429) }, nil, 1, 0},
		{"429 with a pause", func(req *http.Request) *http.Response { return reply(req, nil, 429, "Retry-After", "1") }, nil, 0, 0},
		{"a transport error", nil, errReset, 1, 0},
		{"canceled", nil, context.Canceled, 0, 0},
		{"rejected by an inner stage", nil, &Error{Host: "x", Reason: Pace}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := New(Config{})
			rt := th.Wrap(roundTripFunc(func(req *http.Request) (*http.Response, error) {
				if tt.err != nil {
					return nil, tt.err
				}
				return tt.resp(req), nil
			}))
			send(context.Background(), rt, "http://a.test/")
			h := th.hosts.all()[0]
			got := h.adaptive.w.totals(time.Now())
			assert.Equal(t, tt.requests, got.a, "requests")
			assert.Equal(t, tt.accepts, got.b, "accepts")
		})
	}
}

// TestPermanent429IsProbedEverySecond: a server answering "429,
// Retry-After: 1" forever is probed once a second, not ever more rarely:
// AIMD cuts once (a 429 before any success at the new rate says nothing
// about it), so the pacing never holds the probes back.
func TestPermanent429IsProbedEverySecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = always(u, 429, "Retry-After", "1")
		th := New(Config{})
		rt := th.Wrap(u)
		start := time.Now()
		for time.Since(start) < 10*time.Second {
			send(context.Background(), rt, "http://a.test/")
		}
		r := th.Snapshot()[0].Rate
		times := u.times(start)
		assert.Len(t, times, 11, "one request per second")
		assert.Equal(t, 10*time.Second, times[10])
		assert.Greater(t, float64(r), 1.0, "the first 429 cut the rate once; the probes' 429s did not")
	})
}

// errReset is a transport error that is not a cancellation.
var errReset = &netError{"connection reset by peer"}

type netError struct{ s string }

func (e *netError) Error() string { return e.s }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// TestCutJudgesByPaceTurn: responses to requests that took their turn in
// the pace before a cut say nothing about the cut rate, even when they
// were sent after it, so a queue of them does not cut the rate again.
func TestCutJudgesByPaceTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{latency: 10 * time.Millisecond}
		u.answer = func(n int, req *http.Request) *http.Response {
			switch n {
			case 1, 2, 4, 6: // the first cut; then the two queued answers
				return reply(req, &u.tr, 429)
			}
			return reply(req, &u.tr, 200)
		}
		th := New(Config{})
		rt := th.Wrap(u)
		// Two 429s to requests in flight together (a lone request's bare
		// 429 starts no pacing: see pacer.sparse): the first cut, from
		// the send rate.
		var first2 sync.WaitGroup
		for range 2 {
			first2.Go(func() { send(context.Background(), rt, "http://a.test/") })
		}
		first2.Wait()
		first := th.Snapshot()[0].Rate
		send(context.Background(), rt, "http://a.test/") // 200: a success at the new rate
		// Four requests take their turns now; the first of them gets a 429
		// and cuts the rate while the other three still wait for theirs.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { send(context.Background(), rt, "http://a.test/") })
		}
		wg.Wait()
		got, once := float64(th.Snapshot()[0].Rate), float64(first)*AIMDDecrease
		assert.True(t, got >= once && got < once*1.01,
			"one cut (to %v, and a little growth since) for the queue's 429s, got %v: the success and the 429 after it were paced at the old rate", once, got)
	})
}

// TestHedgesHeldOffAfterPushback: a host that answered throttled (a bare
// 429 as much as one with Retry-After) gets no hedge for HedgeHoldoff, even
// when its pace has a token free: it has no spare capacity for copies.
// Originals and retries go as usual. Round 2 admitted the hedges, and
// against a bare-429 upstream 194 of 442 requests were hedges.
func TestHedgesHeldOffAfterPushback(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer []string // the first response's status and headers
	}{
		{"bare 429", []string{"429"}},
		{"429 with Retry-After", []string{"429", "Retry-After", "1"}},
		{"503 asking for a pause", []string{"503", "Retry-After", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{}
				u.answer = func(n int, req *http.Request) *http.Response {
					if n == 1 {
						status := map[string]int{"429": 429, "503": 503}[tc.answer[0]]
						return reply(req, &u.tr, status, append(tc.answer[1:], "RateLimit-Policy", roomy)...)
					}
					return reply(req, &u.tr, 200, "RateLimit-Policy", roomy)
				}
				th := New(Config{})
				rt := th.Wrap(u)
				start := time.Now()
				_, err := send(context.Background(), rt, "http://a.test/")
				require.NoError(t, err)
				time.Sleep(2 * time.Second) // past any pause: originals go at once

				_, err = send(hedgeCtx(context.Background(), 2), rt, "http://a.test/")
				var te *Error
				require.ErrorAs(t, err, &te, "a hedge within the holdoff")
				assert.Equal(t, Gate, te.Reason)
				assert.Equal(t, start.Add(HedgeHoldoff), te.Until)
				status, err := send(context.Background(), rt, "http://a.test/")
				require.NoError(t, err, "an original goes")
				assert.Equal(t, 200, status)

				time.Sleep(HedgeHoldoff)
				_, err = send(hedgeCtx(context.Background(), 2), rt, "http://a.test/")
				assert.NoError(t, err, "after the holdoff a hedge goes again")
				assert.Equal(t, 3, u.count(), "the refused hedge was not sent")
			})
		})
	}
}
