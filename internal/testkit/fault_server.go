package testkit

import (
	"context"
	"crypto/sha256"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// FaultServerOptions configures [NewFaultServer]. The zero value is an
// HTTP/1.1 server answering 200 to every request without an X-Fault header.
type FaultServerOptions struct {
	// Script chooses the fault for the n-th request (1-based, in arrival
	// order, counted across connections) when the request carries no
	// X-Fault header; r lets a script keep one sequence per logical request
	// (say, per value of a header the test sets). Nil means [FaultOK] for
	// every request. It is called from handler goroutines, concurrently,
	// once per request, after the request body has been read.
	Script func(n int, r *http.Request) Fault
	// HTTP2 serves TLS with HTTP/2 enabled (httptest's EnableHTTP2); use
	// [FaultServer.Transport] for a client that trusts it and speaks h2.
	HTTP2 bool
	// BodySize is the size of a 200 response's body; if zero, 64 bytes.
	// Truncated and mid-body faults send half of twice this.
	BodySize int
	// Record, if set, receives each request's record instead of the
	// server keeping it ([FaultServer.Records] stays empty), so that a
	// long soak does not grow the heap. It is called from handler
	// goroutines, concurrently, before the fault is applied.
	Record func(FaultRecord)
}

// FaultRecord is what a [FaultServer] saw of one request.
type FaultRecord struct {
	// N is the arrival number passed to the script.
	N      int
	Method string
	Path   string
	Proto  string
	// Key is the Idempotency-Key header ("" if absent).
	Key string
	// BodySHA256 and BodyBytes describe the bytes read from the body.
	BodySHA256 [32]byte
	BodyBytes  int64
	// BodyErr is the error that ended reading the body early (the client
	// aborted the upload, for instance), nil if the body was read to EOF.
	// A body with BodyErr == nil is one the server would act on.
	BodyErr error
	// ConnID numbers the connection the request arrived on (1-based).
	ConnID int64
	// Fault is what the server did.
	Fault Fault
}

// FaultServer is a loopback HTTP server whose behaviour is chosen per
// request, by the X-Fault header ([FaultHeader]) or else by a script. It
// reads every request body completely before misbehaving, and records
// each request ([FaultServer.Records]).
//
// Handlers that hold a request (black hole, slow headers) return when the
// client gives up or when the server is closed at the end of the test, so
// goleak stays clean. Its methods are safe for concurrent use.
type FaultServer struct {
	*httptest.Server
	opts FaultServerOptions

	arrivals atomic.Int64
	conns    atomic.Int64
	inFlight atomic.Int64
	release  chan struct{} // closed at cleanup, before the server closes

	mu      sync.Mutex // guards records
	records []FaultRecord
}

type connIDKey struct{}

// NewFaultServer starts a fault server and closes it when the test ends.
func NewFaultServer(t testing.TB, opts FaultServerOptions) *FaultServer {
	t.Helper()
	if opts.BodySize <= 0 {
		opts.BodySize = 64
	}
	s := &FaultServer{opts: opts, release: make(chan struct{})}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connIDKey{}, s.conns.Add(1))
	}
	// Resets and aborted TLS handshakes make the server log; faults are
	// the point here, so keep the test output clean.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Server = srv
	if opts.HTTP2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	// Cleanups run last-in first-out: release held handlers, then close.
	t.Cleanup(srv.Close)
	t.Cleanup(s.releaseHeld)
	return s
}

func (s *FaultServer) releaseHeld() {
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// Transport returns a fresh transport that trusts the server (and speaks
// HTTP/2 to it when enabled), closing idle connections at test end.
func (s *FaultServer) Transport(t testing.TB) *http.Transport {
	t.Helper()
	tr := s.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// Records returns a copy of every request received so far, in the order
// their bodies were read.
func (s *FaultServer) Records() []FaultRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]FaultRecord(nil), s.records...)
}

// Received returns how many requests have arrived at the handler.
func (s *FaultServer) Received() int { return int(s.arrivals.Load()) }

// Conns returns how many connections the server accepted.
func (s *FaultServer) Conns() int { return int(s.conns.Load()) }

// InFlight returns how many handlers are running.
func (s *FaultServer) InFlight() int { return int(s.inFlight.Load()) }

