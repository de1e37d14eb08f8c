package hedge_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
)

// slowFirst returns a server whose first request hangs (until canceled)
// and whose later requests answer at once.
func slowFirst() *httptest.Server {
	var n atomic.Int64
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-r.Context().Done()
			return
		}
		io.WriteString(w, "hello")
	}))
}

// Fixed hedging: a backup request after 20 ms wins over a stuck original,
// which is canceled.
func Example_fixed() {
	srv := slowFirst()
	defer srv.Close()

	h := hedge.New(hedge.Config{Delay: 20 * time.Millisecond})
	client := pipeline.New(h).Client()

	resp, err := client.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	st := h.Stats()
	fmt.Printf("hedges sent %d, won by a hedge %d\n", st.Hedges, st.HedgeWins)
	// Output:
	// 200 hello
	// hedges sent 1, won by a hedge 1
}

// SLO-based hedging: with a 1 s objective, hedge once at 95% of it; the
// percentile client hedges at 50%, 75% and 95%.
func ExampleSLO() {
	fmt.Println(hedge.SLO(time.Second, 0.95))
	fmt.Println(hedge.SLO(time.Second, 0.5, 0.75, 0.95))

	srv := slowFirst()
	defer srv.Close()
	h := hedge.New(hedge.Config{
		Delays: hedge.SLO(100*time.Millisecond, 0.5), // one hedge at 50 ms
		OnHedge: func(i hedge.HedgeInfo) {
			fmt.Printf("attempt %d fired on %s\n", i.Attempt, i.Reason)
		},
	})
	resp, err := pipeline.New(h).Client().Get(srv.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// [950ms]
	// [500ms 750ms 950ms]
	// attempt 2 fired on delay
	// 200
}

// Adaptive hedging is the zero Config: each host's hedge delay follows its
// recent p95 latency. Inner stages see which attempt they send: 1 for an
// original, 2 and up for hedges, 0 for a request passed through unhedged.
func Example_adaptive() {
	var mu sync.Mutex
	originals := map[string]int{} // "METHOD attempt" → requests; hedges left out
	base := pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		// Whether a hedge fires depends on how fast this machine answers
		// (the delay adapts to it), so only attempts 0 and 1 are counted.
		if n := hedge.CopyFrom(req.Context()); n <= 1 {
			mu.Lock()
			originals[fmt.Sprintf("%s %d", req.Method, n)]++
			mu.Unlock()
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
	})
	h := hedge.New(hedge.Config{}) // p95 per host, 1 hedge, 20% budget
	client := pipeline.NewWithBase(base, h).Client()
	for range 50 {
		resp, err := client.Get("http://upstream.example/")
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}
	post, _ := http.NewRequest(http.MethodPost, "http://upstream.example/orders", nil)
	resp, _ := client.Do(post) // POST without Idempotency-Key: never hedged
	resp.Body.Close()
	mu.Lock()
	fmt.Println("originals seen:", originals)
	mu.Unlock()
	st := h.Stats()
	fmt.Println("requests:", st.Requests, "passed through:", st.PassThrough)
	// Output:
	// originals seen: map[GET 1:50 POST 0:1]
	// requests: 51 passed through: 1
}
