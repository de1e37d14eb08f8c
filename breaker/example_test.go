package breaker_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/pipeline"
)

// A host that keeps failing is refused locally after three failures in a
// row, without a request reaching it.
func Example() {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	b := breaker.New(breaker.Config{
		ConsecutiveFailures: 3,
		OnStateChange: func(c breaker.StateChange) {
			fmt.Printf("breaker %v → %v\n", c.From, c.To)
		},
	})
	client := pipeline.New(b).Client()

	for i := 1; i <= 5; i++ {
		resp, err := client.Get(srv.URL)
		var open *breaker.OpenError
		switch {
		case errors.As(err, &open):
			fmt.Printf("%d: refused (%v), next probe within %v: %v\n", i, open.State,
				breaker.DefaultOpenTimeout, open.RetryAfter() <= breaker.DefaultOpenTimeout)
		case err != nil:
			fmt.Printf("%d: %v\n", i, err)
		default:
			resp.Body.Close()
			fmt.Printf("%d: %s\n", i, resp.Status)
		}
	}
	fmt.Println("requests the server saw:", hits.Load())
	// Output:
	// 1: 503 Service Unavailable
	// 2: 503 Service Unavailable
	// breaker closed → open
	// 3: 503 Service Unavailable
	// 4: refused (open), next probe within 5s: true
	// 5: refused (open), next probe within 5s: true
	// requests the server saw: 3
}

// A refusal is an idempotency.Rejection: outer stages see that nothing was
// sent, and when to come back, without importing this package.
func ExampleOpenError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	rt := b.Wrap(http.DefaultTransport)

	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
			fmt.Println(resp.Status)
			continue
		}
		r, ok := idempotency.AsRejection(err)
		fmt.Println("rejected:", ok, "never sent:", idempotency.NeverSent(err), "has retry-after:", r.RetryAfter() > 0)
		fmt.Println("is ErrOpen:", errors.Is(err, breaker.ErrOpen))
	}
	// Output:
	// 502 Bad Gateway
	// rejected: true never sent: true has retry-after: true
	// is ErrOpen: true
}

// Snapshot lists every tracked key.
func ExampleBreaker_Snapshot() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	b := breaker.New(breaker.Config{})
	client := &http.Client{Transport: b.Wrap(nil)}
	for range 4 {
		if resp, err := client.Get(srv.URL); err == nil {
			resp.Body.Close()
		}
	}
	for _, s := range b.Snapshot() {
		fmt.Printf("%v failures=%d consecutive=%d\n", s.State, s.Counts.Failures, s.Counts.ConsecutiveFailures)
	}
	// Output:
	// closed failures=4 consecutive=4
}

// With MaxWait, a request meeting an open breaker waits for the probe
// instead of being refused: here the host recovers during the open period,
// the waiting request is the probe, and it gets the 200.
func ExampleConfig_maxWait() {
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	b := breaker.New(breaker.Config{
		ConsecutiveFailures: 1,
		OpenTimeout:         50 * time.Millisecond,
		MaxWait:             5 * time.Second,
		OnStateChange:       func(c breaker.StateChange) { fmt.Printf("breaker %v → %v\n", c.From, c.To) },
	})
	client := pipeline.New(b).Client()

	for range 2 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			fmt.Println(err)
			continue
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
		healthy.Store(true) // the host recovers while the breaker is open
	}
	// Output:
	// breaker closed → open
	// 503 Service Unavailable
	// breaker open → half-open
	// breaker half-open → closed
	// 200 OK
}
