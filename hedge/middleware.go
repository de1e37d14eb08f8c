package hedge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/httpx"
)

// DefaultMaxBody is the largest request body, in bytes, a [Middleware]
// buffers so that every run of the handler can read it: 1 MiB, the client
// stage's limit for bodies without GetBody.
const DefaultMaxBody = 1 << 20

// DefaultMaxResponse is how many response body bytes a hedged run of a
// [Middleware] buffers before it finishes early: 1 MiB.
const DefaultMaxResponse = 1 << 20

// MiddlewareConfig configures a [Middleware]. Its embedded [Config] means
// what it means for a [Hedger], with "attempt" read as "run of the handler"
// (see [Middleware] for where the server side differs); the other two
// fields only make sense in a server. The zero value is the recommended
// setup: adaptive hedging at each route's p95 latency, one hedge, a 20%
// budget, request bodies up to 1 MiB buffered, no timeout of its own.
//
// [NewMiddleware] panics, with a message naming the field, on the invalid
// values [New] rejects and on the ones below.
type MiddlewareConfig struct {
	Config

	// Timeout bounds a hedged request. If it elapses before a run wins,
	// every run's context ends with context.DeadlineExceeded and the client
	// gets the latest failed run's response or, if no run has finished,
	// 503 Service Unavailable (see [Middleware]). If zero, there is no
	// timeout: the middleware waits until a run wins or the request's own
	// context ends. Requests served unhedged are never bounded by it. It
	// must not be negative.
	Timeout time.Duration

	// MaxBody is the largest request body, in bytes, buffered so that
	// every run can read it. A request with a larger body is served once,
	// unhedged, with its body intact. If zero, DefaultMaxBody. It must not
	// be negative.
	MaxBody int64

	// MaxResponse is how many response body bytes each hedged run may
	// buffer, which bounds a hedged request's memory to about
	// (MaxHedges+1) × MaxResponse. A run whose body would grow past it
	// finishes at that write, as if its handler had returned there: it is
	// judged by the status and headers it has set so far, like any
	// finished run (see [Middleware]). If it wins, what it buffered is
	// written to the client and the rest of its body goes straight
	// through as the handler writes it. Otherwise — its status is a
	// failing one, or another run answered first — its further writes
	// fail (with [ErrResponseTooLarge], or its context's cause) and none
	// of its output is sent, since a truncated body must not reach the
	// client. If zero, DefaultMaxResponse. It must not be negative.
	MaxResponse int64
}

