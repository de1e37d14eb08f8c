package retry_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

// A plain retry client: a GET that meets two 503s succeeds on the third
// attempt; a POST without an Idempotency-Key is sent once.
func Example() {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1)%3 != 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()

	r := retry.New(retry.Config{}) // 3 attempts, full jitter 100 ms … 10 s
	client := &http.Client{Transport: r.Wrap(http.DefaultTransport)}

	resp, err := client.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("GET:", resp.Status, string(body), "after", hits.Load(), "server hits")

	hits.Store(0)
	resp, err = client.Post(srv.URL, "text/plain", nil)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("POST:", resp.Status, "after", hits.Load(), "server hit")
	fmt.Printf("%+v\n", r.Stats())
	// Output:
	// GET: 200 OK hello after 3 server hits
	// POST: 503 Service Unavailable after 1 server hit
	// {Requests:2 Retries:2 Exhausted:0 BudgetDenied:0 DeadlineStops:0 ThrottleStops:0 BodyStops:0 HedgeResends:0}
}

// A throttled upstream: the wait a server asks for with Retry-After is
// honoured, up to MaxRetryAfter, and spread up to a fifth longer so that
// clients told the same thing do not return in lock-step; a longer one
// returns the 429 at once so the caller can decide.
func Example_throttled() {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/closed":
			w.Header().Set("Retry-After", "3600") // come back in an hour
			w.WriteHeader(http.StatusTooManyRequests)
		case hits.Add(1) == 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			fmt.Fprint(w, "ok")
		}
	}))
	defer srv.Close()

	r := retry.New(retry.Config{
		MaxRetryAfter: 10 * time.Second,
		OnRetry: func(i retry.RetryInfo) {
			fmt.Printf("attempt %d got %d; waiting %v and up to a fifth more (asked by server: %t)\n",
				i.Attempt, i.StatusCode, i.Delay.Truncate(time.Second), i.ServerDelay)
		},
	})
	client := pipeline.New(r).Client()

	resp, err := client.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("/:", resp.Status)

	resp, err = client.Get(srv.URL + "/closed")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("/closed:", resp.Status, "Retry-After", resp.Header.Get("Retry-After"))
	fmt.Println("throttle stops:", r.Stats().ThrottleStops)
	// Output:
	// attempt 1 got 429; waiting 1s and up to a fifth more (asked by server: true)
	// /: 200 OK
	// /closed: 429 Too Many Requests Retry-After 3600
	// throttle stops: 1
}

// Inner stages and transports see which attempt they are serving.
func ExampleAttemptFrom() {
	inner := pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		n := retry.AttemptFrom(req.Context())
		fmt.Println("attempt", n)
		code := http.StatusBadGateway
		if n == 2 {
			code = http.StatusOK
		}
		return &http.Response{StatusCode: code, Body: http.NoBody, Request: req}, nil
	})
	rt := retry.New(retry.Config{BaseDelay: time.Millisecond}).Wrap(inner)
	req, _ := http.NewRequest(http.MethodGet, "http://example.test/", nil)
	resp, _ := rt.RoundTrip(req)
	fmt.Println("status", resp.StatusCode)
	// Output:
	// attempt 1
	// attempt 2
	// status 200
}

// The two uses the package doc shows: the stage alone on a transport, and
// chained in a pipeline after a hedge stage and before a breaker. Each
// client's first request meets a 503 and its retry gets the answer.
func Example_pipeline() {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()
	get := func(name string, client *http.Client) {
		resp, err := client.Get(srv.URL)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		client.CloseIdleConnections()
		fmt.Println(name+":", resp.Status, string(body))
	}

	client := &http.Client{Transport: retry.New(retry.Config{}).Wrap(http.DefaultTransport)}
	get("alone", client)

	hits.Store(0) // the pipeline's first request meets the 503 too
	client = pipeline.New(hedge.New(hedge.Config{}), retry.New(retry.Config{}), breaker.New(breaker.Config{})).Client()
	get("pipeline", client)
	// Output:
	// alone: 200 OK hello
	// pipeline: 200 OK hello
}
