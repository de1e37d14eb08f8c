package faulttest_test

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/internal/testkit"
)

// 20 concurrent requests that each fail with 504 after 31 s (a gateway
// timeout; longer than the default 30 s Window): none is counted.
func TestSlowConcurrentFailuresNotCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if err := testkit.Sleep(req.Context(), 31*time.Second); err != nil {
				return nil, err
			}
			return testkit.Respond(req, 504, "gw timeout", nil), nil
		}}
		b := breaker.New(breaker.Config{})
		rt := b.Wrap(stub)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				req, _ := http.NewRequest("GET", "http://slow.test/", nil)
				if resp, err := rt.RoundTrip(req); err == nil {
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
		if st := b.State("http://slow.test:80"); st != breaker.Open {
			t.Errorf("20 concurrent 504s not counted: state %v, %+v", st, b.Snapshot())
		}
	})
}
