package breaker

import (
	"errors"
	"net/http"

	"github.com/tailguard/tailguard/idempotency"
)

// verdict is what one attempt means for its key's breaker.
type verdict uint8

const (
	success  verdict = iota // the upstream answered
	failure                 // evidence that the upstream is unhealthy
	excluded                // no evidence either way
)

// Sentinels returned to gobreaker's Execute. gobreaker only sees these
// three values, which keeps the mapping in one place ([judge]) and costs no
// allocation.
var (
	errFailure  = errors.New("breaker: failure")
	errExcluded = errors.New("breaker: excluded")
)

// gobreakerErr is the value to return to gobreaker's Execute.
func (v verdict) gobreakerErr() error {
	switch v {
	case failure:
		return errFailure
	case excluded:
		return errExcluded
	}
	return nil
}

// isExcluded is gobreaker's IsExcluded. Besides errExcluded, it excludes
// any error that is not one of the sentinels: only gobreaker's Execute
// makes such errors, when the attempt panicked, and a panic says nothing
// about the upstream.
func isExcluded(err error) bool   { return err != nil && err != errFailure }
func isSuccessful(err error) bool { return err == nil }

// judge maps one attempt's result to a verdict:
//
//	Success, Final            success   (the upstream answered)
//	Transient                 failure   (5xx, resets, refusals, timeouts)
//	Throttled                 excluded, or failure with CountThrottled
//	Fatal response (501, 505) success   (the upstream answered)
//	Fatal error (TLS)         failure   (the host cannot be used)
//	Fatal, never sent         excluded  (net/http refused a malformed
//	                                     request: the host was not asked)
//	Canceled, Rejected        excluded  (the caller gave up, or an inner
//	                                     stage refused: nothing was learnt)
//
// Whatever the classifier says, a would-be failure of a request whose
// context was canceled is excluded: cancellation makes transports return
// arbitrary errors, and a custom classifier may not recognise them. That
// is how a hedge that lost the race (its context is canceled by the hedge
// stage) never counts, nor fails a half-open probe — failsafe-go counts it
// as a failure. A deadline is not a cancellation: a per-attempt timeout
// says the upstream was too slow, and is a failure.
func (s *settings) judge(req *http.Request, resp *http.Response, err error) verdict {
	o := s.classifier.Classify(req, resp, err)
	v := failure
	switch o.Kind {
	case idempotency.Success, idempotency.Final:
		v = success
	case idempotency.Throttled:
		if !s.countThrottled {
			v = excluded
		}
	case idempotency.Fatal:
		switch {
		case err == nil:
			v = success
		case o.NeverSent:
			v = excluded
		}
	case idempotency.Canceled, idempotency.Rejected:
		v = excluded
	}
	if v == failure && idempotency.Abandoned(req.Context()) {
		v = excluded
	}
	return v
}
