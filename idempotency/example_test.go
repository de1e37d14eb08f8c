package idempotency_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

func ExampleReplayable() {
	get, _ := http.NewRequest(http.MethodGet, "https://api.example.com/orders/7", nil)
	post, _ := http.NewRequest(http.MethodPost, "https://api.example.com/orders", strings.NewReader(`{"sku":"A1"}`))
	fmt.Println("GET:", idempotency.Replayable(get))
	fmt.Println("POST:", idempotency.Replayable(post))

	// A key lets the server deduplicate, so the POST may be sent again.
	post.Header.Set("Idempotency-Key", "order-8c1f")
	fmt.Println("POST with key:", idempotency.Replayable(post))

	// A body without GetBody cannot be produced a second time.
	post.GetBody = nil
	fmt.Println("POST with key, one-shot body:", idempotency.Replayable(post))
	// Output:
	// GET: true
	// POST: false
	// POST with key: true
	// POST with key, one-shot body: false
}

func ExampleClassifier_Classify() {
	req, _ := http.NewRequest(http.MethodPost, "http://api.example.com/charge", nil)

	throttled := &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"30"}}}
	fmt.Println(idempotency.Default.Classify(req, throttled, nil))

	missing := &http.Response{StatusCode: 404, Header: http.Header{}}
	fmt.Println(idempotency.Default.Classify(req, missing, nil))

	// Connection refused while dialing: the POST never left, so even a
	// non-replayable request may be retried.
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("connect: connection refused")}
	out := idempotency.Default.Classify(req, nil, refused)
	fmt.Println(out, out.Kind.Retryable())
	// Output:
	// {throttled false}
	// {final false}
	// {transient true} true
}

func ExampleWithStatus() {
	// This API answers 409 while a request with the same Idempotency-Key is
	// still being processed: come back later, not "conflict, give up".
	c := idempotency.WithStatus(idempotency.Default, map[int]idempotency.Kind{
		http.StatusConflict: idempotency.Transient,
	})
	inFlight := &http.Response{StatusCode: http.StatusConflict, Header: http.Header{}}
	fmt.Println("409:", c.Classify(nil, inFlight, nil).Kind)
	fmt.Println("409 by default:", idempotency.Default.Classify(nil, inFlight, nil).Kind)
	// Output:
	// 409: transient
	// 409 by default: final
}

func ExampleParseRetryAfter() {
	now := time.Date(2026, time.January, 2, 15, 4, 5, 0, time.UTC)
	for _, v := range []string{
		"120",
		"Fri, 02 Jan 2026 15:05:05 GMT", // IMF-fixdate, one minute after now
		"Thu, 01 Jan 2026 00:00:00 GMT", // in the past: retry now
		"99999999999999999999",          // clamped, never negative
		"1.5",                           // not delay-seconds
	} {
		d, ok := idempotency.ParseRetryAfter(v, now)
		fmt.Println(d, ok)
	}
	// Output:
	// 2m0s true
	// 1m0s true
	// 0s true
	// 2562047h47m16.854775807s true
	// 0s false
}
