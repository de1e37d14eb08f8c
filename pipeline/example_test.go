package pipeline_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tailguard/tailguard/pipeline"
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
