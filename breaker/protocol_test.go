package breaker

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tailguard/tailguard/internal/testkit"
)

// TestProtocolViolationCounts is issue 11's bug 6 seen from the breaker: a
// real HTTP/2 server that answers every POST with an invalid response
// header value violates the protocol. Its requests were received, so they
// are failures that open the breaker, not malformed requests of the
// caller's that the breaker excludes.
func TestProtocolViolationCounts(t *testing.T) {
	srv := testkit.NewH2Violator(t, "x-bad", "a\x01b")
	client := srv.Client()
	defer client.CloseIdleConnections()
	b := New(Config{})
	rt := b.Wrap(client.Transport)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	key := "https://" + u.Host

	for i := range DefaultConsecutiveFailures {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/charge", strings.NewReader("amount=100"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("POST %d: the invalid response was accepted", i+1)
		}
		if errors.Is(err, ErrOpen) {
			t.Fatalf("POST %d refused before %d failures: %v", i+1, DefaultConsecutiveFailures, err)
		}
	}
	if n := srv.Requests(); n != DefaultConsecutiveFailures {
		t.Errorf("the server received %d POSTs, want %d", n, DefaultConsecutiveFailures)
	}
	if st := b.StateOf(key); st != Open {
		t.Errorf("after %d protocol violations the breaker is %v, want open: %+v", DefaultConsecutiveFailures, st, b.Snapshot())
	}
}
