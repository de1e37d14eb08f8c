package hedge

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// waitFor receives n values from ch, failing the test after a generous
// bound.
func waitFor[T any](t *testing.T, ch <-chan T, n int) []T {
	t.Helper()
	var out []T
	for range n {
		select {
		case v := <-ch:
			out = append(out, v)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d of %d values", len(out), n)
		}
	}
	return out
}

// A 1 MiB upload over a real connection arrives byte-identical in each of
// three parallel runs.
func TestMiddlewareNetworkBodyInEveryRun(t *testing.T) {
	payload := make([]byte, 1<<20)
	rand.Read(payload)
	want := sha256.Sum256(payload)

	type got struct {
		n   int
		sum [32]byte
		err error
	}
	reads := make(chan got, 3)
	m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 20 * time.Millisecond, MaxHedges: 2}})
	srv, _ := testkit.NewServer(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := CopyFrom(r.Context())
		b, err := io.ReadAll(r.Body)
		reads <- got{n, sha256.Sum256(b), err}
		if n < 3 {
			<-r.Context().Done()
			return
		}
		fmt.Fprintf(w, "run %d read %d bytes", n, len(b))
	})))
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/blob", bytes.NewReader(payload))
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: testkit.Transport(t)}).Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "run 3 read 1048576 bytes", string(body))

	seen := map[int]bool{}
	for _, g := range waitFor(t, reads, 3) {
		assert.NoError(t, g.err)
		assert.Equal(t, want, g.sum, "run %d", g.n)
		seen[g.n] = true
	}
	assert.Equal(t, map[int]bool{1: true, 2: true, 3: true}, seen)
}

// End to end on a ServeMux: the hedge answers, the stuck run is canceled
// with ErrLostRace, and a POST on the same route runs once.
func TestMiddlewareNetworkServeMux(t *testing.T) {
	causes := make(chan error, 2)
	var mu sync.Mutex
	runs := map[string]int{}
	m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 20 * time.Millisecond}})
	mux := http.NewServeMux()
	mux.Handle("/item", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		runs[r.Method]++
		mu.Unlock()
		if r.Method == http.MethodGet && !IsHedge(r.Context()) {
			<-r.Context().Done()
			causes <- context.Cause(r.Context())
			return
		}
		w.Header().Set("X-Run", fmt.Sprint(CopyFrom(r.Context())))
		io.WriteString(w, r.Method+" done")
	})))
	srv, _ := testkit.NewServer(t, mux)
	client := &http.Client{Transport: testkit.Transport(t)}

	resp, err := client.Get(srv.URL + "/item")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "GET done", string(b))
	assert.Equal(t, "2", resp.Header.Get("X-Run"))
	assert.Equal(t, []error{ErrLostRace}, waitFor(t, causes, 1))

	resp, err = client.Post(srv.URL+"/item", "text/plain", bytes.NewReader([]byte("x")))
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "POST done", string(b))
	assert.Equal(t, "0", resp.Header.Get("X-Run"))

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]int{http.MethodGet: 2, http.MethodPost: 1}, runs)
}

// Over a real connection, a 4 MiB response from a hedge that outgrew
// MaxResponse arrives byte-identical; a response cut short by the Timeout
// reaches the client as an error, never as a shorter body that looks whole.
func TestMiddlewareNetworkLargeResponse(t *testing.T) {
	payload := make([]byte, 4<<20)
	rand.Read(payload)
	const chunk = 32 << 10
	cfg := MiddlewareConfig{Config: Config{Delay: 20 * time.Millisecond}, MaxResponse: 64 << 10}
	whole := NewMiddleware(cfg)
	cfg.Timeout = 200 * time.Millisecond
	cut := NewMiddleware(cfg)
	hedgeAnswers := func(write func(w http.ResponseWriter, r *http.Request)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !IsHedge(r.Context()) {
				<-r.Context().Done()
				return
			}
			write(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/blob", whole.Handler(hedgeAnswers(func(w http.ResponseWriter, r *http.Request) {
		for off := 0; off < len(payload); off += chunk {
			w.Write(payload[off : off+chunk])
		}
	})))
	mux.Handle("/endless", cut.Handler(hedgeAnswers(func(w http.ResponseWriter, r *http.Request) {
		for r.Context().Err() == nil {
			if _, err := w.Write(payload[:chunk]); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})))
	srv, _ := testkit.NewServer(t, mux)
	client := &http.Client{Transport: testkit.Transport(t)}

	resp, err := client.Get(srv.URL + "/blob")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(payload), sha256.Sum256(body))
	assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 1, HedgeWins: 1}, whole.Stats())

	resp, err = client.Get(srv.URL + "/endless")
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Error(t, err, "a body cut short by the Timeout must fail to read (got %d bytes)", len(body))
	assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 1, HedgeWins: 1}, cut.Stats())
}
