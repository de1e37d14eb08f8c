package faulttest_test

import (
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/retry"
)

func TestRetryWithAttemptTimeoutRetriesResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			return nil, errors.New("connection reset by peer")
		}}
		for _, to := range []time.Duration{0, time.Second} {
			stub2 := &testkit.Stub{Respond: stub.Respond}
			rt := retry.New(retry.Config{AttemptTimeout: to}).Wrap(stub2)
			req, _ := http.NewRequest("GET", "http://x.test/", nil)
			_, err := rt.RoundTrip(req)
			if stub2.Calls() != 3 {
				t.Errorf("AttemptTimeout %v: %d attempts, want 3 (err %v)", to, stub2.Calls(), err)
			}
		}
	})
}