// Middleware hedges an [http.Handler] inside a server: when a run of the
// handler is slow, it starts another run of the same request, and the
// first run to finish answers the client. [NewMiddleware] builds one from a
// [MiddlewareConfig]; [Middleware.Handler] puts it around a handler, and is
// itself the func(http.Handler) http.Handler that middleware chains take.
//
// # When runs start
//
// Run 1 starts at once; run k+1 (hedge k) starts on the schedule of a
// [Hedger]: fixed, schedule ([SLO]) or adaptive, under the same budget
// rules, up to MaxHedges. A run that finishes with a transient or
// throttled status (503, 429, ...; per the classifier) starts the next run
// at once. A failing run whose response carries a Retry-After still in the
// future, whatever its status (a 500 or 502 as much as a 429 or 503), asks
// for a pause instead: no further run starts for the request, at once or
// on the timer, though runs going may still win. Each run gets its
// own clone of the request, with its own context (a child of the
// request's, carrying the [CopyFrom] mark, so a handler can tell
// [IsHedge]) and its own reader over the buffered body bytes.
//
// # Who answers
//
// Each run writes into its own buffered response (headers, status, body,
// trailers). A run is finished when its handler returns, or when its body
// outgrows MaxResponse (see Large responses). The first finished run whose
// status the classifier calls a success or a final client error (by
// default 2xx, 3xx, and 4xx other than 408, 425 and 429) wins: the others'
// contexts are canceled with cause [ErrLostRace] and their output is
// discarded, and the winner's headers, status, body and trailers are
// written to the real [http.ResponseWriter], once, from the ServeHTTP
// goroutine (but see Large responses). A failing status never beats a run
// still going.
// When no run can win any more (every run failed, the Timeout elapsed, or
// the request's context ended),
// the client gets the latest failed run's response; if no run finished at
// all, it gets 503 Service Unavailable with the body "Service
// Unavailable". A run whose context had already ended when it returned
// never wins: its output may be an artifact of the cancellation.
//
// A panicking run — its handler, or the classifier judging its response —
// counts as failed, and fires no hedge; if no run wins and no failed run
// left a response, the panic is raised again, with the same value, on the
// ServeHTTP goroutine, where net/http handles it as it would without the
// middleware (http.ErrAbortHandler included). A panic after its run
// finished (after the decision, or after its body outgrew MaxResponse with
// a failing status) is recovered and discarded with its output: no panic
// on a run's goroutine ever reaches the process. Each panic no one raises —
// those, and a panicking run that another run's answer or panic displaced
// — is counted in [Stats].DroppedPanics and recorded in the decision log
// as panic_dropped (Warn), with its stack.
//
// # Large responses
//
// A run buffers at most MaxResponse bytes of body. A run whose body would
// grow past it finishes at that write, judged by the status and headers it
// has set so far. If it wins, its headers, status and buffered bytes are
// written to the client, the other runs are canceled, and its further
// writes go straight to the real ResponseWriter from the run's goroutine,
// while ServeHTTP waits for its handler to return, then sets the trailers.
// If that run's context ends before its handler returns (the client left,
// or the Timeout, which still applies, elapsed), or the handler panics,
// the response is incomplete: ServeHTTP panics with [http.ErrAbortHandler]
// (or the handler's panic value) so that net/http breaks the connection
// rather than end the body as if it were whole. A run that outgrows
// MaxResponse with a failing status has failed there: its writes fail with
// [ErrResponseTooLarge], its output is never sent (if no other run wins,
// the client gets the 503), and, as after any failure, the next hedge may
// start at once.
//
// ServeHTTP returns as soon as the answer is written; losing runs finish
// on their own goroutines. Handlers must therefore return promptly once
// r.Context() is done, must not keep using the ResponseWriter after they
// return, and must not rely on running to completion.
//
// # Never hedged
//
// A request is served once, by the handler alone, on the real
// ResponseWriter and with the request untouched, when [Config.Skip]
// reports true, when the classifier does not call it replayable (POST and
// PATCH without an Idempotency-Key), when its body exceeds MaxBody (the
// bytes already read are replayed ahead of the rest), when reading its
// body fails (the handler sees the same bytes and the same error), or when
// it announces a streaming response: an Upgrade header (WebSocket, h2c) or
// an Accept header naming text/event-stream. Such a request carries no
// attempt mark: in its handler [CopyFrom] is 0 and [IsHedge] false.
//
// A hedged run's ResponseWriter buffers the response (see Large
// responses) and implements neither [http.Flusher] nor [http.Hijacker];
// [http.ResponseController] reports [http.ErrNotSupported] for Flush,
// Hijack and deadlines, and 1xx informational responses are dropped.
// Exclude other streaming handlers (long polls, event streams not
// announced by Accept) with Skip.
//
// # Adaptive delay
//
// Each handler returned by Handler learns its own latencies: the duration of
// run 1, or its elapsed time when a hedge beat it. When a [http.ServeMux]
// routed the request before the middleware (mux.Handle(pattern,
// m.Handler(h))), latencies are kept per pattern (r.Pattern, at most 512);
// a middleware wrapping the whole mux sees no pattern and keeps one
// distribution for every route, which suits a mux whose routes share one
// latency profile.
//
// # Replicas
//
// [Config.Replicas] must be zero. A run of the handler is not sent to a
// URL, so there is nothing the middleware could send to another replica,
// and it cannot know which backends a handler calls. A handler that calls
// replicas of a backend is already free to pick one per run:
// [CopyFrom](r.Context()) tells it which run it is (0 when the request
// is served unhedged), so backends[max(CopyFrom(ctx)-1, 0)%len(backends)]
// sends each run of a request to a different replica. Or its client to that backend can hedge across
// the replicas itself, with a [Hedger] whose Config lists them.
//
// # Statistics and hooks
//
// [Middleware.Stats] counts as [Hedger.Stats] does, with runs for
// attempts. [Config.OnHedge] is called on the ServeHTTP goroutine just
// before each hedge run starts. [Config.OnComplete] is called once per
// hedged request, on the ServeHTTP goroutine, after the answer is written
// (before a panic is raised again): Winner is 0 when no run won, StatusCode
// is the status written, Duration runs to the end of a body written
// through (see Large responses), and Err is the context's error when the
// Timeout or the request's end decided, or describes the panic being
// raised. A hook that panics does so on the ServeHTTP goroutine;
// every run's context is canceled before the panic leaves ServeHTTP.
//
// # Concurrency
//
// A Middleware is safe for concurrent use, and so are the handlers it
// returns. Handlers wrapped by one Middleware share its statistics and
// budget.
type Middleware struct {
	cfg         settings
	timeout     time.Duration
	maxBody     int64
	maxResponse int64
	marks       []attempt.Mark
	markCtxs    []context.Context
	timers      stoppedTimers
	stats       counters
}

