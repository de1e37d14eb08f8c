package faulttest_test

// A hedge that loses the race inside a retry stage: the retry stage stops at
// once, the breaker excludes the canceled attempt, and nothing is left open.

import (
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

// hedge(retry(breaker)), shared budget: the original hangs; the hedge wins.
// The loser's retry stage must stop at once without retrying, and the
// breaker must exclude the canceled attempt.
func TestLoserInsideRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		stub := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			calls.Add(1)
			if hedge.CopyFrom(req.Context()) == 1 {
				if err := testkit.Sleep(req.Context(), time.Hour); err != nil {
					return nil, err
				}
			}
			return testkit.Respond(req, 200, "ok", nil), nil
		})
		bud := budget.New(budget.Config{})
		h := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, Budget: bud})
		var retries atomic.Int64
		r := retry.New(retry.Config{Budget: bud, OnRetry: func(retry.RetryInfo) { retries.Add(1) }})
		b := breaker.New(breaker.Config{})
		if d := timedGet(t, pipeline.NewWithBase(stub, h, r, b)); d != 10*time.Millisecond {
			t.Errorf("took %v", d)
		}
		synctest.Wait()
		if retries.Load() != 0 || calls.Load() != 2 {
			t.Errorf("retries %d calls %d", retries.Load(), calls.Load())
		}
		st := b.Snapshot()[0].Counts
		if st.Excluded != 1 || st.Failures != 0 || st.Successes != 1 {
			t.Errorf("breaker counts %+v", st)
		}
		bs := bud.Stats()
		if bs.Deposits != 1 || bs.Withdrawals != 1 {
			t.Errorf("budget %+v", bs)
		}
		rs := r.Stats()
		t.Logf("retry stats %+v hedge %+v", rs, h.Stats())
	})
}

func TestLoserInRetryWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr testkit.Tracker
		stub := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			if hedge.CopyFrom(req.Context()) == 1 {
				return testkit.Respond(req, 503, "busy", &tr), nil
			}
			if err := testkit.Sleep(req.Context(), time.Millisecond); err != nil {
				return nil, err
			}
			return testkit.Respond(req, 200, "ok", &tr), nil
		})
		bud := budget.New(budget.Config{})
		h := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, Budget: bud})
		r := retry.New(retry.Config{Budget: bud, Jitter: retry.NoJitter, BaseDelay: time.Second})
		b := breaker.New(breaker.Config{})
		// The retry stage reports its failed try to the race, which fires
		// the hedge at once rather than on its 10 ms timer.
		if d := timedGet(t, pipeline.NewWithBase(stub, h, r, b)); d != time.Millisecond {
			t.Errorf("took %v", d)
		}
		synctest.Wait()
		if tr.Open() != 0 {
			t.Errorf("open bodies %d", tr.Open())
		}
		t.Logf("retry %+v budget %+v breaker %+v", r.Stats(), bud.Stats(), b.Snapshot())
	})
}

// timedGet sends one GET through rt, closes the response body and returns
// how long RoundTrip took (on the bubble's fake clock).
func timedGet(t *testing.T, rt http.RoundTripper) time.Duration {
	t.Helper()
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, "http://x.test/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return time.Since(start)
}
