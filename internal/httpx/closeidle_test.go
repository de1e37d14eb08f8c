package httpx

import (
	"net/http"
	"testing"
)

type idleCounter struct {
	http.RoundTripper
	n int
}

func (c *idleCounter) CloseIdleConnections() { c.n++ }

func TestCloseIdle(t *testing.T) {
	c := &idleCounter{}
	CloseIdle(c)
	if c.n != 1 {
		t.Errorf("CloseIdleConnections called %d times, want 1", c.n)
	}
	CloseIdle(http.NewFileTransport(http.Dir("."))) // no such method: nothing happens
}
