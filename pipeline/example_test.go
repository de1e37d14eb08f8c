package pipeline_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

// A plug-in stage in one line: StageFunc and RoundTripperFunc turn two
// closures into a stage that sets a header on every attempt.
func ExampleStageFunc() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s", r.Header.Get("User-Agent"))
	}))
	defer srv.Close()

	userAgent := pipeline.StageFunc(func(next http.RoundTripper) http.RoundTripper {
		return pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			r := req.Clone(req.Context()) // never mutate the caller's request
			r.Header.Set("User-Agent", "tailguard-example")
			return next.RoundTrip(r)
		})
	})

	client := pipeline.New(userAgent).Client()
	defer client.CloseIdleConnections()
	resp, err := client.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: hello, tailguard-example
}

// The recommended pipeline — hedge outside retry, a per-host breaker
// innermost — each stage at its recommended zero Config, against an
// upstream that fails every other request with a 503.
func ExampleNew() {
	var n atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "hello")
	}))
	defer upstream.Close()

	client := pipeline.New(
		hedge.New(hedge.Config{}),     // adaptive p95 hedging, 20% budget
		retry.New(retry.Config{}),     // 3 attempts, full jitter, Retry-After honoured
		breaker.New(breaker.Config{}), // per host: opens on 5 failures in a row or 50% of 20
	).Client()
	defer client.CloseIdleConnections()

	for range 3 {
		resp, err := client.Get(upstream.URL)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(body))
	}
	// Output:
	// 200 hello
	// 200 hello
	// 200 hello
}
