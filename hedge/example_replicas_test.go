package hedge_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
)

// Hedging to another replica: replica a is in a pause (it answers nothing
// until the request is canceled), so a hedge to a itself would wait too.
// With the replicas listed, the hedge goes to b, which answers.
func ExampleReplicas() {
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // stalled until the race cancels it
	}))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "b answered %s", r.URL.Path)
	}))
	defer b.Close()

	h := hedge.New(hedge.Config{
		Delay:    20 * time.Millisecond,
		Replicas: hedge.Replicas{Addrs: []string{a.URL, b.URL}},
		OnHedge: func(i hedge.HedgeInfo) {
			fmt.Println("hedge to b:", i.Replica == b.URL)
		},
	})
	client := pipeline.New(h).Client()

	resp, err := client.Get(a.URL + "/search?q=tail") // the original goes to a, as asked
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// hedge to b: true
	// 200 b answered /search
}
