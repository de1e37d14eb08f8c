package hedge

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
)

// attemptHeader tells a loopback server which attempt it is serving. The
// request is cloned first: headers are shared read-only between attempts.
func attemptHeader(next http.RoundTripper) http.RoundTripper {
	return pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		r := req.Clone(req.Context())
		r.Body = req.Body
		r.Header.Set("X-Attempt", strconv.Itoa(CopyFrom(req.Context())))
		return next.RoundTrip(r)
	})
}

func attemptOf(r *http.Request) int { n, _ := strconv.Atoi(r.Header.Get("X-Attempt")); return n }

// Each attempt of an 8 MiB PUT sends its own byte-identical body
// (hedgedhttp shared one reader: uploads arrived as 4.0 and 4.4 MB).
func TestLoopbackLargePutBodiesIdentical(t *testing.T) {
	payload := make([]byte, 8<<20)
	_, _ = rand.Read(payload)
	want := sha256.Sum256(payload)

	var mu sync.Mutex
	var sums [][32]byte
	allIn := make(chan struct{}) // closed once all three bodies are in
	srv, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.Copy(h, r.Body); err != nil {
			return // a canceled upload; its attempt lost
		}
		mu.Lock()
		sums = append(sums, [32]byte(h.Sum(nil)))
		if len(sums) == 3 {
			close(allIn)
		}
		mu.Unlock()
		if attemptOf(r) == 3 {
			// The winner answers only once every upload is whole, so the
			// check below does not depend on upload speed.
			select {
			case <-allIn:
			case <-time.After(30 * time.Second):
			}
		}
		if attemptOf(r) < 3 {
			select { // the first two attempts are slow
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "stored")
	}))
	rt := New(Config{Delay: 20 * time.Millisecond, MaxHedges: 2}).Wrap(attemptHeader(testkit.Transport(t)))
	req, _ := http.NewRequest(http.MethodPut, srv.URL, bytes.NewReader(payload))
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, "stored", readAll(t, resp))

	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, sums, 3, "three whole bodies reached the server")
	for i, s := range sums {
		assert.Equal(t, want, s, "body %d", i)
	}
}

// A discarded 100 KB error body is drained in the background, so its
// keep-alive connection is reused: 20 hedged requests need a few
// connections, not one per discarded response. Each request waits for the
// previous one's drain (closeSignal), which is what a later request would
// find on a server that is not this fast.
func TestLoopbackDiscardedResponsesKeepConnections(t *testing.T) {
	errBody := strings.Repeat("e", 100_000)
	srv, conns := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attemptOf(r) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, errBody)
			return
		}
		io.WriteString(w, "ok")
	}))
	// Every original fails: a budget that lets every request hedge.
	h := New(Config{Delay: time.Second, Budget: budget.New(budget.Config{Ratio: 1, MinPerSecond: 100, MaxTokens: 1000})})
	drained := make(chan struct{}, 1)
	client := &http.Client{Transport: h.Wrap(closeSignal(attemptHeader(testkit.Transport(t)), drained))}
	for range 20 {
		resp, err := client.Get(srv.URL)
		require.NoError(t, err)
		assert.Equal(t, "ok", readAll(t, resp))
		<-drained
	}
	assert.LessOrEqual(t, conns.New(), 3)
	assert.Equal(t, uint64(20), h.Stats().HedgeWins)
}

// closeSignal sends on closed when a 503's body is closed.
func closeSignal(next http.RoundTripper, closed chan<- struct{}) http.RoundTripper {
	return pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err == nil && resp.StatusCode == http.StatusServiceUnavailable {
			resp.Body = &signalBody{ReadCloser: resp.Body, closed: closed}
		}
		return resp, err
	})
}

type signalBody struct {
	io.ReadCloser
	closed chan<- struct{}
}

func (b *signalBody) Close() error {
	err := b.ReadCloser.Close()
	b.closed <- struct{}{}
	return err
}

// Canceled losers leave no connection open: every connection the server
// saw is closed or idle in the client's pool, and closing the pool closes
// them all.
func TestLoopbackNoConnectionLeak(t *testing.T) {
	var open atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attemptOf(r) == 1 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	tr := testkit.Transport(t)
	client := &http.Client{Transport: New(Config{Delay: 5 * time.Millisecond}).Wrap(attemptHeader(tr))}
	for range 20 {
		resp, err := client.Get(srv.URL)
		require.NoError(t, err)
		assert.Equal(t, "ok", readAll(t, resp))
	}
	tr.CloseIdleConnections()
	assert.Eventually(t, func() bool { return open.Load() == 0 }, 5*time.Second, 5*time.Millisecond,
		"open connections: %d", open.Load())
}
