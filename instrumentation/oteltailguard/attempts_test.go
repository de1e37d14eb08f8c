package oteltailguard

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// TestAttemptsRefused: an attempt an inner stage refuses never reaches
// the transport, and is counted all the same, as rejected, with the stage
// that refused it; the kind still names the stage that made it.
func TestAttemptsRefused(t *testing.T) {
	t.Run("a retry refused by the breaker", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			mp, reader := newMeter(t)
			in := New(Config{MeterProvider: mp})
			b := breaker.New(breaker.Config{ConsecutiveFailures: 1, FailureRatio: -1, OpenTimeout: time.Hour})
			up := stub(func(n int, req *http.Request) (*http.Response, error) { return reply(req, 503), nil })
			rt := in.Pipeline(up.transport(), retry.New(retry.Config{BaseDelay: time.Millisecond}), b)
			_, err := do(t.Context(), rt, "GET", "http://b.test/")
			require.ErrorIs(t, err, breaker.ErrOpen)

			ps, _ := collect(t, reader)
			assert.Equal(t, map[string]float64{
				"attempt.kind=original,outcome=transient,server.address=b.test":           1,
				"attempt.kind=retry,outcome=rejected,server.address=b.test,stage=breaker": 1,
			}, ps[MetricAttempts])
			assert.Equal(t, map[string]float64{"breaker.state=open,server.address=b.test": 1}, ps[MetricBreakerRejections])
		})
	})
	t.Run("a hedge refused by the throttle", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			mp, reader := newMeter(t)
			in := New(Config{MeterProvider: mp})
			// One request in flight at a time: the hedge finds the
			// original's slot taken, and a hedge never waits.
			th := throttle.New(throttle.Config{MaxConcurrent: 1})
			up := stub(func(n int, req *http.Request) (*http.Response, error) { return after(req, time.Second, 200) })
			rt := in.Pipeline(up.transport(), hedge.New(hedge.Config{Delay: 10 * time.Millisecond}), th)
			status, err := do(t.Context(), rt, "GET", "http://q.test/")
			require.NoError(t, err)
			require.Equal(t, 200, status)

			ps, _ := collect(t, reader)
			assert.Equal(t, map[string]float64{
				"attempt.kind=original,outcome=success,server.address=q.test":              1,
				"attempt.kind=hedge,outcome=rejected,server.address=q.test,stage=throttle": 1,
			}, ps[MetricAttempts])
			assert.Equal(t, map[string]float64{"reason=concurrency,server.address=q.test": 1}, ps[MetricThrottleRejections])
			assert.EqualValues(t, 1, th.Stats().RejectedConcurrency)
		})
	})
}

// TestAttemptsStageVerdict: an attempt's outcome is the verdict of the
// classifier of the stage that sent it, not idempotency.Default's: a 409
// the retry stage is told to retry is a transient failure, as the stage
// treated it.
func TestAttemptsStageVerdict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})
		inFlight := idempotency.WithStatus(nil, map[int]idempotency.Kind{http.StatusConflict: idempotency.Transient})
		r := retry.New(retry.Config{BaseDelay: time.Millisecond, Classifier: inFlight})
		up := stub(func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				return reply(req, 409), nil
			}
			return reply(req, 200), nil
		})
		status, err := do(t.Context(), in.Pipeline(up.transport(), r), "GET", "http://api.test/")
		require.NoError(t, err)
		require.Equal(t, 200, status)

		ps, _ := collect(t, reader)
		assert.Equal(t, map[string]float64{
			"attempt.kind=original,outcome=transient,server.address=api.test": 1,
			"attempt.kind=retry,outcome=success,server.address=api.test":      1,
		}, ps[MetricAttempts])
		assert.Equal(t, uint64(1), r.Stats().Retries)
	})
}

// TestHedgeWinsInnerHedge: a hedge that wins inside a retry stage's
// attempt is counted, though the retry stage, outermost, records the
// request's outcome.
func TestHedgeWinsInnerHedge(t *testing.T) {
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
		_, err := do(t.Context(), in.Pipeline(up.transport(), retry.New(retry.Config{}), h), "GET", "http://api.test/")
		require.NoError(t, err)
		synctest.Wait()

		ps, _ := collect(t, reader)
		assert.Equal(t, map[string]float64{"server.address=api.test,stage=hedge": 1}, ps[MetricHedgeWins])
		assert.Equal(t, uint64(1), h.Stats().HedgeWins)
	})
}

// TestThrottleReasons: the adaptive and concurrency reasons, on the wait
// histogram and the rejection counter, agree with the throttle's Stats.
func TestThrottleReasons(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})

		// Concurrency: one slot, held 1 s by each request. The second
		// waits 1 s for it; the third would wait 2 s, past MaxWait.
		slots := throttle.New(throttle.Config{MaxConcurrent: 1, MaxWait: 1500 * time.Millisecond})
		slow := stub(func(n int, req *http.Request) (*http.Response, error) { return after(req, time.Second, 200) })
		rt := in.Pipeline(slow.transport(), slots)
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { do(t.Context(), rt, "GET", "http://c.test/") })
			synctest.Wait()
		}
		_, err := do(t.Context(), rt, "GET", "http://c.test/")
		require.ErrorIs(t, err, throttle.ErrThrottled)
		wg.Wait()

		// Adaptive: a host that refuses everything is soon shed locally.
		shed := throttle.New(throttle.Config{})
		refusing := stub(func(n int, req *http.Request) (*http.Response, error) { return reply(req, 503), nil })
		rt = in.Pipeline(refusing.transport(), shed)
		for shed.Stats().RejectedAdaptive < 3 {
			do(t.Context(), rt, "GET", "http://a.test/")
			time.Sleep(10 * time.Millisecond)
		}

		ps, ss := collect(t, reader)
		assert.Equal(t, map[string]float64{"reason=concurrency,server.address=c.test": 1}, ps[MetricThrottleWait])
		assert.InDelta(t, 1.0, ss[MetricThrottleWait]["reason=concurrency,server.address=c.test"], 1e-9)
		assert.Equal(t, map[string]float64{
			"reason=concurrency,server.address=c.test": 1,
			"reason=adaptive,server.address=a.test":    3,
		}, ps[MetricThrottleRejections])
		st := slots.Stats()
		assert.Equal(t, uint64(1), st.RejectedConcurrency)
		assert.Equal(t, uint64(1), st.Waited)
		assert.Equal(t, uint64(3), shed.Stats().RejectedAdaptive)
		assert.Equal(t, float64(3), ps[MetricAttempts]["attempt.kind=original,outcome=rejected,server.address=a.test,stage=throttle"])
	})
}
