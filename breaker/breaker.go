package breaker

import (
	"cmp"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/tailguard/tailguard/internal/httpx"
	"github.com/tailguard/tailguard/internal/outage"
)

// Breaker is a set of circuit breakers, one per key (by default one per
// scheme and host:port), that stops sending requests to an upstream which
// keeps failing and probes it again after a while. Each key's state machine
// is a gobreaker CircuitBreaker; Breaker adds the keying, the HTTP
// meaning of success and failure, allocation-free refusals, bounded memory
// and hooks that may read state.
//
// Each key is [Closed] at first: requests pass and their outcomes are
// counted over a rolling window. When Config.ConsecutiveFailures failures
// happen in a row, or the failure ratio over the window reaches
// Config.FailureRatio with at least Config.MinRequests outcomes, the key
// turns [Open]: for Config.OpenTimeout every request to it is refused at
// once with an [*OpenError] (matching [ErrOpen]) and nothing is sent. Then
// it is [HalfOpen]: up to Config.HalfOpenProbes requests go through as
// probes while the others are refused; if the probes succeed the key closes,
// if one fails it opens again. Canceled requests, lost hedges and throttled
// responses are excluded: they never open a breaker nor fail a probe.
//
// # Waiting for the probe
//
// By default a refusal is immediate: a caller meeting an open key learns it
// at once, whatever stages surround the breaker (the retry stage returns a
// refusal at once too). With Config.MaxWait a refused request waits
// instead, in the key's wait room, without polling: until the open period
// ends, then for the probe's outcome. A request whose key is open past
// its wait is refused up front rather than after waiting in vain. If the
// probe fails the key opens again and the waiters either wait for the next
// probe or, if that is past their wait, are refused then. If the probe
// closes the key, the waiters are let through in waves, as TCP's slow
// start grows its window: HalfOpenProbes requests, then each next wave
// twice as large once the previous one has settled with a success, until
// a wave would hold everyone left. A host that has just recovered thus
// sees the herd gathered during the open period arrive over a few round
// trips instead of in one instant, and no waiter loses a race for a single
// probe slot. Requests arriving after the key closed are never held back.
// A waiting request is reported to an enclosing hedge stage as a pause, as
// a throttle's closed gate is, so that no hedge of it joins the wait.
//
// # Panics
//
// A panic in the next transport, the classifier, OnStateChange, the
// logger, an observer or the Fleet reaches the caller unchanged, on the
// caller's goroutine. On its way out the breaker closes what it holds (the
// unsent request body, the response), counts nothing for the attempt (a
// panic is excluded, so a half-open or parole probe slot is given back and
// the waiters woken), settles a waiter's place in its wave, and keeps
// polling the fleet: no key is left refusing or waiting for a probe that
// will never report.
//
// Time-based transitions happen lazily, when a key is next used or queried:
// a Breaker starts no goroutine and needs no Close.
//
// Create one with [New] and use it as a pipeline stage or alone through
// [Breaker.Wrap]. Every Wrap of one Breaker shares its keys' states. A
// Breaker is safe for concurrent use.
type Breaker struct {
	s          settings
	epoch      time.Time // origin of the registry's int64 timestamps
	touchEvery int64     // minimum ns between two lastUsed stores

	mu      sync.RWMutex   // guards entries, list, hand and graves
	entries map[key]*entry // one breaker per key
	list    []*entry       // the same entries, for the eviction hand; entry.slot indexes it
	hand    int            // next index of list eviction looks at
	graves  graveyard      // unhealthy keys evicted, remembered so they come back on parole

	watcher atomic.Pointer[observerRef] // the latest decision.Observer seen in a request
	outage  outage.Log                  // Config.Fleet's outages, logged once each
}

// New returns a Breaker configured by c. It panics, naming the field, if a
// Config value is invalid.
func New(c Config) *Breaker {
	s := c.normalize()
	return &Breaker{
		s:          s,
		epoch:      time.Now(),
		touchEvery: int64(min(time.Second, s.idleTTL/16)),
		entries:    make(map[key]*entry),
		graves:     newGraveyard(s.maxKeys),
	}
}

// Wrap returns a transport that sends requests through next, each through
// its key's breaker. A nil next means [http.DefaultTransport].
func (b *Breaker) Wrap(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{b: b, next: next}
}

// StateOf returns the [State] of key's breaker, such as
// "https://api.example.com:443" (the form [OpenError.Key] and [StateChange]
// use), or a string Config.Key returned. It is the state the key's next
// request meets: an unknown key, or one evicted while closed, is [Closed];
// one evicted while not known to be healthy reports the state it comes
// back in (see "Memory" in the package documentation). A key whose open
// period has passed reports HalfOpen.
func (b *Breaker) StateOf(key string) State {
	k, ok := b.parseKey(key)
	if !ok {
		return Closed
	}
	b.mu.RLock()
	e := b.entries[k]
	g, buried := b.graves.peek(k)
	b.mu.RUnlock()
	if e == nil {
		if buried {
			return g.state(b.now()) // how it will come back
		}
		return Closed
	}
	st := b.currentState(e, b.now())
	b.flushOutside(e)
	return st
}

// Snapshot returns a [Status] (state and counts) for every tracked key,
// sorted by key; [Breaker.StateOf] returns one key's state alone. It takes no global lock: each key is read at a slightly different
// instant, and a key's state and counts one after the other.
func (b *Breaker) Snapshot() []Status {
	b.mu.RLock()
	es := make([]*entry, 0, len(b.entries))
	for _, e := range b.entries {
		es = append(es, e)
	}
	b.mu.RUnlock()
	out := make([]Status, len(es))
	for i, e := range es {
		st := b.currentState(e, b.now())
		out[i] = Status{Key: e.name, State: st, Counts: e.counts()}
		b.flushOutside(e)
	}
	slices.SortFunc(out, func(x, y Status) int { return cmp.Compare(x.Key, y.Key) })
	return out
}

