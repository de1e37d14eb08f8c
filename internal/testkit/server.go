package testkit

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// ConnCounter counts the connections an httptest server accepted, to prove
// that keep-alive connections are reused after a discarded response.
type ConnCounter struct{ n atomic.Int64 }

// New returns how many connections were accepted.
func (c *ConnCounter) New() int { return int(c.n.Load()) }

// NewServer starts an httptest server running h that counts its new
// connections, and closes it when the test ends.
func NewServer(t testing.TB, h http.Handler) (*httptest.Server, *ConnCounter) {
	t.Helper()
	cc := &ConnCounter{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cc.n.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cc
}

// ClosedPort returns a loopback address on which nothing listens: a request
// to it fails with connection refused before any byte is sent.
func ClosedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Transport returns a fresh *http.Transport, closing its idle connections
// when the test ends so goleak sees no lingering connection goroutines.
func Transport(t testing.TB) *http.Transport {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}
