package faulttest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

// Cross-stage cells: what happens where two stages meet. Expected outcomes:
//
//	cell                                         expected
//	hedge outside a half-open breaker            200 from the probe; the hedge is refused locally (never sent)
//	                                             and does not cancel the probe; the breaker closes
//	retry outside an open breaker (long open)    breaker.ErrOpen at once, 1 attempt, 0 sent, no blind retry
//	retry outside an open breaker (short open)   retry waits the breaker's hint, then the probe answers 200:
//	                                             2 attempts, 1 sent
//	retry + hedge sharing a budget, 500 storm    every caller gets its 500; deposits = callers (once each);
//	                                             retries + hedges = withdrawals ≤ Ratio × callers
//	attempt timeouts against a black hole        retry.ErrAttemptTimeout after 3 × AttemptTimeout; 3 sent;
//	                                             the 3 timeouts open the breaker; the next call gets
//	                                             breaker.ErrOpen without sending

// hostKey is the default breaker key of srv.
func hostKey(srv *testkit.FaultServer) string { return "http://" + srv.Listener.Addr().String() }

// transitions records a breaker's state changes.
type transitions struct {
	mu  sync.Mutex
	got []string
}

func (tr *transitions) hook(c breaker.StateChange) {
	tr.mu.Lock()
	tr.got = append(tr.got, c.From.String()+"→"+c.To.String())
	tr.mu.Unlock()
}

func (tr *transitions) list() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.got...)
}

// trip opens srv's breaker with two 503s sent through the breaker alone.
func trip(t *testing.T, b *breaker.Breaker, tr http.RoundTripper, srv *testkit.FaultServer) {
	t.Helper()
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set(testkit.FaultHeader, "503")
		resp, err := b.Wrap(tr).RoundTrip(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	require.Equal(t, breaker.Open, b.StateOf(hostKey(srv)))
}

func get(t *testing.T, url, fault string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if fault != "" {
		req.Header.Set(testkit.FaultHeader, fault)
	}
	return req
}

func TestHedgeOutsideHalfOpenBreaker(t *testing.T) {
	for _, withRetry := range []bool{false, true} {
		name := "hedge→breaker"
		if withRetry {
			name = "hedge→retry→breaker"
		}
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{})
			tr := srv.Transport(t)
			var changes transitions
			b := breaker.New(breaker.Config{ConsecutiveFailures: 2, FailureRatio: -1,
				OpenTimeout: 30 * time.Millisecond, OnStateChange: changes.hook})
			var hedges atomic.Int64
			h := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 1,
				OnHedge: func(hedge.HedgeInfo) { hedges.Add(1) }})
			stages := []pipeline.Stage{h, b}
			if withRetry {
				stages = []pipeline.Stage{h, retry.New(retry.Config{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}), b}
			}
			rt := pipeline.NewWithBase(tr, stages...)

			trip(t, b, tr, srv)
			time.Sleep(40 * time.Millisecond) // past OpenTimeout: the next request is the probe

			// The probe is healthy but slow, so the hedge fires while it
			// is in flight and finds the breaker half-open, its one probe
			// slot taken.
			o := do(t, rt, get(t, srv.URL, testkit.FaultSlow(80*time.Millisecond).String()), 5*time.Second)
			require.NoError(t, o.err)
			assert.Equal(t, 200, o.status)
			assert.NoError(t, o.bodyErr)
			assert.EqualValues(t, 1, hedges.Load(), "the hedge fired")
			assert.True(t, srv.WaitIdle(time.Second))
			assert.Equal(t, 3, srv.Received(), "2 trips + the probe: the refused hedge never reached the server")
			assert.Equal(t, breaker.Closed, b.StateOf(hostKey(srv)), "the probe's success closed the breaker")
			assert.Equal(t, []string{"closed→open", "open→half-open", "half-open→closed"}, changes.list())
		})
	}
}

