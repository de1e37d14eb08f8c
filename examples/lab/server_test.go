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
	// A client that gives up once the server holds its request (d1 draws
	// ≥ 1 ms, ~10 ms nearly always): the server must stop waiting.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL(), nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for deadline := time.Now().Add(2 * time.Second); srv.Stats().InFlight == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the server")
		}
		time.Sleep(100 * time.Microsecond)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("canceled request succeeded")
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

// Scale multiplies the draws, and 1 restores them.
func TestServerScale(t *testing.T) {
	srv := NewServer(D2, 5, 0)
	defer srv.Close()
	a := []time.Duration{srv.draw(), srv.draw()}
	srv.Reset(5)
	srv.Scale(3)
	if got := srv.draw(); got != time.Duration(3*float64(a[0])) {
		t.Errorf("scaled draw %v, want 3 × %v", got, a[0])
	}
	srv.Scale(1)
	if got := srv.draw(); got != a[1] {
		t.Errorf("draw after Scale(1) = %v, want %v", got, a[1])
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