// NewMiddleware returns a Middleware configured by cfg. It panics, with a
// message naming the field, if cfg is invalid (see [MiddlewareConfig]).
func NewMiddleware(cfg MiddlewareConfig) *Middleware {
	if cfg.Timeout < 0 {
		panic(fmt.Sprintf("hedge: Timeout must not be negative, got %v", cfg.Timeout))
	}
	if cfg.MaxBody < 0 {
		panic(fmt.Sprintf("hedge: MaxBody must not be negative, got %d", cfg.MaxBody))
	}
	if cfg.MaxResponse < 0 {
		panic(fmt.Sprintf("hedge: MaxResponse must not be negative, got %d", cfg.MaxResponse))
	}
	if r := cfg.Replicas; len(r.Addrs) > 0 || r.Pick != nil || r.PreserveHost {
		panic("hedge: Replicas must be zero in a MiddlewareConfig: a run of the handler has no URL to send elsewhere; " +
			"the handler picks its backend (see Middleware, \"Replicas\")")
	}
	m := &Middleware{cfg: cfg.Config.normalize(), timeout: cfg.Timeout, maxBody: cfg.MaxBody, maxResponse: cfg.MaxResponse}
	if m.maxBody == 0 {
		m.maxBody = DefaultMaxBody
	}
	if m.maxResponse == 0 {
		m.maxResponse = DefaultMaxResponse
	}
	m.marks = attempt.Marks(m.cfg.sched.hedges+1, attempt.Mark{Budget: m.cfg.budget, Classifier: m.cfg.classifier, Server: true})
	m.markCtxs = markContexts(m.marks)
	return m
}

// Handler returns a handler that hedges next, the way [http.TimeoutHandler]
// and [http.StripPrefix] return one around theirs. It has the signature of
// a middleware: pass m.Handler wherever a func(http.Handler) http.Handler
// is expected. (A client stage's Wrap(next http.RoundTripper) is the
// pipeline's contract; this is its server-side counterpart, named for what
// it returns.)
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return &handler{m: m, next: next}
}

// Stats returns the counters accumulated since NewMiddleware, over every
// handler the Middleware wrapped. For the middleware, Hedges counts extra
// runs, and PassThrough also counts streaming requests and bodies over
// MaxBody.
func (m *Middleware) Stats() Stats { return m.stats.snapshot() }

// handler is a Middleware around one handler.
type handler struct {
	m      *Middleware
	next   http.Handler
	routes hosts // adaptive estimators by r.Pattern
}

// ServeHTTP implements [http.Handler]; see [Middleware] for the rules.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.m
	m.stats.requests.Add(1)
	if m.cfg.skip != nil && m.cfg.skip(r) {
		m.stats.skipped.Add(1)
		h.next.ServeHTTP(w, r)
		return
	}
	if streaming(r) || !m.hedgeable(r) {
		m.stats.passThrough.Add(1)
		h.next.ServeHTTP(w, r)
		return
	}
	body, ok, rest := readBody(r, m.maxBody)
	if !ok {
		m.stats.passThrough.Add(1)
		once := r.WithContext(r.Context()) // a shallow copy: the caller's request keeps its Body
		once.Body = rest
		h.next.ServeHTTP(w, once)
		return
	}
	h.race(w, r, body)
}

// hedgeable reports whether the classifier would let r run more than once
// if its body were buffered. A server request's body has no GetBody, so the
// classifier is asked about a copy that has one; a POST without a key is
// then refused before a byte of its body is read.
func (m *Middleware) hedgeable(r *http.Request) bool {
	c := m.cfg.classifier
	if idempotency.BodyReplayable(r) {
		return c.Replayable(r)
	}
	probe := *r
	probe.GetBody = emptyBody
	return c.Replayable(&probe)
}

func emptyBody() (io.ReadCloser, error) { return http.NoBody, nil }

// streaming reports whether r announces a response that must reach the
// client as it is produced: a protocol upgrade or a server-sent event
// stream. A buffered run would hold such a response back until the handler
// returned, which for an event stream is never.
func streaming(r *http.Request) bool {
	if httpx.Upgrade(r) {
		return true
	}
	for _, v := range r.Header["Accept"] {
		if containsFold(v, "text/event-stream") {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains sub, ignoring ASCII case, without
// allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