func TestRetryOutsideOpenBreaker(t *testing.T) {
	t.Run("open longer than MaxRetryAfter", func(t *testing.T) {
		noLeaks(t)
		srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{})
		tr := srv.Transport(t)
		b := breaker.New(breaker.Config{ConsecutiveFailures: 2, FailureRatio: -1, OpenTimeout: 5 * time.Second})
		var attempts atomic.Int64
		counted := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			attempts.Add(1)
			return b.Wrap(tr).RoundTrip(req)
		})
		r := retry.New(retry.Config{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxRetryAfter: time.Second})
		rt := r.Wrap(counted)
		trip(t, b, tr, srv)

		o := do(t, rt, get(t, srv.URL, ""), 5*time.Second)
		require.Error(t, o.err)
		assert.ErrorIs(t, o.err, breaker.ErrOpen, "the caller learns the breaker was open")
		var oe *breaker.OpenError
		require.ErrorAs(t, o.err, &oe)
		assert.Greater(t, oe.RetryAfter(), 4*time.Second)
		rej, ok := idempotency.AsRejection(o.err)
		assert.True(t, ok && rej.Rejected())
		assert.EqualValues(t, 1, attempts.Load(), "no blind retry against an open breaker")
		assert.Less(t, o.elapsed, 500*time.Millisecond, "returned at once, not after the open period")
		assert.Equal(t, 2, srv.Received(), "nothing sent")
		assert.Zero(t, r.Stats().ThrottleStops, "a rejection is returned at once, not weighed against MaxRetryAfter")
		assert.Zero(t, r.Stats().Retries)
	})
	t.Run("open shorter than MaxRetryAfter", func(t *testing.T) {
		// Issue 11, bug 11: the retry stage used to wait out the open
		// period; a rejection is now returned at once whatever its hint.
		noLeaks(t)
		srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{})
		tr := srv.Transport(t)
		b := breaker.New(breaker.Config{ConsecutiveFailures: 2, FailureRatio: -1, OpenTimeout: time.Second})
		var attempts atomic.Int64
		counted := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			attempts.Add(1)
			return b.Wrap(tr).RoundTrip(req)
		})
		r := retry.New(retry.Config{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
		trip(t, b, tr, srv)

		o := do(t, r.Wrap(counted), get(t, srv.URL, ""), 5*time.Second)
		assert.ErrorIs(t, o.err, breaker.ErrOpen)
		assert.Less(t, o.elapsed, 500*time.Millisecond, "returned at once, not after the open period")
		assert.EqualValues(t, 1, attempts.Load())
		assert.Equal(t, 2, srv.Received(), "nothing sent")
		assert.Zero(t, r.Stats().Retries)
	})
	t.Run("breaker MaxWait: waits inside the breaker for the probe", func(t *testing.T) {
		noLeaks(t)
		srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{})
		tr := srv.Transport(t)
		const openFor = 80 * time.Millisecond
		b := breaker.New(breaker.Config{ConsecutiveFailures: 2, FailureRatio: -1, OpenTimeout: openFor, MaxWait: time.Second})
		var attempts atomic.Int64
		counted := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			attempts.Add(1)
			return b.Wrap(tr).RoundTrip(req)
		})
		r := retry.New(retry.Config{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
		trip(t, b, tr, srv)
		tripped := time.Now()

		o := do(t, r.Wrap(counted), get(t, srv.URL, ""), 5*time.Second)
		require.NoError(t, o.err)
		assert.Equal(t, 200, o.status)
		assert.GreaterOrEqual(t, time.Since(tripped), openFor, "waited out the open period")
		assert.EqualValues(t, 1, attempts.Load(), "the wait is the breaker's: retry saw no rejection")
		assert.Equal(t, 3, srv.Received(), "the waiting request was the probe")
		assert.Zero(t, r.Stats().Retries)
		assert.Equal(t, breaker.Closed, b.StateOf(hostKey(srv)))
	})
}

