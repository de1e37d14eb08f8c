package faulttest_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

func TestAttemptTimeoutsOpenBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			<-req.Context().Done()
			return nil, context_cause(req)
		}}
		b := breaker.New(breaker.Config{ConsecutiveFailures: 3})
		p := pipeline.Wrap(stub, retry.New(retry.Config{MaxAttempts: 3, AttemptTimeout: time.Second}), b)
		for range 3 {
			req, _ := http.NewRequest("GET", "http://x.test/", nil)
			p.RoundTrip(req)
		}
		if st := b.State("http://x.test:80"); st != breaker.Open {
			t.Errorf("after %d attempt timeouts the breaker is %v: %+v", stub.Calls(), st, b.Snapshot())
		}
	})
}

func context_cause(req *http.Request) error { return contextCause(req) }
