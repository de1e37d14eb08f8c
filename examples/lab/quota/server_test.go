package quota

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/examples/lab"
)

func get(t *testing.T, c *http.Client, url, key string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set(KeyHeader, key)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// Over loopback: a quota per key, the dialect's headers on the wire, and
// the log.
func TestServerLoopback(t *testing.T) {
	s := New(Config{Limit: Limit{Rate: 1, Period: time.Minute, Burst: 2}, Dialect: GitHub})
	hs := httptest.NewServer(s)
	defer hs.Close()
	tr := lab.NewTransport()
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}

	var codes []int
	for _, key := range []string{"a", "a", "a", "b", ""} {
		resp := get(t, c, hs.URL, key)
		codes = append(codes, resp.StatusCode)
		if resp.Header.Get("X-RateLimit-Limit") != "1" || resp.Header.Get("X-RateLimit-Resource") != "core" {
			t.Errorf("key %q: headers %v", key, resp.Header)
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			// One per minute: the next request passes in up to 60 s.
			if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 60 {
				t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
			if resp.Header.Get("X-RateLimit-Remaining") != "0" {
				t.Errorf("429 with remaining %q", resp.Header.Get("X-RateLimit-Remaining"))
			}
		}
	}
	want := []int{200, 200, 429, 200, 200} // burst of 2 for "a"; "b" and "" have their own
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("statuses %v, want %v", codes, want)
		}
	}
	log, start := s.Arrivals()
	if len(log) != 5 || log[2].Status != 429 || log[2].Key != "a" || log[3].Key != "b" || log[2].At.Before(start) {
		t.Errorf("log %+v", log)
	}
	if log[2].Pause < log[2].Wait || log[2].Pause%time.Second != 0 || log[2].Wait <= 0 {
		t.Errorf("429 logged wait %v, pause %v: want the pause the wait rounded up to seconds", log[2].Wait, log[2].Pause)
	}
	s.Reset()
	if log, _ := s.Arrivals(); len(log) != 0 {
		t.Errorf("log after Reset: %d entries", len(log))
	}
	if get(t, c, hs.URL, "a").StatusCode != 200 {
		t.Error("key a still throttled after Reset")
	}
}

// On the fake clock: admitted requests take the latency, 429s none, a
// client that gives up stops the wait, and a bare 429 logs no pause.
func TestServerFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Config{Limit: Limit{Burst: 1}, Dialect: Bare, Latency: 50 * time.Millisecond})
		c := &http.Client{Transport: lab.InMemory(s)}
		start := time.Now()
		if r := get(t, c, "http://q.invalid/", ""); r.StatusCode != 200 || time.Since(start) != 50*time.Millisecond {
			t.Errorf("first: %d after %v", r.StatusCode, time.Since(start))
		}
		// Two at the same instant: one admitted after the latency, the
		// other over the quota, answered at once, bare.
		start = time.Now()
		took := make(chan time.Duration, 1)
		go func() {
			get(t, c, "http://q.invalid/", "")
			took <- time.Since(start)
		}()
		r := get(t, c, "http://q.invalid/", "")
		if r.StatusCode == 200 { // this one won the race
			t.Log("main goroutine admitted")
		} else if len(r.Header) != 1 || time.Since(start) != 0 {
			t.Errorf("429 with headers %v, after %v", r.Header, time.Since(start))
		}
		<-took
		log, _ := s.Arrivals()
		if a := log[1]; a.Status != 200 || log[2].Status != 429 {
			t.Errorf("log %+v", log)
		}
		if a := log[2]; a.Pause != 0 || a.Wait != 10*time.Millisecond {
			t.Errorf("bare 429 logged %+v, want wait 10ms, no pause", a)
		}

		time.Sleep(time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://q.invalid/", nil)
		start = time.Now()
		if _, err := c.Do(req); err == nil || time.Since(start) != 20*time.Millisecond {
			t.Errorf("abandoned request: err %v after %v", err, time.Since(start))
		}
	})
}

func TestNewPanics(t *testing.T) {
	for name, cfg := range map[string]Config{
		"dialect": {Dialect: Dialect(7)},
		"latency": {Latency: -time.Second},
		"period":  {Limit: Limit{Period: time.Millisecond}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New did not panic")
				}
			}()
			New(cfg)
		})
	}
}

// TestServeHTTPAt: a request is judged at the instant given, not when the
// server got to it: two requests handled back to back but stamped a
// period apart both pass a quota of 1 per second, and two stamped at one
// instant do not.
func TestServeHTTPAt(t *testing.T) {
	s := New(Config{Limit: Limit{Rate: 1, Period: time.Second, Burst: 1}})
	at := time.Now()
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{at, http.StatusOK},
		{at, http.StatusTooManyRequests},
		{at.Add(time.Second), http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTPAt(rec, httptest.NewRequest(http.MethodGet, "/", nil), tc.at)
		if rec.Code != tc.want {
			t.Errorf("a request judged at %v: %d, want %d", tc.at.Sub(at), rec.Code, tc.want)
		}
	}
}
