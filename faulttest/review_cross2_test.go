package faulttest_test

import (
	"net/http"
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

func TestLoserInRetryWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr testkit.Tracker
		stub := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			if hedge.AttemptFrom(req.Context()) == 1 {
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
		p := pipeline.Wrap(stub, h, r, b)
		start := time.Now()
		req, _ := http.NewRequest("GET", "http://x.test/", nil)
		resp, err := p.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if d := time.Since(start); d != 11*time.Millisecond {
			t.Errorf("took %v", d)
		}
		synctest.Wait()
		if tr.Open() != 0 {
			t.Errorf("open bodies %d", tr.Open())
		}
		t.Logf("retry %+v budget %+v breaker %+v", r.Stats(), bud.Stats(), b.Snapshot())
	})
}
