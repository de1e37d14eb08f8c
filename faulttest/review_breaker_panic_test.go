package faulttest_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
)

// panicky panics on a 418, otherwise defers to Default.
type panicky struct{ idempotency.Classifier }

func (p panicky) Classify(req *http.Request, resp *http.Response, err error) idempotency.Outcome {
	if resp != nil && resp.StatusCode == 418 {
		panic("classifier bug")
	}
	return p.Classifier.Classify(req, resp, err)
}

// A classifier panic during a half-open probe (recovered by the caller, as
// net/http's server does for handlers) leaks the probe slot: the key stays
// half-open and refuses every request forever.
func TestClassifierPanicLeaksProbeSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		status := 503
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			return testkit.Respond(req, status, "", nil), nil
		}}
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second,
			Classifier: panicky{idempotency.Default}})
		rt := b.Wrap(stub)
		get := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					t.Logf("recovered: %v", p)
				}
			}()
			req, _ := http.NewRequest("GET", "http://x.test/", nil)
			resp, err := rt.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}
		get() // 503: opens
		time.Sleep(2 * time.Second)
		status = 418
		get() // the probe; the classifier panics
		status = 200
		time.Sleep(time.Hour)
		if err := get(); err != nil {
			t.Errorf("an hour later the key still refuses: %v (state %v)", err, b.State("http://x.test:80"))
		}
	})
}
