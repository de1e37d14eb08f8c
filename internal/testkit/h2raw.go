package testkit

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// H2Violator is a real HTTP/2 server over TLS that answers every request
// with a response header field net/http's server would never send: a
// protocol violation a client must treat as a failure of a request the
// server received, not as a request it never sent.
//
// Go's HTTP/2 server drops invalid header fields instead of sending them,
// so this one speaks the wire protocol itself, behind httptest's TLS and
// ALPN ("h2"): the client is a stock http.Transport negotiating h2. It
// answers each request once the request has ended (END_STREAM), so
// [H2Violator.Requests] counts requests the server received whole, and
// returns the flow-control credit of the bodies it reads, so a connection
// carries any number of requests (bodies below 64 KiB each).
// golang.org/x/net/http2's framer would do the framing, but it is not a
// dependency of this module, and the few frames needed here are simple.
type H2Violator struct {
	*httptest.Server
	requests atomic.Int64

	mu    sync.Mutex // guards conns
	conns map[*tls.Conn]struct{}
}

// NewH2Violator starts a server answering "200" with the header field
// name: value, sent verbatim (name must be lower-case and shorter than
// 127 bytes, value shorter than 127 bytes). It is closed when t ends.
func NewH2Violator(t testing.TB, name, value string) *H2Violator {
	v := &H2Violator{conns: make(map[*tls.Conn]struct{})}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	block := hpackLiteral(name, value)
	srv.Config.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		"h2": func(_ *http.Server, c *tls.Conn, _ http.Handler) { v.serve(c, block) },
	}
	srv.StartTLS()
	v.Server = srv
	t.Cleanup(v.Close)
	return v
}

// Requests returns how many requests the server has received whole.
func (v *H2Violator) Requests() int64 { return v.requests.Load() }

// Close closes every connection, then the server.
func (v *H2Violator) Close() {
	v.mu.Lock()
	for c := range v.conns {
		c.Close()
	}
	v.mu.Unlock()
	v.Server.Close()
}

// HTTP/2 frame types and flags (RFC 9113 §6).
const (
	h2Data         = 0x0
	h2Headers      = 0x1
	h2Settings     = 0x4
	h2Ping         = 0x6
	h2WindowUpdate = 0x8
	h2Continuation = 0x9

	h2EndStream  = 0x1
	h2Ack        = 0x1
	h2EndHeaders = 0x4
)

const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// serve speaks just enough HTTP/2 on c: settings, pings, and one bad
// response per request.
func (v *H2Violator) serve(c *tls.Conn, block []byte) {
	v.mu.Lock()
	v.conns[c] = struct{}{}
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		delete(v.conns, c)
		v.mu.Unlock()
		c.Close()
	}()
	preface := make([]byte, len(h2Preface))
	if _, err := io.ReadFull(c, preface); err != nil || string(preface) != h2Preface {
		return
	}
	if writeFrame(c, h2Settings, 0, 0, nil) != nil {
		return
	}
	var hdr [9]byte
	for {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
		typ, flags := hdr[3], hdr[4]
		stream := binary.BigEndian.Uint32(hdr[5:]) & 0x7fffffff
		payload := make([]byte, n)
		if _, err := io.ReadFull(c, payload); err != nil {
			return
		}
		var err error
		if typ == h2Data && n > 0 {
			// Return the connection's flow-control credit, or the
			// client stalls once 64 KiB of bodies have arrived on it
			// (a stream's own window suffices for one request body
			// below 64 KiB).
			var inc [4]byte
			binary.BigEndian.PutUint32(inc[:], uint32(n))
			if writeFrame(c, h2WindowUpdate, 0, 0, inc[:]) != nil {
				return
			}
		}
		switch {
		case typ == h2Settings && flags&h2Ack == 0:
			err = writeFrame(c, h2Settings, h2Ack, 0, nil)
		case typ == h2Ping && flags&h2Ack == 0:
			err = writeFrame(c, h2Ping, h2Ack, 0, payload)
		case (typ == h2Headers || typ == h2Data || typ == h2Continuation) && flags&h2EndStream != 0:
			v.requests.Add(1)
			err = writeFrame(c, h2Headers, h2EndHeaders|h2EndStream, stream, block)
		}
		if err != nil {
			return
		}
	}
}

// hpackLiteral encodes ":status: 200" (static table index 8) and name:
// value as a literal without indexing, without Huffman coding (RFC 7541
// §6.1, §6.2.2), so that the value reaches the client byte for byte.
func hpackLiteral(name, value string) []byte {
	if len(name) >= 127 || len(value) >= 127 {
		panic("testkit: H2Violator header name and value must be shorter than 127 bytes")
	}
	b := []byte{0x80 | 8, 0x00, byte(len(name))}
	b = append(b, name...)
	b = append(b, byte(len(value)))
	return append(b, value...)
}

func writeFrame(w io.Writer, typ, flags byte, stream uint32, payload []byte) error {
	f := make([]byte, 9, 9+len(payload))
	f[0], f[1], f[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	f[3], f[4] = typ, flags
	binary.BigEndian.PutUint32(f[5:], stream)
	_, err := w.Write(append(f, payload...))
	return err
}
