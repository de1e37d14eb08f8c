package retry

import (
	"io"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/httpx"
)

// Retrier is a retry stage: [Retrier.Wrap] returns an [http.RoundTripper]
// that sends a request again, after a jittered exponential backoff or the
// wait the upstream asked for, when an attempt fails transiently and the
// request may safely be repeated.
//
// # Algorithm
//
// For each request, the stage deposits once into the budget (unless an
// enclosing stage sharing it already did), asks the [idempotency.Classifier]
// whether the request is replayable, and sends attempt 1. After each
// attempt it stops and returns that attempt's response or error unless all
// of these hold:
//
//   - the outcome is Transient or Throttled, and the request is replayable
//     or the failure proves it was never sent (a dial or DNS error);
//   - fewer than MaxAttempts attempts were made;
//   - the wait (the pause the response's Retry-After asks for, if any,
//     else the next backoff draw) is at most MaxRetryAfter when the server
//     chose it, and ends
//     before the context's deadline;
//   - the budget grants a withdrawal.
//
// An inner stage's rejection ([idempotency.Rejection], e.g. an open
// breaker) is returned at once: the rejecting stage has already applied
// its own waiting policy.
//
// # Panics
//
// Every call-out — the next transport, the classifier, GetBody, Jitter,
// OnRetry, the logger and an observer — runs on the caller's goroutine,
// so a panic in one reaches the caller unchanged. On its way out the stage
// closes what it holds: the response of the attempt in hand, and a body
// it made for an attempt not yet sent.
//
// # Concurrency
//
// A Retrier is safe for concurrent use, and so is the transport Wrap
// returns; one Retrier may wrap several transports, which then share its
// budget and [Stats].
type Retrier struct {
	cfg   settings
	marks []attempt.Mark // attempt i+1's context mark; read-only after New
	stats counters
}

// New returns a Retrier configured by cfg; zero fields take the defaults
// documented on [Config]. It panics if a field is out of range, with a
// message naming the field.
func New(cfg Config) *Retrier {
	r := &Retrier{cfg: cfg.normalize()}
	r.marks = attempt.Marks(r.cfg.maxAttempts, attempt.Mark{Budget: r.cfg.budget, Classifier: r.cfg.classifier})
	return r
}

// Wrap returns a transport that sends requests through next with retries.
// A nil next means http.DefaultTransport. Wrap makes Retrier a
// pipeline.Stage.
func (r *Retrier) Wrap(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{r: r, next: next}
}

// Stats returns the cumulative counters since New.
func (r *Retrier) Stats() Stats { return r.stats.load() }

