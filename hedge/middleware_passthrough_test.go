package hedge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/testkit"
)

// Every request the middleware passes through runs once, on the real
// writer, and carries no attempt mark: CopyFrom is 0 and IsHedge false
// in its handler, whatever the reason it was not hedged.
func TestMiddlewarePassThroughUnmarked(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"POST without Idempotency-Key", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader("{}"))
		}},
		{"Skip", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/skip", nil) }},
		{"Upgrade", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/ws", nil)
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			return r
		}},
		{"event stream", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/events", nil)
			r.Header.Set("Accept", "text/event-stream")
			return r
		}},
		{"body over MaxBody", func() *http.Request {
			return httptest.NewRequest(http.MethodPut, "/blob", strings.NewReader("0123456789A"))
		}},
		{"body read fails", func() *http.Request {
			return httptest.NewRequest(http.MethodPut, "/blob", &testkit.FailingReader{N: 3})
		}},
		{"CONNECT", func() *http.Request { return httptest.NewRequest(http.MethodConnect, "/", nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var runs atomic.Int32
				marks := make(chan int, 2)
				m := NewMiddleware(MiddlewareConfig{
					Config:  Config{Delay: time.Millisecond, Skip: func(r *http.Request) bool { return r.URL.Path == "/skip" }},
					MaxBody: 10,
				})
				h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					runs.Add(1)
					marks <- CopyFrom(r.Context())
					assert.False(t, IsHedge(r.Context()))
					time.Sleep(10 * time.Millisecond) // long past the delay
				}))
				serve(h, tc.req())
				synctest.Wait()
				assert.Equal(t, int32(1), runs.Load())
				assert.Equal(t, 0, <-marks)
				st := m.Stats()
				assert.Equal(t, uint64(1), st.PassThrough+st.Skipped)
				assert.Zero(t, st.Hedgeable)
			})
		})
	}
}

// A protocol upgrade goes through the middleware untouched over a real
// connection: the handler runs once, hijacks the connection, answers 101
// and speaks the new protocol, however long it takes.
func TestMiddlewareNetworkUpgradePassesThrough(t *testing.T) {
	var runs atomic.Int32
	m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: time.Millisecond}})
	srv, _ := testkit.NewServer(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		time.Sleep(20 * time.Millisecond) // long past the delay: a hedged request would have a second run
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n')
		rw.WriteString("echo " + line)
		rw.Flush()
	})))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	io.WriteString(conn, "ping\n")
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "echo ping\n", line)
	assert.Equal(t, int32(1), runs.Load())
	assert.Equal(t, Stats{Requests: 1, PassThrough: 1}, m.Stats())
}

// Requests announcing a streaming response run once on the real writer,
// which can flush; hedged runs cannot.
func TestMiddlewareStreamingPassesThrough(t *testing.T) {
	for _, tc := range []struct {
		name, header, value string
		stream              bool
	}{
		{"event-stream", "Accept", "text/html, Text/Event-Stream;q=0.9", true},
		{"websocket", "Upgrade", "websocket", true},
		{"plain", "Accept", "application/json", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var flushErr error
				m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}})
				h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					flushErr = http.NewResponseController(w).Flush()
				}))
				req := httptest.NewRequest(http.MethodGet, "/events", nil)
				req.Header.Set(tc.header, tc.value)
				serve(h, req)
				if tc.stream {
					assert.NoError(t, flushErr)
					assert.Equal(t, Stats{Requests: 1, PassThrough: 1}, m.Stats())
				} else {
					assert.ErrorIs(t, flushErr, http.ErrNotSupported)
					assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, OriginalWins: 1}, m.Stats())
				}
			})
		})
	}
}

func TestContainsFold(t *testing.T) {
	assert.True(t, containsFold("a, TEXT/event-STREAM", "text/event-stream"))
	assert.False(t, containsFold("text/event", "text/event-stream"))
	assert.False(t, containsFold("", "x"))
}
