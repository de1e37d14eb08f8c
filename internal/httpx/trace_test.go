package httpx

import (
	"context"
	"net"
	"net/http/httptrace"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// events counts a caller's trace events with no locking of its own, as most
// traces do: the race detector flags any concurrent call.
type events struct {
	getConn, dnsStart int
}

func (e *events) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn:  func(string) { e.getConn++ },
		DNSStart: func(httptrace.DNSStartInfo) { e.dnsStart++ },
	}
}

// fire runs the hooks net/http and the resolver would find in ctx: the
// ClientTrace's GetConn, and the DNS hook through a real lookup of
// "localhost" (answered from the hosts file, no network).
func fire(t *testing.T, ctx context.Context) {
	t.Helper()
	if tr := httptrace.ContextClientTrace(ctx); tr != nil && tr.GetConn != nil {
		tr.GetConn("x:80")
	}
	_, err := net.DefaultResolver.LookupIPAddr(ctx, "localhost")
	require.NoError(t, err)
}

func TestGateTraceWithoutTrace(t *testing.T) {
	ctx := context.Background()
	got, g := GateTrace(ctx)
	assert.Equal(t, ctx, got, "nothing to gate: the same context")
	assert.Nil(t, g)
	g.Close() // a nil gate is fine
	assert.Equal(t, ctx, HideTrace(ctx))
}

// An open gate forwards every hook, DNS included; a closed one none; a
// hidden trace sees nothing.
func TestGateTrace(t *testing.T) {
	var e events
	caller := httptrace.WithClientTrace(context.Background(), e.trace())

	open, g := GateTrace(caller)
	fire(t, open)
	assert.Equal(t, events{getConn: 1, dnsStart: 1}, e)

	g.Close()
	fire(t, open)
	assert.Equal(t, events{getConn: 1, dnsStart: 1}, e, "nothing after Close")

	fire(t, HideTrace(caller))
	assert.Equal(t, events{getConn: 1, dnsStart: 1}, e, "a hidden trace sees nothing")

	fire(t, caller)
	assert.Equal(t, events{getConn: 2, dnsStart: 2}, e, "the caller's own context is untouched")
}

// Hooks of attempts gated separately never run at once, and none runs after
// its gate's Close returned, even while its attempt keeps firing them from
// another goroutine.
func TestGateTraceSerializes(t *testing.T) {
	var e events
	caller := httptrace.WithClientTrace(context.Background(), e.trace())
	first, g1 := GateTrace(caller)
	var wg sync.WaitGroup
	stop, started := make(chan struct{}), make(chan struct{})
	wg.Go(func() {
		httptrace.ContextClientTrace(first).GetConn("x:80")
		close(started)
		for {
			select {
			case <-stop:
				return
			default:
				httptrace.ContextClientTrace(first).GetConn("x:80")
			}
		}
	})
	<-started
	g1.Close()
	n := e.getConn // no hook of the first attempt runs after Close returned
	second, _ := GateTrace(caller)
	for range 100 {
		httptrace.ContextClientTrace(second).GetConn("x:80")
	}
	close(stop)
	wg.Wait()
	assert.Equal(t, n+100, e.getConn)
}