// WaitIdle waits up to d for every handler to return (a losing hedge or a
// canceled attempt may still be uploading when the client returns), and
// reports whether they did. Call it before asserting on [Records].
func (s *FaultServer) WaitIdle(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for s.InFlight() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

func (s *FaultServer) serve(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	n := int(s.arrivals.Add(1))

	h := sha256.New()
	nb, bodyErr := io.Copy(h, r.Body)
	f := s.choose(n, r)
	rec := FaultRecord{
		N: n, Method: r.Method, Path: r.URL.Path, Proto: r.Proto,
		Key: r.Header.Get("Idempotency-Key"), BodyBytes: nb, BodyErr: bodyErr, Fault: f,
	}
	copy(rec.BodySHA256[:], h.Sum(nil))
	rec.ConnID, _ = r.Context().Value(connIDKey{}).(int64)
	if s.opts.Record != nil {
		s.opts.Record(rec)
	} else {
		s.mu.Lock()
		s.records = append(s.records, rec)
		s.mu.Unlock()
	}
	if bodyErr != nil {
		panic(http.ErrAbortHandler) // the client is gone
	}

	switch f.Kind {
	case FaultResetBeforeHeaders:
		s.reset(w, nil)
	case FaultResetMidBody:
		s.reset(w, s.partialResponse())
	case FaultTruncatedBody:
		s.truncate(w)
	case FaultStalledBody:
		s.stall(w, r, f)
	case FaultBlackHole:
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
		panic(http.ErrAbortHandler)
	case FaultSlowHeaders:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			panic(http.ErrAbortHandler)
		case <-s.release:
			panic(http.ErrAbortHandler)
		}
		s.answer(w, f)
	default:
		s.answer(w, f)
	}
}

func (s *FaultServer) choose(n int, r *http.Request) Fault {
	if v := r.Header.Get(FaultHeader); v != "" {
		if f, err := ParseFault(v); err == nil {
			return f
		}
		return FaultStatus(http.StatusBadRequest)
	}
	if s.opts.Script != nil {
		return s.opts.Script(n, r)
	}
	return FaultOK()
}

// answer writes a complete response. Error statuses carry a readable body
// naming the fault, so a test can prove the caller got the final response.
func (s *FaultServer) answer(w http.ResponseWriter, f Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	body := []byte("fault: " + strconv.Itoa(status))
	if status == http.StatusOK {
		body = okBody(s.opts.BodySize)
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// stall sends f's status and headers, promising a body it never sends,
// until the client gives up or the server is released.
func (s *FaultServer) stall(w http.ResponseWriter, r *http.Request, f Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.Header().Set("Content-Length", "64")
	w.WriteHeader(status)
	_ = http.NewResponseController(w).Flush()
	select {
	case <-r.Context().Done():
	case <-s.release:
	}
	panic(http.ErrAbortHandler)
}

// OKBody returns the body a [FaultServer] with the given BodySize (0 for
// the default) sends with a 200.
func OKBody(size int) []byte {
	if size <= 0 {
		size = 64
	}
	return okBody(size)
}

func okBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

// partialResponse is a raw HTTP/1.1 200 promising 2×BodySize bytes and
// carrying BodySize of them.
func (s *FaultServer) partialResponse() []byte {
	body := okBody(s.opts.BodySize)
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(2*len(body)) + "\r\n\r\n"
	return append([]byte(head), body...)
}

// reset writes prefix and then resets the connection: on HTTP/1 a TCP RST
// (SO_LINGER 0 on a hijacked conn), on HTTP/2 a stream reset.
func (s *FaultServer) reset(w http.ResponseWriter, prefix []byte) {
	conn, ok := hijack(w)
	if !ok {
		if prefix != nil {
			s.h2Partial(w)
		}
		panic(http.ErrAbortHandler)
	}
	if prefix != nil {
		_, _ = conn.Write(prefix)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// truncate sends a 200 promising 2×BodySize bytes, sends half and ends the
// connection cleanly; on HTTP/2 the stream is reset after the half.
func (s *FaultServer) truncate(w http.ResponseWriter) {
	conn, ok := hijack(w)
	if !ok {
		s.h2Partial(w)
		panic(http.ErrAbortHandler)
	}
	_, _ = conn.Write(s.partialResponse())
	_ = conn.Close()
}

// h2Partial writes a 200 promising 2×BodySize bytes and flushes half.
func (s *FaultServer) h2Partial(w http.ResponseWriter) {
	body := okBody(s.opts.BodySize)
	w.Header().Set("Content-Length", strconv.Itoa(2*len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// hijack takes over an HTTP/1 connection; it reports false on HTTP/2,
// which cannot be hijacked.
func hijack(w http.ResponseWriter) (net.Conn, bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, false
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return nil, false
	}
	_ = buf.Flush()
	return conn, true
}
