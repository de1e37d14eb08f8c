package breaker

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
)

// TestTwoServers runs over real sockets: one server always fails, the other
// always answers. The healthy one serves every request; the sick one
// receives its three tripping failures plus one request per half-open
// probe, and nothing else. Counting probes through the hook instead of
// timing them keeps the test independent of machine speed.
func TestTwoServers(t *testing.T) {
	var sickHits, okHits atomic.Int64
	sick, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		sickHits.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	ok, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		okHits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	var probes atomic.Int64 // half-open periods of the sick server
	b := New(Config{ConsecutiveFailures: 3, OpenTimeout: 50 * time.Millisecond, OnStateChange: func(c StateChange) {
		if c.To == HalfOpen {
			probes.Add(1)
		}
	}})
	client := &http.Client{Transport: b.Wrap(testkit.Transport(t))}

	get := func(url string) (int, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for range 3 {
		if status, err := get(sick.URL); err != nil || status != http.StatusBadGateway {
			t.Fatalf("tripping: %d, %v", status, err)
		}
	}
	refused := 0
	deadline := time.Now().Add(500 * time.Millisecond) // several open periods
	for i := 0; time.Now().Before(deadline) || probes.Load() < 2; i++ {
		_, err := get(sick.URL)
		if errors.Is(err, ErrOpen) {
			refused++
		}
		if status, err := get(ok.URL); err != nil || status != http.StatusOK {
			t.Fatalf("healthy server: %d, %v", status, err)
		}
		time.Sleep(time.Millisecond)
	}
	if got, want := sickHits.Load(), 3+probes.Load(); got != want {
		t.Errorf("sick server got %d requests, want 3 + %d probes", got, probes.Load())
	}
	if refused == 0 || probes.Load() < 2 {
		t.Errorf("refused %d, probes %d: the breaker did not cycle", refused, probes.Load())
	}
	if st := b.StateOf("http://" + ok.Listener.Addr().String()); st != Closed {
		t.Errorf("healthy server's breaker is %v", st)
	}
}
