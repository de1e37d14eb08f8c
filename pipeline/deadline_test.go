package pipeline_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/throttle"
)

// TestDeadlineBeforeGateOpens: one caller's "429, Retry-After: 10" closes
// the host's gate; another caller whose deadline (2 s) comes before the
// gate opens is refused at once, unsent, in every documented order with a
// throttle: not parked until its deadline. Its error matches
// throttle.ErrThrottled, is an idempotency.Rejection whose RetryAfter is
// the time left of the pause, and its context is left alone (no stage
// cancels the caller's context).
func TestDeadlineBeforeGateOpens(t *testing.T) {
	for order, stages := range throttleOrders {
		t.Run(order, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
					if n == 1 {
						resp := testkit.Respond(req, http.StatusTooManyRequests, "", nil)
						resp.Header.Set("Retry-After", "10")
						return resp, nil
					}
					return testkit.Respond(req, http.StatusOK, "ok", nil), nil
				}}
				th := throttle.New(throttle.Config{})
				// The pause comes from a request through the throttle alone,
				// so that no retry stage waits it out (its 429 returns).
				first, _ := http.NewRequest(http.MethodGet, "http://up.test/", nil)
				resp, err := th.Wrap(stub).RoundTrip(first)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()

				rt := pipeline.NewWithBase(stub, stages(th)...)
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://up.test/", nil)
				start := time.Now()
				resp, err = rt.RoundTrip(req)
				if resp != nil {
					resp.Body.Close()
					t.Fatalf("status %d, want a refusal", resp.StatusCode)
				}
				if took := time.Since(start); took != 0 {
					t.Errorf("refused after %v, want at once", took)
				}
				if !errors.Is(err, throttle.ErrThrottled) {
					t.Fatalf("error %v does not match throttle.ErrThrottled", err)
				}
				var rej idempotency.Rejection
				if !errors.As(err, &rej) || rej.RetryAfter() != 10*time.Second {
					t.Errorf("error %v: want a Rejection whose RetryAfter is the 10 s left of the pause", err)
				}
				if ctx.Err() != nil {
					t.Errorf("the caller's context ended: %v", ctx.Err())
				}
				if n := stub.Calls(); n != 1 {
					t.Errorf("the upstream received %d requests, want only the one that paused it", n)
				}
			})
		})
	}
}
