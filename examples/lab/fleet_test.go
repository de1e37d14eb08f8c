package lab

import (
	"context"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

// memoryFleet is two in-memory replicas answering in N(10 ms, 1 ms), the
// first stalling 200 ms every 2 s from 500 ms.
func memoryFleet() *Fleet {
	return StartFleet([]ServerConfig{
		{Dist: Steady, Seed: 1, Network: Memory, Stall: Stall{Every: 2 * time.Second, For: 200 * time.Millisecond, At: 500 * time.Millisecond}},
		{Dist: Steady, Seed: 2, Network: Memory},
	})
}

func getOK(t *testing.T, rt http.RoundTripper, url string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// TestFleetBalance: the load balancer sends requests to the replicas in
// turn, on copies of the caller's request.
func TestFleetBalance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := memoryFleet()
		defer f.Close()
		rt := f.Balance(f.Transport())
		req, _ := http.NewRequest(http.MethodGet, f.URL()+"/x", nil)
		for range 4 {
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		for i, s := range f.Replicas {
			if got := s.Stats().Attempts; got != 2 {
				t.Errorf("replica %d got %d requests, want 2", i, got)
			}
		}
		if req.URL.String() != f.URL()+"/x" {
			t.Errorf("the caller's request was rewritten to %s", req.URL)
		}
		if _, err := f.Transport().RoundTrip(httpGet("http://elsewhere.invalid/")); err == nil {
			t.Error("a host no replica has was served")
		}
	})
}

// TestServerStall: a request arriving during a pause waits for its end;
// Reset restarts the schedule.
func TestServerStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := memoryFleet()
		defer f.Close()
		stalled, healthy := f.Replicas[0], f.Replicas[1]
		rt := f.Transport()
		time.Sleep(550 * time.Millisecond) // 50 ms into the first pause
		for _, tt := range []struct {
			s        *Server
			min, max time.Duration
		}{{stalled, 150 * time.Millisecond, 170 * time.Millisecond}, {healthy, 5 * time.Millisecond, 15 * time.Millisecond}} {
			start := time.Now()
			getOK(t, rt, tt.s.URL())
			if took := time.Since(start); took < tt.min || took > tt.max {
				t.Errorf("%s took %v, want %v to %v", tt.s.URL(), took, tt.min, tt.max)
			}
		}
		f.Reset(1) // now 0 into a fresh schedule
		start := time.Now()
		getOK(t, rt, stalled.URL())
		if took := time.Since(start); took > 15*time.Millisecond {
			t.Errorf("after Reset the stalled replica took %v: its schedule did not restart", took)
		}
	})
}

// TestFleetHTTP2: the HTTP/2 fleet's transport speaks HTTP/2 to every
// replica, and Warm leaves one open connection per replica.
func TestFleetHTTP2(t *testing.T) {
	f := StartFleet([]ServerConfig{{Dist: Steady, Network: HTTP2}, {Dist: Steady, Network: HTTP2}})
	defer f.Close()
	rt := f.Transport()
	defer rt.(*http.Transport).CloseIdleConnections()
	if err := f.Warm(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	for _, u := range f.URLs() {
		getOK(t, rt, u)
	}
	if st := f.Stats(); st.Attempts != 4 || st.HTTP2 != 4 {
		t.Errorf("stats %+v: want 4 requests, all over HTTP/2", st)
	}
	if !f.WaitIdle(time.Second) {
		t.Error("not idle")
	}
}

func httpGet(url string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return req
}
