package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestClientsWork sends one GET and one PUT through every setup, so a
// broken setup fails `go test` instead of skewing a benchmark.
func TestClientsWork(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Write([]byte(r.Method + " " + string(rune('0'+len(body)%10))))
	}))
	defer srv.Close()
	for _, cl := range Clients() {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		c := &http.Client{Transport: cl.Wrap(tr)}
		for _, method := range []string{http.MethodGet, http.MethodPut} {
			req, _ := http.NewRequest(method, srv.URL, strings.NewReader("12345"))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", cl.Name, method, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := method + " 5"; string(body) != want {
				t.Errorf("%s: got %q, want %q", cl.Name, body, want)
			}
		}
		tr.CloseIdleConnections()
	}
}
