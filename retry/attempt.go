package retry

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/httpx"
)

// replay is what may be retried for one request.
type replay uint8

const (
	replayNone      replay = iota // sent once: its body cannot be produced again
	replayNeverSent               // retried only after failures that prove nothing was sent
	replayAll                     // retried after any retryable outcome
)

// prepare decides how req may be retried and, if the classifier would
// replay it, makes its body replayable (bounded by MaxBufferedBody; see
// [httpx.ReplayableIf]). A request the classifier would not replay is
// still retried after a failure that proves nothing was sent, if its body
// can be produced again without copying.
func (r *Retrier) prepare(req *http.Request) (*http.Request, replay, error) {
	send, ok, err := httpx.ReplayableIf(req, r.cfg.classifier.Replayable, r.cfg.maxBufferedBody)
	switch {
	case err != nil:
		return nil, replayNone, fmt.Errorf("retry: %w", err) // nothing sent; body closed
	case ok:
		return send, replayAll, nil
	case idempotency.BodyReplayable(send):
		return send, replayNeverSent, nil
	}
	return send, replayNone, nil // a body too large or not worth copying: sent once, whole
}

// result is one attempt's result.
type result struct {
	req  *http.Request // the request sent
	resp *http.Response
	err  error
	out  idempotency.Outcome
}

// try sends attempt n of send, with body, under ctx, carrying the
// attempt's mark, and classifies the result. Classification happens here,
// before the attempt's own context is released: a classifier that sees a
// context this stage canceled would take it for the caller giving up.
func (t *transport) try(ctx context.Context, send *http.Request, body io.ReadCloser, n int) result {
	actx := attempt.WithRetry(ctx, &t.r.marks[n-1])
	d := t.r.cfg.attemptTimeout
	if d <= 0 {
		areq := send.WithContext(actx)
		areq.Body = body
		resp, err := t.next.RoundTrip(areq)
		return t.classified(areq, resp, err)
	}

	// The timer bounds the wait for headers only: once RoundTrip returns
	// it is stopped, and the attempt's context lives on until the caller
	// closes the body (cancelling it on return would break the body read,
	// hedgedhttp #1, failsafe-go #65). It does not run while an inner
	// stage holds the request back locally (see timeoutCtx).
	tctx := startTimeout(actx, d)
	cancel := tctx.cancel
	areq := send.WithContext(tctx)
	areq.Body = body
	resp, err := t.next.RoundTrip(areq)
	if tctx.end() {
		// The timer fired: whatever came back was cut short by it (a
		// response racing the timer has a canceled body) and is never
		// handed on.
		httpx.Discard(resp, nil)
		cancel(nil)
		if ctx.Err() != nil {
			// The caller gave up too: its error is the answer.
			return result{req: areq, err: ctx.Err(), out: idempotency.Outcome{Kind: idempotency.Canceled}}
		}
		err = fmt.Errorf("retry: attempt %d: no response within %v: %w", n, d, ErrAttemptTimeout)
		return result{req: areq, err: err, out: idempotency.Outcome{Kind: idempotency.Transient}}
	}
	if resp == nil {
		defer cancel(nil) // after classification, even if it panics
	} else {
		httpx.CancelOnClose(resp, func() { cancel(nil) })
	}
	return t.classified(areq, resp, err)
}

// classified is the result of sending areq, with its outcome. If the
// classifier panics, resp, which no one will see, is discarded on the way
// out.
func (t *transport) classified(areq *http.Request, resp *http.Response, err error) result {
	returned := false
	defer func() {
		if !returned {
			httpx.Discard(resp, nil)
		}
	}()
	res := result{req: areq, resp: resp, err: err, out: t.r.cfg.classifier.Classify(areq, resp, err)}
	returned = true
	return res
}
