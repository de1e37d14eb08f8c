package httpx

import (
	"context"
	"net/http/httptrace"
	"net/textproto"
	"sync"
)

// A stage that sends one caller request as several attempts would hand the
// caller's [httptrace.ClientTrace] to all of them: hedges call its hooks
// concurrently with the original, and an abandoned attempt's late events (a
// background dial finishing, a discarded body's drain returning its
// connection with PutIdleConn) run during the next attempt, racing whatever
// state the caller's hooks keep. A TraceGate lets exactly one attempt's
// events through at a time, and shuts an attempt out for good once the
// stage is past it.
//
// An attempt's context gets a proxy trace whose hooks forward to the
// caller's while the gate is open, under the gate's mutex, so no two of
// them run at once and none runs after [TraceGate.Close] returned. The
// caller's own trace is hidden from the attempt (a Value lookup returns
// the proxy), and so are its DNS and connect hooks, which net/http finds
// under a separate key that the proxy's installation shadows.
type TraceGate struct {
	mu     sync.Mutex
	closed bool // guarded by mu
}

// GateTrace returns the context for one attempt of a request whose context
// is ctx, and the gate that controls whether the caller's ClientTrace sees
// that attempt's events. With no ClientTrace in ctx it returns ctx and a
// nil gate, allocating nothing; [TraceGate.Close] on a nil gate does
// nothing.
func GateTrace(ctx context.Context) (context.Context, *TraceGate) {
	caller := httptrace.ContextClientTrace(ctx)
	if caller == nil {
		return ctx, nil
	}
	g := &TraceGate{}
	return httptrace.WithClientTrace(hiddenTrace{ctx}, g.proxy(caller)), g
}

// HideTrace returns ctx with the caller's ClientTrace, if any, hidden: an
// attempt sent under it reports no events to the caller at all.
func HideTrace(ctx context.Context) context.Context {
	if httptrace.ContextClientTrace(ctx) == nil {
		return ctx
	}
	// A trace with a net hook installs an empty net trace over the
	// caller's, so DNS and connect events are hidden too.
	return httptrace.WithClientTrace(hiddenTrace{ctx}, &httptrace.ClientTrace{ConnectStart: func(string, string) {}})
}

// Close shuts the attempt out: once Close returns, no hook of the caller's
// trace runs for it (Close waits for one that is running). It is safe to
// call more than once, and on a nil gate.
func (g *TraceGate) Close() {
	if g == nil {
		return
	}
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// hiddenTrace hides the ClientTrace of the context it wraps, so that
// httptrace.WithClientTrace over it composes with nothing.
type hiddenTrace struct{ context.Context }

func (c hiddenTrace) Value(key any) any {
	v := c.Context.Value(key)
	if _, ok := v.(*httptrace.ClientTrace); ok {
		return nil
	}
	return v
}

// proxy returns a trace with a hook for each of caller's, forwarding while
// the gate is open.
func (g *TraceGate) proxy(caller *httptrace.ClientTrace) *httptrace.ClientTrace {
	c := caller
	return &httptrace.ClientTrace{
		GetConn:              gate1(g, c.GetConn),
		GotConn:              gate1(g, c.GotConn),
		PutIdleConn:          gate1(g, c.PutIdleConn),
		GotFirstResponseByte: gate0(g, c.GotFirstResponseByte),
		Got100Continue:       gate0(g, c.Got100Continue),
		Got1xxResponse:       gate1xx(g, c.Got1xxResponse),
		DNSStart:             gate1(g, c.DNSStart),
		DNSDone:              gate1(g, c.DNSDone),
		ConnectStart:         gate2(g, c.ConnectStart),
		ConnectDone:          gate3(g, c.ConnectDone),
		TLSHandshakeStart:    gate0(g, c.TLSHandshakeStart),
		TLSHandshakeDone:     gate2(g, c.TLSHandshakeDone),
		WroteHeaderField:     gate2(g, c.WroteHeaderField),
		WroteHeaders:         gate0(g, c.WroteHeaders),
		Wait100Continue:      gate0(g, c.Wait100Continue),
		WroteRequest:         gate1(g, c.WroteRequest),
	}
}

// The gateN functions wrap a hook of N arguments; a nil hook stays nil, so
// the proxy has exactly the caller's hooks (and installs a net trace only
// if the caller's has DNS or connect hooks).

func gate0(g *TraceGate, f func()) func() {
	if f == nil {
		return nil
	}
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.closed {
			f()
		}
	}
}

func gate1[A any](g *TraceGate, f func(A)) func(A) {
	if f == nil {
		return nil
	}
	return func(a A) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.closed {
			f(a)
		}
	}
}

func gate2[A, B any](g *TraceGate, f func(A, B)) func(A, B) {
	if f == nil {
		return nil
	}
	return func(a A, b B) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.closed {
			f(a, b)
		}
	}
}

func gate3[A, B, C any](g *TraceGate, f func(A, B, C)) func(A, B, C) {
	if f == nil {
		return nil
	}
	return func(a A, b B, c C) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.closed {
			f(a, b, c)
		}
	}
}

func gate1xx(g *TraceGate, f func(int, textproto.MIMEHeader) error) func(int, textproto.MIMEHeader) error {
	if f == nil {
		return nil
	}
	return func(code int, h textproto.MIMEHeader) error {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.closed {
			return nil
		}
		return f(code, h)
	}
}
