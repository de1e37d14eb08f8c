package idempotency

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"
)

// Outcome classifies one attempt.
type Outcome struct {
	// Kind is what the attempt's result means for retrying and for the
	// upstream's health.
	Kind Kind
	// NeverSent reports that the request provably never left this process
	// (see [NeverSent]): a DNS failure, a dial failure, a failure to reach
	// the proxy, or any [Rejection]. Stages may retry such a failure for
	// any method, POST included, because the server cannot have seen it.
	// It is always false for a response.
	NeverSent bool
}

// Classifier decides whether a request may be sent more than once and what
// each attempt's result means. The retry, hedge and breaker stages all take
// one, so a single policy governs every stage of a pipeline.
//
// Implementations must be safe for concurrent use: stages call them from
// every request's goroutine, and a hedge calls them from several at once.
type Classifier interface {
	// Replayable reports whether req may be sent more than once.
	Replayable(req *http.Request) bool
	// Classify says what one attempt's result means. Normally exactly one
	// of resp and err is non-nil; both nil must be treated as Transient.
	// Classify must not read or close resp.Body, and must not modify req
	// or resp: the caller still owns them.
	Classify(req *http.Request, resp *http.Response, err error) Outcome
}

// Default is the classifier described in the package documentation:
// [Replayable] for requests, [StatusKind] plus the 503 Retry-After upgrade
// for responses, and the error rules of [Kind] and [NeverSent] for errors.
// It holds no state and is safe for concurrent use.
var Default Classifier = defaultClassifier{}

type defaultClassifier struct{}

func (defaultClassifier) Replayable(req *http.Request) bool {
	return Replayable(req)
}

// Classify looks at err first: when a transport returns both a response
// and an error (http.Client does on a CheckRedirect failure), the error is
// what ended the attempt.
func (defaultClassifier) Classify(req *http.Request, resp *http.Response, err error) Outcome {
	if err != nil {
		return classifyError(req, err)
	}
	if resp == nil {
		// A RoundTripper contract violation; retrying is the safe guess.
		return Outcome{Kind: Transient}
	}
	return Outcome{Kind: responseKind(resp)}
}

// responseKind is StatusKind, except that a 503 whose Retry-After asks
// for a pause is Throttled: the server named a time to come back, which is
// overload rather than failure (RFC 9110 §15.6.4). A Retry-After of 0 or a
// date already past asks for no pause, so it is no throttle: a dead load
// balancer that answers every request "503, Retry-After: 0" is failing, and
// a breaker, which excludes throttles, must still trip on it.
//
// A 403 is Throttled when it says it is a rate limit: a Retry-After asking
// for a pause, or X-RateLimit-Remaining: 0. GitHub answers its secondary
// rate limits that way (its docs: "403 or 429"); every other 403 is the
// Final refusal the status table says.
func responseKind(resp *http.Response) Kind {
	k := StatusKind(resp.StatusCode)
	switch resp.StatusCode {
	case http.StatusServiceUnavailable:
		if _, ok := PauseAsked(resp.Header, time.Now()); ok {
			return Throttled
		}
	case http.StatusForbidden:
		if _, ok := PauseAsked(resp.Header, time.Now()); ok || strings.TrimSpace(resp.Header.Get("X-RateLimit-Remaining")) == "0" {
			return Throttled
		}
	}
	return k
}

// WithStatus returns a Classifier that uses kinds[status] for the listed
// status codes and base for everything else: requests, errors and
// unlisted statuses. It adapts the table to an API's conventions, such as
// 409 → [Transient] for a server that answers 409 while a request with the
// same Idempotency-Key is still in flight. A listed status wins over every
// built-in rule, including the 503 Retry-After upgrade.
//
// kinds is copied, so later changes to the map have no effect. A nil base
// means [Default]. WithStatus panics if a kind is not one of the defined
// constants, since that is a programming error that would otherwise
// surface far away in a stage. The result is safe for concurrent use if
// base is.
func WithStatus(base Classifier, kinds map[int]Kind) Classifier {
	if base == nil {
		base = Default
	}
	for code, k := range kinds {
		if !k.valid() {
			panic(fmt.Sprintf("idempotency: WithStatus: invalid %v for status %d", k, code))
		}
	}
	return statusClassifier{base: base, kinds: maps.Clone(kinds)}
}

type statusClassifier struct {
	base  Classifier
	kinds map[int]Kind // never written after WithStatus returns
}

func (c statusClassifier) Replayable(req *http.Request) bool {
	return c.base.Replayable(req)
}

func (c statusClassifier) Classify(req *http.Request, resp *http.Response, err error) Outcome {
	if err == nil && resp != nil {
		if k, ok := c.kinds[resp.StatusCode]; ok {
			return Outcome{Kind: k}
		}
	}
	return c.base.Classify(req, resp, err)
}