// readyToTrip is gobreaker's ReadyToTrip: either configured rule. The ratio
// is over settled outcomes only (gobreaker's Requests also counts requests
// in flight and excluded ones), so that exclusions cannot dilute it.
func (s *settings) readyToTrip(c gobreaker.Counts, w tally) bool {
	if s.consecutive > 0 && c.ConsecutiveFailures >= s.consecutive {
		return true
	}
	if s.ratio > 0 {
		n := uint64(w.successes) + uint64(w.failures)
		return n >= uint64(s.minRequests) && float64(w.failures) >= s.ratio*float64(n)
	}
	return false
}

// transport is the RoundTripper returned by Wrap.
type transport struct {
	b    *Breaker
	next http.RoundTripper
}

// RoundTrip implements [http.RoundTripper]: ask the key's breaker, send or
// refuse (or, with Config.MaxWait, wait to be admitted), then report the
// outcome.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	b := t.b
	if req.URL == nil && b.s.key == nil {
		return t.next.RoundTrip(req) // let net/http report the malformed request
	}
	b.watch(req.Context())
	e := b.lookup(b.requestKey(req)) // counted in e.inflight: a waiting request keeps its key too
	defer e.inflight.Add(-1)
	resp, _, refused, err := t.attempt(e, req)
	if refused != nil && b.s.maxWait > 0 {
		resp, refused, err = t.await(e, req, refused)
	}
	if refused != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTripper contract, even when nothing is sent
		}
		b.logRefusal(req, e, refused)
		return nil, refused
	}
	return resp, err
}

// attempt asks e's breaker once and, if admitted, sends req and records
// its verdict. It returns the refusal, without closing req's body, when
// the breaker refuses.
func (t *transport) attempt(e *entry, req *http.Request) (*http.Response, verdict, *OpenError, error) {
	if t.b.s.fleet != nil {
		t.b.pollFleet(req.Context(), e)
	}
	if e.parole.active.Load() {
		return t.paroled(e, req)
	}
	return t.execute(e, req)
}

// execute is attempt through gobreaker.
//
// The attempt runs inside gobreaker's Execute rather than between
// TwoStepCircuitBreaker's Allow and done: Execute takes a function it only
// calls, so the closure stays on the stack, whereas Allow returns a done
// callback that costs an allocation per request.
func (t *transport) execute(e *entry, req *http.Request) (resp *http.Response, v verdict, refused *OpenError, err error) {
	b := t.b
	// Whatever panics — a hook or the logger in flush, the next
	// transport, a custom classifier — Execute reports the attempt with an
	// error of its own, which isExcluded excludes, so a half-open probe
	// slot is released (gobreaker's half-open state has no expiry: a lost
	// slot would refuse the key forever). The deferred cleanup closes what
	// this stage holds, wakes the requests waiting for the slot, and the
	// panic continues.
	var (
		admitted, sent, settled, returned bool
		gen                               uint64 // the window generation the attempt was sent in
	)
	defer func() {
		if returned {
			return
		}
		if admitted && !settled {
			e.window.abandon(gen)
		}
		if !sent && req.Body != nil {
			req.Body.Close()
		}
		if resp != nil && resp.Body != nil {
			resp.Body.Close() // the caller never sees it
		}
		if admitted && b.s.maxWait > 0 {
			e.room.freed()
		}
	}()
	_, gerr := e.cb.Execute(func() (struct{}, error) {
		admitted = true
		gen = e.window.admit()
		if b.s.fleet != nil && !e.fleet.sent.Load() {
			e.fleet.sent.Store(true)
		}
		b.flush(req.Context(), e) // admission may have turned Open into HalfOpen
		sent = true
		resp, err = t.next.RoundTrip(req)
		v = b.s.judge(req, resp, err)
		// Recorded before gobreaker's ReadyToTrip reads the window, and
		// only if no state change happened since the attempt was sent:
		// gobreaker then drops the outcome too, by its own generation, or,
		// for a change it did not make (a parole began), as excluded.
		settled = true
		if _, counted := e.window.record(time.Now(), v, gen); !counted {
			return struct{}{}, errExcluded
		}
		return struct{}{}, v.gobreakerErr()
	})
	b.flush(req.Context(), e) // admission, the outcome or the refusal may have changed the state
	returned = true
	if !admitted {
		return nil, excluded, e.refusal(gerr), nil
	}
	if v == excluded && b.s.maxWait > 0 && State(e.state.Load()) == HalfOpen {
		e.room.freed()
	}
	return resp, v, nil, err
}

// refusal maps gobreaker's refusal to e's preallocated *OpenError.
func (e *entry) refusal(err error) *OpenError {
	if err == gobreaker.ErrTooManyRequests {
		return e.busy
	}
	if oe := e.open.Load(); oe != nil {
		return oe
	}
	// Unreachable: gobreaker opens only through OnStateChange, which sets
	// e.open first. Kept so a change upstream degrades to an allocation.
	return &OpenError{Key: e.name, State: Open}
}

// CloseIdleConnections closes next's idle connections if it can, so that
// [http.Client.CloseIdleConnections] reaches through the stage.
func (t *transport) CloseIdleConnections() { httpx.CloseIdle(t.next) }
