package oteltailguard

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// TestRetryMetrics: a request retried twice, and the attempts it made,
// exactly.
func TestRetryMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})
		r := retry.New(retry.Config{BaseDelay: 10 * time.Millisecond, Jitter: retry.NoJitter})
		up := stub(func(n int, req *http.Request) (*http.Response, error) {
			if n < 3 {
				return reply(req, 503), nil
			}
			return reply(req, 200), nil
		})
		status, err := do(t.Context(), in.Pipeline(up.transport(), r), "GET", "http://api.test/items/7")
		require.NoError(t, err)
		require.Equal(t, 200, status)

		ps, ss := collect(t, reader)
		assert.Equal(t, map[string]float64{"reason=backoff,server.address=api.test": 2}, ps[MetricRetries])
		assert.Equal(t, map[string]float64{
			"attempt.kind=original,outcome=transient,server.address=api.test": 1,
			"attempt.kind=retry,outcome=transient,server.address=api.test":    1,
			"attempt.kind=retry,outcome=success,server.address=api.test":      1,
		}, ps[MetricAttempts])
		assert.Equal(t, map[string]float64{
			"attempt.kind=original,error.type=503,http.response.status_code=503,server.address=api.test": 1,
			"attempt.kind=retry,error.type=503,http.response.status_code=503,server.address=api.test":    1,
			"attempt.kind=retry,http.response.status_code=200,server.address=api.test":                   1,
		}, ps[MetricAttemptDuration])
		assert.Equal(t, map[string]float64{"http.response.status_code=200,server.address=api.test": 1}, ps[MetricRequestDuration])
		assert.InDelta(t, 0.030, ss[MetricRequestDuration]["http.response.status_code=200,server.address=api.test"], 1e-9,
			"10 ms + 20 ms of backoff, on the fake clock")
		assert.Equal(t, uint64(2), r.Stats().Retries, "the stage's Stats agree")
	})
}

// TestHedgeMetrics: a hedge sent after its delay wins; the stalled
// original is canceled.
func TestHedgeMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})
		h := hedge.New(hedge.Config{Delay: 50 * time.Millisecond})
		up := stub(func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				return stall(req)
			}
			return after(req, 5*time.Millisecond, 200)
		})
		_, err := do(t.Context(), in.Pipeline(up.transport(), h), "GET", "http://api.test/")
		require.NoError(t, err)
		synctest.Wait()

		ps, ss := collect(t, reader)
		assert.Equal(t, map[string]float64{"reason=delay,server.address=api.test,stage=hedge": 1}, ps[MetricHedges])
		assert.Equal(t, map[string]float64{"server.address=api.test,stage=hedge": 1}, ps[MetricHedgeWins])
		assert.Equal(t, map[string]float64{
			"attempt.kind=original,outcome=canceled,server.address=api.test": 1,
			"attempt.kind=hedge,outcome=success,server.address=api.test":     1,
		}, ps[MetricAttempts])
		assert.InDelta(t, 0.055, ss[MetricRequestDuration]["http.response.status_code=200,server.address=api.test"], 1e-9)
		st := h.Stats()
		assert.Equal(t, uint64(1), st.Hedges)
		assert.Equal(t, uint64(1), st.HedgeWins)
	})
}

// TestGiveUpMetrics: give-ups by reason, and budget denials by stage.
func TestGiveUpMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})
		denying := budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9})
		failing := stub(func(n int, req *http.Request) (*http.Response, error) { return reply(req, 503), nil })
		slow := stub(func(n int, req *http.Request) (*http.Response, error) { return after(req, time.Second, 200) })

		rt := in.Pipeline(failing.transport(), retry.New(retry.Config{Budget: denying}))
		do(t.Context(), rt, "GET", "http://api.test/")  // budget
		do(t.Context(), rt, "POST", "http://api.test/") // not replayable
		rt = in.Pipeline(failing.transport(), retry.New(retry.Config{MaxAttempts: 2, BaseDelay: time.Millisecond}))
		do(t.Context(), rt, "GET", "http://b.test/") // exhausted
		rt = in.Pipeline(slow.transport(), hedge.New(hedge.Config{Delay: time.Millisecond, Budget: denying}))
		do(t.Context(), rt, "GET", "http://api.test/") // hedge denied

		ps, _ := collect(t, reader)
		assert.Equal(t, map[string]float64{
			"reason=budget,server.address=api.test":           1,
			"reason=not_replayable,server.address=api.test":   1,
			"reason=attempts_exhausted,server.address=b.test": 1,
		}, ps[MetricGiveUps])
		assert.Equal(t, map[string]float64{
			"server.address=api.test,stage=retry": 1,
			"server.address=api.test,stage=hedge": 1,
		}, ps[MetricBudgetDenials])
		assert.Equal(t, map[string]float64{"reason=backoff,server.address=b.test": 1}, ps[MetricRetries])
	})
}

