package redisstate

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailguard/tailguard/breaker"
)

// TestBreakerQuorum runs the fleet-aware breaker through Redis: four
// "processes", each with its own client, store (Process name) and
// breaker, call one loopback host that fails for the processes the test
// picks. One failing process opens no other; two of four (the quorum)
// open the rest within one FleetPoll; a process started then starts open.
func TestBreakerQuorum(t *testing.T) {
	_, rdb := testRedis(t)
	var sick [5]atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, _ := strconv.Atoi(r.Header.Get("X-Proc")); sick[p].Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	const poll = 50 * time.Millisecond
	procs := make([]http.RoundTripper, 5)
	start := func(i int) {
		s := newStore(t, rdb, Config{Process: "proc-" + strconv.Itoa(i), Timeout: generous})
		tr := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(tr.CloseIdleConnections)
		procs[i] = breaker.New(breaker.Config{Fleet: s, FleetPoll: poll}).Wrap(tr)
	}
	get := func(i int) error {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("X-Proc", strconv.Itoa(i))
		resp, err := procs[i].RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for i := range 4 {
		start(i)
		if err := get(i); err != nil {
			t.Fatal(err)
		}
	}
	trip := func(i int) {
		sick[i].Store(true)
		for range breaker.DefaultConsecutiveFailures {
			get(i)
		}
		if err := get(i); !errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("process %d did not open on its own failures: %v", i, err)
		}
	}

	trip(0)
	time.Sleep(2 * poll)
	for i := 1; i < 4; i++ {
		if err := get(i); err != nil {
			t.Errorf("one process's report opened process %d: %v", i, err)
		}
	}

	trip(1)
	time.Sleep(2 * poll)
	for i := 2; i < 4; i++ {
		if err := get(i); !errors.Is(err, breaker.ErrOpen) {
			t.Errorf("two reports of four: process %d not open: %v", i, err)
		}
	}

	start(4)
	if err := get(4); !errors.Is(err, breaker.ErrOpen) {
		t.Errorf("a process started during the fleet's open period: %v, want ErrOpen", err)
	}
}