type transport struct {
	r    *Retrier
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper. Unlike the interface's usual
// contract it interprets status codes: a retryable status is retried, and
// only the last response is returned. That response always comes back as
// a response, with its body unread, never as an error (go-retryablehttp
// #46 threw it away).
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := t.r
	ctx := req.Context()
	r.stats.requests.Add(1)
	if !attempt.Charged(ctx, r.cfg.budget) {
		r.cfg.budget.Deposit()
	}
	send, rp, err := r.prepare(req)
	if err != nil {
		return nil, err
	}
	var policy backoff.BackOff // built on the first backoff only
	body := send.Body          // the body of attempt n
	sent := false              // body was handed to the next transport
	var held *http.Response    // the latest attempt's response, until drained or returned
	returned := false
	defer func() {
		// A body made for an attempt that was never sent (the caller
		// canceled the wait, a hook panicked) is closed here.
		if !sent && body != nil && body != send.Body {
			body.Close()
		}
		if !returned {
			// A call-out panicked (the logger, an observer, the
			// classifier, Jitter, OnRetry): the caller will never see
			// the response.
			httpx.Discard(held, nil)
		}
	}()
	var trace *httpx.TraceGate // the caller's ClientTrace, for the latest attempt only
	for n := 1; ; n++ {
		// An earlier attempt's late events (a dial finishing after its
		// timeout) never reach the caller's trace alongside this one's.
		trace.Close()
		tctx, gate := httpx.GateTrace(ctx) // ctx and nil without a ClientTrace
		trace = gate
		sent = true
		tried := attempt.StartTry(ctx) // an enclosing hedge learns one try's latency, not ours
		res := t.try(tctx, send, body, n)
		held = res.resp
		if ctx.Err() != nil {
			// The caller gave up: hand back what this attempt got, which
			// for an error is (or wraps) the context's error.
			r.logOutcome(ctx, req, n, idempotency.Canceled, res.resp, res.err)
			returned = true
			return res.resp, res.err
		}
		out := res.out
		pushback(ctx, out, res.resp, res.err)
		resent := attempt.EndTry(ctx, tried, out.Kind) // after the pause, which then stops the hedge it would send
		v := r.decide(ctx, n, rp, out, res.resp, res.err, &policy)
		if v.stop == stopNone && resent {
			// An enclosing hedge re-sent the request at once: that copy
			// is this failure's retry, and one is enough.
			v.stop = stopResent
		}
		if v.stop == stopNone {
			body, v.stop = r.next(send, n+1)
			sent = false
		}
		if v.stop != stopNone {
			r.stats.stop(v.stop)
			r.logStop(ctx, req, n, &res, v)
			resp, err := finish(n, v.stop, res)
			r.logOutcome(ctx, req, n, out.Kind, resp, err)
			returned = true
			return resp, err
		}
		// The failed response is drained during the wait, never beyond
		// it: a small body is read to its end, so the retry reuses the
		// connection, and what is left of a slow one drains in the
		// background (bounded: httpx.DrainTimeout) as the retry goes out.
		// Draining it before the wait held the first retry, 25 ms off by
		// default, for the whole DrainTimeout behind a stalled body.
		waitStart := time.Now()
		httpx.DrainFor(ctx, res.resp, nil, v.delay)
		held = nil
		if hook := r.cfg.onRetry; hook != nil {
			info := RetryInfo{Request: req, Attempt: n, Delay: v.delay, ServerDelay: v.server,
				Outcome: out, Err: res.err}
			if res.resp != nil && res.err == nil {
				info.StatusCode = res.resp.StatusCode
			}
			hook(info)
		}
		if err := wait(ctx, v.delay-time.Since(waitStart)); err != nil {
			r.logOutcome(ctx, req, n, idempotency.Canceled, nil, err)
			returned = true
			return nil, err
		}
		r.stats.retries.Add(1)
		r.logRetry(ctx, req, n, &res, v) // once the retry is certain, as Stats.Retries counts it
	}
}

// next readies attempt n of send: its body, then the budget's grant. The
// body is made before the previous attempt's result is let go: when
// GetBody fails, nothing more can be sent, and that result is the last
// real one, returned as it is (a 503 stays a 503) without a retry counted
// or budget spent. On a stop it returns a nil body and holds nothing.
func (r *Retrier) next(send *http.Request, n int) (io.ReadCloser, stopReason) {
	body, err := httpx.AttemptBody(send, n)
	if err != nil {
		return nil, stopBody
	}
	if !r.cfg.budget.Withdraw() {
		if body != nil && body != send.Body {
			body.Close()
		}
		return nil, stopBudget
	}
	return body, stopNone
}

// finish returns the outcome of the last attempt. A response is returned
// as it is. An error is wrapped in *Error when the stage gave up on it, or
// after more than one attempt; an error it would never retry, on the first
// attempt, is returned untouched.
func finish(n int, why stopReason, res result) (*http.Response, error) {
	if res.err == nil || (n == 1 && why == stopPolicy) {
		return res.resp, res.err
	}
	return res.resp, &Error{Attempts: n, Err: res.err}
}

// CloseIdleConnections closes next's idle connections if it can, so that
// [http.Client.CloseIdleConnections] reaches through the stage.
func (t *transport) CloseIdleConnections() { httpx.CloseIdle(t.next) }