// TestBreakerMetrics: transitions, refusals and the state gauge, including
// a transition noticed by the gauge's own reading of the breaker.
func TestBreakerMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})
		b := breaker.New(breaker.Config{ConsecutiveFailures: 2, FailureRatio: -1, OpenTimeout: time.Second})
		up := stub(func(n int, req *http.Request) (*http.Response, error) { return reply(req, 500), nil })
		rt := in.Pipeline(up.transport(), b)
		for range 3 {
			do(t.Context(), rt, "GET", "http://b.test/")
		}
		ps, _ := collect(t, reader)
		assert.Equal(t, map[string]float64{"breaker.from=closed,breaker.state=open,server.address=b.test": 1}, ps[MetricBreakerTransitions])
		assert.Equal(t, map[string]float64{"breaker.state=open,server.address=b.test": 1}, ps[MetricBreakerRejections])
		assert.Equal(t, map[string]float64{
			"breaker.state=closed,server.address=b.test":    0,
			"breaker.state=half-open,server.address=b.test": 0,
			"breaker.state=open,server.address=b.test":      1,
		}, ps[MetricBreakerState])

		time.Sleep(time.Second + time.Millisecond)
		collect(t, reader) // the gauge's Snapshot notices open → half-open
		ps, _ = collect(t, reader)
		assert.Equal(t, map[string]float64{
			"breaker.from=closed,breaker.state=open,server.address=b.test":    1,
			"breaker.from=open,breaker.state=half-open,server.address=b.test": 1,
		}, ps[MetricBreakerTransitions])
		assert.Equal(t, float64(1), ps[MetricBreakerState]["breaker.state=half-open,server.address=b.test"])
		assert.Equal(t, breaker.HalfOpen, b.StateOf("http://b.test:80"))
	})
}

// TestThrottleMetrics: a pause, a wait at the gate, a refusal, and a
// wait for the pace, each agreeing with the throttle's Stats.
func TestThrottleMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})
		th := throttle.New(throttle.Config{MaxWait: 5 * time.Second})
		up := stub(func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 || n == 3 {
				return reply(req, 429, "Retry-After", "2"), nil
			}
			return reply(req, 200), nil
		})
		rt := in.Pipeline(up.transport(), th)
		do(t.Context(), rt, "GET", "http://q.test/") // closes the gate for 2 s
		do(t.Context(), rt, "GET", "http://q.test/") // waits 2 s
		// Past the gate's release window, which requests arriving during
		// it wait out at the gate.
		time.Sleep(throttle.DefaultReleaseWindow)
		do(t.Context(), rt, "GET", "http://q.test/") // closes it again
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := do(ctx, rt, "GET", "http://q.test/") // cannot wait 2 s
		require.ErrorIs(t, err, throttle.ErrThrottled)

		// One request a second: the second of two waits 1 s for its turn.
		paced := throttle.New(throttle.Config{Rate: 1, Burst: 1})
		ok := stub(func(n int, req *http.Request) (*http.Response, error) { return reply(req, 200), nil })
		rt = in.Pipeline(ok.transport(), paced)
		do(t.Context(), rt, "GET", "http://p.test/")
		do(t.Context(), rt, "GET", "http://p.test/")

		ps, ss := collect(t, reader)
		assert.Equal(t, map[string]float64{"server.address=q.test": 2}, ps[MetricThrottlePauses])
		assert.Equal(t, map[string]float64{"reason=gate,server.address=q.test": 1,
			"reason=pace,server.address=p.test": 1}, ps[MetricThrottleWait])
		gate, pace := ss[MetricThrottleWait]["reason=gate,server.address=q.test"], ss[MetricThrottleWait]["reason=pace,server.address=p.test"]
		assert.InDelta(t, 2.0, gate, 0.25, "the wait is 2 s, plus up to the release window's spread")
		assert.InDelta(t, 1.0, pace, 1e-9, "one token a second, on the fake clock")
		assert.Equal(t, map[string]float64{"reason=gate,server.address=q.test": 1}, ps[MetricThrottleRejections])
		st := th.Stats()
		assert.Equal(t, uint64(2), st.Pauses)
		assert.Equal(t, uint64(1), st.RejectedGate)
		assert.Equal(t, uint64(1), st.Waited)
		assert.InDelta(t, st.WaitTime.Seconds(), gate, 1e-9, "the histogram's sum is the Stats' WaitTime")
		assert.Equal(t, uint64(1), paced.Stats().Waited)
		assert.InDelta(t, paced.Stats().WaitTime.Seconds(), pace, 1e-9)
		assert.Equal(t, map[string]float64{
			"error.type=*throttle.Error,server.address=q.test":                   1,
			"http.response.status_code=200,server.address=q.test":                1,
			"error.type=429,http.response.status_code=429,server.address=q.test": 2,
			"http.response.status_code=200,server.address=p.test":                2,
		}, ps[MetricRequestDuration])
	})
}
