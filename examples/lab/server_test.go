package lab

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestServerCountsAndCancels(t *testing.T) {
	srv := NewServer(D1, 1, 0)
	defer srv.Close()
	tr := NewTransport()
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for range 3 {
		resp, err := c.Get(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	// A client that gives up after 1 ms: the server must stop waiting.
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL(), nil)
	if _, err := c.Do(req); err == nil {
		t.Fatal("request with 1 ms timeout succeeded against a ≥ 1 ms server")
	}
	if !srv.WaitIdle(2 * time.Second) {
		t.Fatal("server did not go idle after the client gave up")
	}
	st := srv.Stats()
	if st.Attempts != 4 || st.Canceled != 1 || st.InFlight != 0 {
		t.Errorf("stats = %+v, want 4 attempts, 1 canceled, 0 in flight", st)
	}
	srv.Reset(1)
	if st := srv.Stats(); st.Attempts != 0 || st.Canceled != 0 {
		t.Errorf("after Reset: %+v", st)
	}
}

func TestServerReplaysDraws(t *testing.T) {
	srv := NewServer(D2, 5, 0)
	defer srv.Close()
	a := []time.Duration{srv.draw(), srv.draw(), srv.draw()}
	srv.Reset(5)
	for i, want := range a {
		if got := srv.draw(); got != want {
			t.Errorf("draw %d after Reset = %v, want %v", i, got, want)
		}
	}
}

func TestServerCapacityQueues(t *testing.T) {
	// d1 with one slot: two concurrent requests must take ≥ 2 × ~9 ms.
	srv := NewServer(D1, 3, 1)
	defer srv.Close()
	tr := NewTransport()
	defer tr.CloseIdleConnections()
	run := Drive(context.Background(), tr, srv.URL(), []time.Duration{0, 0}, 5*time.Second, nil)
	Summarize(run.Latencies)
	if run.Errors != 0 {
		t.Fatalf("%d errors", run.Errors)
	}
	if run.Latencies[1] < 15*time.Millisecond {
		t.Errorf("second request took %v with capacity 1; it should have queued", run.Latencies[1])
	}
}
