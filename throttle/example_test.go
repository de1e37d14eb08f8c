package throttle_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/throttle"
)

// A client that knows its quota paces every host to it: here 20 requests
// per second, evenly spaced, however many goroutines send at once.
func Example_configuredQuota() {
	var (
		mu       sync.Mutex
		arrivals []time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
	}))
	defer srv.Close()

	th := throttle.New(throttle.Config{Rate: 20}) // Burst 0 means 1: no bursts
	client := pipeline.New(th).Client()
	defer client.CloseIdleConnections()

	start := time.Now()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			resp, err := client.Get(srv.URL)
			if err != nil {
				fmt.Println(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()

	// The fifth request cannot leave before 4 × 50ms after the first, so
	// it arrives at least that long after they all started (measured from
	// the start, not from the first arrival, which a loaded machine can
	// delay more than the last).
	last := arrivals[len(arrivals)-1].Sub(start)
	fmt.Println("requests:", len(arrivals))
	fmt.Println("last arrived after at least 4 × 50ms:", last >= 190*time.Millisecond)
	fmt.Println("waited:", th.Stats().Waited)
	// Output:
	// requests: 5
	// last arrived after at least 4 × 50ms: true
	// waited: 4
}

// A host that announces its quota in IETF RateLimit fields is paced to it
// without configuration, and a response saying nothing is left closes its
// gate for every request until the reset. A request that cannot wait that
// long (here: none may wait) is refused unsent, with the time it could go.
func Example_learningFromHeaders() {
	var mu sync.Mutex
	remaining := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("RateLimit-Policy", `"default";q=10;w=1`)
		w.Header().Set("RateLimit", fmt.Sprintf(`"default";r=%d;t=3`, remaining))
		remaining--
	}))
	defer srv.Close()

	th := throttle.New(throttle.Config{MaxWait: -1})
	client := pipeline.New(th).Client()
	defer client.CloseIdleConnections()
	get := func() error {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}

	fmt.Println(get()) // r=2: the policy is learned
	host := th.Snapshot()[0]
	fmt.Printf("paced at %v/s\n", host.Rate)

	time.Sleep(200 * time.Millisecond) // a token of the 10/s pace
	fmt.Println(get())                 // r=1
	time.Sleep(200 * time.Millisecond)
	fmt.Println(get()) // r=0: the gate closes for 3 s

	err := get()
	var te *throttle.Error
	fmt.Println(errors.Is(err, throttle.ErrThrottled), errors.As(err, &te) && te.Reason == throttle.Gate)
	// (Not "in more than 2 s": a stalled machine may take a while to get here.)
	fmt.Println("could go within 3s:", te.RetryAfter() > 0 && te.RetryAfter() <= 3*time.Second)
	// Output:
	// <nil>
	// paced at 10/s
	// <nil>
	// <nil>
	// true true
	// could go within 3s: true
}
