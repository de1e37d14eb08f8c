package hedge_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tailguard/tailguard/hedge"
)

// Server-side hedging on an http.ServeMux: the search handler calls a slow
// backend; when its first run has not finished after 20 ms, a second run
// starts, and whichever finishes first answers. Here the first run is
// stuck, so the hedge answers and the stuck run is canceled. The POST route
// is wrapped too, but a POST without an Idempotency-Key always runs once,
// passed through unmarked: CopyFrom is 0 in its handler, not 1.
func ExampleMiddleware() {
	m := hedge.NewMiddleware(hedge.MiddlewareConfig{
		Config:  hedge.Config{Delay: 20 * time.Millisecond},
		Timeout: 2 * time.Second, // then 503
	})

	search := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hedge.IsHedge(r.Context()) {
			<-r.Context().Done() // the first run's backend call hangs
			return
		}
		fmt.Fprintf(w, "results for %q from run %d", r.URL.Query().Get("q"), hedge.CopyFrom(r.Context()))
	})
	order := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "order placed by run %d", hedge.CopyFrom(r.Context()))
	})

	mux := http.NewServeMux()
	mux.Handle("GET /search", m.Handler(search))
	mux.Handle("POST /orders", m.Handler(order))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	get, _ := http.NewRequest(http.MethodGet, srv.URL+"/search?q=go", nil)
	post, _ := http.NewRequest(http.MethodPost, srv.URL+"/orders", strings.NewReader("{}"))
	for _, req := range []*http.Request{get, post} {
		resp, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	st := m.Stats()
	fmt.Printf("requests %d, hedgeable %d, hedges %d, won by a hedge %d\n",
		st.Requests, st.Hedgeable, st.Hedges, st.HedgeWins)
	// Output:
	// 200 results for "go" from run 2
	// 200 order placed by run 0
	// requests 2, hedgeable 1, hedges 1, won by a hedge 1
}
