package faulttest_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/internal/testkit"
)

// A slow-failing upstream (504 after 31 s, longer than the default 30 s
// Window) should open the breaker after 5 consecutive failures.
func TestSlowFailuresNeverTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if err := testkit.Sleep(req.Context(), 31*time.Second); err != nil {
				return nil, err
			}
			return testkit.Respond(req, 504, "gw timeout", nil), nil
		}}
		b := breaker.New(breaker.Config{})
		rt := b.Wrap(stub)
		for i := 0; i < 10; i++ {
			req, _ := http.NewRequest("GET", "http://slow.test/", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Logf("request %d refused: %v", i+1, err)
				return
			}
			resp.Body.Close()
		}
		t.Errorf("10 consecutive 504s (31 s each) never opened the breaker: state %v, %+v",
			b.State("http://slow.test:80"), b.Snapshot())
	})
}
