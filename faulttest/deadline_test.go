package faulttest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/retry"
)

// ctxBody is a response body whose reads fail once its attempt's context
// is done, as net/http's do.
type ctxBody struct {
	ctx  context.Context
	body *testkit.Body
}

func (b ctxBody) Read(p []byte) (int, error) {
	if err := context.Cause(b.ctx); err != nil {
		return 0, err
	}
	return b.body.Read(p)
}

func (b ctxBody) Close() error { return b.body.Close() }

// TestAttemptTimeoutRacingCallerDeadline: the attempt timer fires as the
// response headers arrive, and the caller's own deadline has passed too
// (the soak hit this once). The response the timer killed must not be
// returned with a body that can no longer be read: the caller gets its
// context's error, and the dead response is closed.
//
//	expected: nil response, error matching context.DeadlineExceeded, body closed
func TestAttemptTimeoutRacingCallerDeadline(t *testing.T) {
	ex := &expectations{t: t, bug: knownBugs["cross/attempt-timeout-racing-caller-deadline"]}
	defer ex.done()
	synctest.Test(t, func(t *testing.T) {
		var bodies testkit.Tracker
		stub := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			<-req.Context().Done()            // the attempt timer fires at 50 ms
			time.Sleep(60 * time.Millisecond) // the headers come in as the caller's deadline passes
			resp := testkit.Respond(req, http.StatusOK, "ok", nil)
			resp.Body = ctxBody{ctx: req.Context(), body: bodies.Body("ok")}
			return resp, nil
		})
		r := retry.New(retry.Config{MaxAttempts: 1, AttemptTimeout: 50 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://upstream.test/", nil)
		resp, err := r.Wrap(stub).RoundTrip(req)
		if resp != nil {
			_, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			ex.Errorf("got a %d response whose body read fails with %v; want the caller's context error", resp.StatusCode, rerr)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			ex.Errorf("error %v, want one matching context.DeadlineExceeded", err)
		}
		synctest.Wait() // discarded bodies are drained and closed in the background
		if bodies.Open() != 0 {
			ex.Errorf("%d response bodies left open", bodies.Open())
		}
	})
}
