package retry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// Real loopback tests: net/http's own transport, real connections. Delays
// are tiny and bounds generous; nothing here depends on machine speed.

// fast keeps real waits short.
var fast = Config{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// statusServer answers the scripted statuses in order (the last repeats),
// each with body, and counts hits.
func statusServer(t *testing.T, body string, codes ...int) (*http.Client, string, *atomic.Int64, *testkit.ConnCounter) {
	t.Helper()
	var hits atomic.Int64
	srv, conns := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(hits.Add(1))
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(codes[min(n, len(codes))-1])
		io.WriteString(w, body)
	}))
	client := &http.Client{Transport: New(fast).Wrap(testkit.Transport(t))}
	return client, srv.URL, &hits, conns
}

func TestHTTPGetRetriedUntil200(t *testing.T) {
	client, url, hits, _ := statusServer(t, "x", 503, 503, 200)
	resp, err := client.Get(url)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "x", readBody(t, resp))
	assert.EqualValues(t, 3, hits.Load())
}

func TestHTTPPostWithoutKeyOnce(t *testing.T) {
	client, url, hits, _ := statusServer(t, "x", 503, 200)
	resp, err := client.Post(url, "text/plain", strings.NewReader("charge card"))
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode)
	resp.Body.Close()
	assert.EqualValues(t, 1, hits.Load())
}

func TestHTTP404Once(t *testing.T) {
	client, url, hits, _ := statusServer(t, "nope", 404, 200)
	resp, err := client.Get(url)
	require.NoError(t, err)
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "nope", readBody(t, resp))
	assert.EqualValues(t, 1, hits.Load())
}

// A keyed POST is retried, and every attempt carries the same 1 MiB body,
// byte for byte, as the server's sha256 proves.
func TestHTTPPostWithKeyIdenticalBodies(t *testing.T) {
	payload := make([]byte, 1<<20)
	_, _ = rand.Read(payload)
	want := sha256.Sum256(payload)

	var mu sync.Mutex
	var sums [][32]byte
	var keys []string
	srv, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		io.Copy(h, r.Body)
		mu.Lock()
		sums = append(sums, [32]byte(h.Sum(nil)))
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		n := len(sums)
		mu.Unlock()
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	client := &http.Client{Transport: New(fast).Wrap(testkit.Transport(t))}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(payload))
	req.Header.Set("Idempotency-Key", "order-42")
	resp, err := client.Do(req)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	resp.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, sums, 3)
	for i, s := range sums {
		assert.Equal(t, want, s, "attempt %d body", i+1)
		assert.Equal(t, "order-42", keys[i])
	}
}

// A POST without a key whose first dial is refused was never sent, so it
// is retried; the server sees it exactly once.
func TestHTTPPostNeverSentRetried(t *testing.T) {
	var hits atomic.Int64
	var got atomic.Value
	srv, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
	}))
	closed := testkit.ClosedPort(t)
	live := strings.TrimPrefix(srv.URL, "http://")
	var dials atomic.Int64
	tr := testkit.Transport(t)
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return d.DialContext(ctx, network, closed)
		}
		return d.DialContext(ctx, network, live)
	}
	r := New(fast)
	client := &http.Client{Transport: r.Wrap(tr)}
	resp, err := client.Post(srv.URL, "text/plain", strings.NewReader("pay once"))
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	resp.Body.Close()
	assert.EqualValues(t, 2, dials.Load())
	assert.EqualValues(t, 1, hits.Load())
	assert.Equal(t, "pay once", got.Load())
	assert.EqualValues(t, 1, r.Stats().Retries)
}

// Retried 503s with 100 KB bodies are drained during the backoff, so all
// attempts share one keep-alive connection (go-retryablehttp drains 4 KiB
// and reconnects). The backoff is what the drain may take before the retry
// goes out; 100 ms is far more than reading 100 KB from loopback takes.
func TestHTTPRetriedErrorsKeepConnection(t *testing.T) {
	client, url, hits, conns := statusServer(t, strings.Repeat("e", 100_000), 503, 503, 503, 200)
	client.Transport = New(Config{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 100 * time.Millisecond,
		Jitter: NoJitter}).
		Wrap(client.Transport.(*transport).next)
	for range 3 {
		resp, err := client.Get(url)
		require.NoError(t, err)
		readBody(t, resp)
	}
	assert.EqualValues(t, 6, hits.Load()) // 4 for the first request, then 200s
	assert.Equal(t, 1, conns.New(), "every attempt reused the first connection")
}

// AttemptTimeout against a real server that hangs on the first request.
func TestHTTPAttemptTimeout(t *testing.T) {
	var hits atomic.Int64
	srv, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			select { // black hole until the client gives up
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		io.WriteString(w, "ok")
	}))
	cfg := fast
	cfg.AttemptTimeout = 100 * time.Millisecond
	client := &http.Client{Transport: New(cfg).Wrap(testkit.Transport(t))}
	start := time.Now()
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	assert.Equal(t, "ok", readBody(t, resp))
	assert.EqualValues(t, 2, hits.Load())
	assert.Less(t, time.Since(start), 5*time.Second)
}
