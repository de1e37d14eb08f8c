package pipeline_test

import (
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// TestRetryAfterPauseThroughThrottle: one caller, an upstream that fails
// the first request, answers the next "429, Retry-After: 1", and then 200.
// A plain retry stage gets the 200; so must every documented order with a
// throttle, on the fake clock, without sending more than those three.
//
// In hedge(retry(throttle)) the hedge stage re-sends a try that failed at
// once, as its next hedge, and the retry stage gives the original up (the
// hedge is its retry). The throttle took that hedge, and the retry inside
// it, for a spare copy, which never waits: after the retry had waited out
// the Retry-After, the throttle refused it (the host had pushed back
// within HedgeHoldoff; past it, "gate closed, could go in 0s", since a
// copy may not probe), and the caller got the first failure (503, or the
// transport error) although nothing else was in flight.
func TestRetryAfterPauseThroughThrottle(t *testing.T) {
	orders := map[string]func() []pipeline.Stage{
		"retry": func() []pipeline.Stage { return []pipeline.Stage{retry.New(retry.Config{})} },
		"hedge→retry→throttle→breaker": func() []pipeline.Stage {
			return []pipeline.Stage{hedge.New(hedge.Config{}), retry.New(retry.Config{}),
				throttle.New(throttle.Config{}), breaker.New(breaker.Config{})}
		},
		"hedge→retry→breaker→throttle": func() []pipeline.Stage {
			return []pipeline.Stage{hedge.New(hedge.Config{}), retry.New(retry.Config{}),
				breaker.New(breaker.Config{}), throttle.New(throttle.Config{})}
		},
		"throttle→retry→breaker": func() []pipeline.Stage {
			return []pipeline.Stage{throttle.New(throttle.Config{}), retry.New(retry.Config{}),
				breaker.New(breaker.Config{})}
		},
		"retry→hedge→throttle→breaker": func() []pipeline.Stage {
			return []pipeline.Stage{retry.New(retry.Config{}), hedge.New(hedge.Config{}),
				throttle.New(throttle.Config{}), breaker.New(breaker.Config{})}
		},
	}
	firsts := map[string]func(req *http.Request) (*http.Response, error){
		"503": func(req *http.Request) (*http.Response, error) {
			return testkit.Respond(req, http.StatusServiceUnavailable, "", nil), nil
		},
		"reset": func(*http.Request) (*http.Response, error) {
			return nil, errors.New("connection reset by peer")
		},
		"429":  tooManyRequests,
		"none": nil, // the upstream starts with the 429
	}
	for order, stages := range orders {
		for first, answer := range firsts {
			t.Run(order+"/"+first, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					script := []func(*http.Request) (*http.Response, error){tooManyRequests}
					if answer != nil {
						script = append([]func(*http.Request) (*http.Response, error){answer}, script...)
					}
					stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
						if err := testkit.Sleep(req.Context(), 50*time.Millisecond); err != nil {
							return nil, err
						}
						if n <= len(script) {
							return script[n-1](req)
						}
						return testkit.Respond(req, http.StatusOK, "ok", nil), nil
					}}
					req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://up.test/", nil)
					resp, err := pipeline.NewWithBase(stub, stages()...).RoundTrip(req)
					if err != nil {
						t.Fatalf("error %v after %d requests to the upstream; want the 200", err, stub.Calls())
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Errorf("status %d after %d requests to the upstream; want the 200", resp.StatusCode, stub.Calls())
					}
					if n, want := stub.Calls(), len(script)+1; n != want {
						t.Errorf("the upstream received %d requests, want %d", n, want)
					}
				})
			})
		}
	}
}

// tooManyRequests answers "429, Retry-After: 1".
func tooManyRequests(req *http.Request) (*http.Response, error) {
	resp := testkit.Respond(req, http.StatusTooManyRequests, "", nil)
	resp.Header.Set("Retry-After", "1")
	return resp, nil
}