func TestSharedBudgetUnder500Storm(t *testing.T) {
	const callers = 100
	const ratio = 0.1
	for _, order := range []string{"hedge→retry", "retry→hedge"} {
		t.Run(order, func(t *testing.T) {
			noLeaks(t)
			srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: testkit.FaultAlways(testkit.FaultStatus(500))})
			tr := srv.Transport(t)
			// A floor of 0.01/s over the default 1 s window is 0.01 extra
			// attempts: the ratio alone decides.
			b := budget.New(budget.Config{Ratio: ratio, MinPerSecond: 0.01})
			r := retry.New(retry.Config{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, Budget: b})
			h := hedge.New(hedge.Config{Delay: 5 * time.Millisecond, MaxHedges: 2, Budget: b})
			stages := []pipeline.Stage{h, r}
			if order == "retry→hedge" {
				stages = []pipeline.Stage{r, h}
			}
			rt := pipeline.NewWithBase(tr, stages...)

			var wg sync.WaitGroup
			results := make(chan outcome, callers)
			for range callers {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
					resp, err := rt.RoundTrip(req)
					var o outcome
					if o.err = err; err == nil {
						o.status = resp.StatusCode
						o.body, o.bodyErr = io.ReadAll(resp.Body)
						resp.Body.Close()
					}
					results <- o
				})
			}
			wg.Wait()
			close(results)
			for o := range results {
				if o.err != nil || o.status != 500 || o.bodyErr != nil || string(o.body) != "fault: 500" {
					t.Errorf("caller got %v, want its 500 with a readable body", o)
				}
			}
			require.True(t, srv.WaitIdle(2*time.Second))
			st := b.Stats()
			extras := r.Stats().Retries + h.Stats().Hedges
			assert.EqualValues(t, callers, st.Deposits, "each caller request deposited once across both stages")
			assert.Equal(t, st.Withdrawals, extras, "every retry and hedge was withdrawn")
			assert.LessOrEqual(t, float64(extras), ratio*callers, "extra attempts within the budget")
			assert.Positive(t, st.Denied, "the storm hit the budget")
			assert.EqualValues(t, callers+extras, srv.Received(), "the server saw exactly firsts + extras")
		})
	}
}

func TestAttemptTimeoutAgainstBlackHole(t *testing.T) {
	noLeaks(t)
	ex := &expectations{t: t, bug: knownBugs["cross/attempt-timeout-black-hole"]}
	defer ex.done()
	srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: testkit.FaultAlways(testkit.FaultOf(testkit.FaultBlackHole))})
	tr := srv.Transport(t)
	var changes transitions
	b := breaker.New(breaker.Config{ConsecutiveFailures: 3, FailureRatio: -1, OpenTimeout: 5 * time.Second,
		OnStateChange: changes.hook})
	const timeout = 50 * time.Millisecond
	r := retry.New(retry.Config{MaxAttempts: 3, AttemptTimeout: timeout, BaseDelay: time.Millisecond,
		MaxDelay: 2 * time.Millisecond, MaxRetryAfter: time.Second})
	rt := pipeline.NewWithBase(tr, r, b)

	o := do(t, rt, get(t, srv.URL, ""), 5*time.Second)
	require.Error(t, o.err)
	assert.ErrorIs(t, o.err, retry.ErrAttemptTimeout)
	assert.ErrorIs(t, o.err, context.DeadlineExceeded, "a timeout, as http.Client reports its own")
	var re *retry.Error
	if assert.ErrorAs(t, o.err, &re) {
		assert.Equal(t, 3, re.Attempts)
	}
	assert.GreaterOrEqual(t, o.elapsed, 3*timeout)
	assert.Less(t, o.elapsed, 3*timeout+time.Second, "bounded by 3 × AttemptTimeout + backoff")
	assert.True(t, srv.WaitIdle(2*time.Second), "every black-holed handler was released when its attempt ended")
	assert.Equal(t, 3, srv.Received())

	// A black-holed upstream is a failing upstream: the three timeouts
	// open the breaker, and the next call fails fast without sending.
	if got := changes.list(); len(got) != 1 || got[0] != "closed→open" {
		ex.Errorf("breaker transitions %v, want [closed→open]", got)
	}
	o = do(t, rt, get(t, srv.URL, ""), 5*time.Second)
	if !errors.Is(o.err, breaker.ErrOpen) {
		ex.Errorf("second call: %v, want breaker.ErrOpen", o)
	}
	if srv.Received() != 3 {
		ex.Errorf("second call reached the server: %d requests", srv.Received())
	}
}
