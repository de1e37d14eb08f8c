package oteltailguard

import (
	"context"
	"net/http"
	"time"

	"github.com/tailguard/tailguard/decision"
)

// Wrap returns a transport that sends each request through next with the
// Instrumentation in its context, so that every stage below reports its
// decisions to it, and records the request's duration, from the call to
// the return of its response headers or error, on
// tailguard.request.duration. Wrap makes an Instrumentation a
// pipeline.Stage: put it outermost. A nil next means
// http.DefaultTransport.
func (in *Instrumentation) Wrap(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{in: in, next: next}
}

type transport struct {
	in   *Instrumentation
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper. The request passed on is a
// shallow copy of req carrying the new context; req itself is not
// modified.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if o, ok := decision.ObserverFrom(ctx).(*Instrumentation); ok && o == t.in {
		return t.next.RoundTrip(req) // already instrumented by this Instrumentation
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req.WithContext(decision.WithObserver(ctx, t.in)))
	t.in.recordRequest(ctx, req, resp, err, time.Since(start))
	return resp, err
}

// recordRequest records one logical request on tailguard.request.duration.
func (in *Instrumentation) recordRequest(ctx context.Context, req *http.Request, resp *http.Response, err error, d time.Duration) {
	s := httpSeries(req, resp, err)
	in.ins.requestDuration.Record(ctx, d.Seconds(), in.requests.get(s).rec...)
}

// httpSeries is the series of a request and its result, in httpAttrs'
// layout.
func httpSeries(req *http.Request, resp *http.Response, err error) series {
	host, port := serverAddress(req.URL)
	s := series{a: method(req), b: host, n: port, t: errorType(err)}
	if resp != nil && err == nil {
		s.m = resp.StatusCode
	}
	return s
}

// CloseIdleConnections closes next's idle connections if it can, so that
// http.Client.CloseIdleConnections reaches through.
func (t *transport) CloseIdleConnections() { closeIdle(t.next) }

func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
