package testkit

import (
	"io"
	"net/http"
	"testing"
)

// OK is the benchmarks' in-memory upstream: it reads and closes the
// request body, as a real transport does, and answers an empty 200 at
// once, allocating only the response.
var OK http.RoundTripper = okTransport{}

type okTransport struct{}

func (okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

// BenchGet measures one GET of url through rt per iteration, reading and
// closing each response body, with allocations reported.
func BenchGet(b *testing.B, rt http.RoundTripper, url string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
