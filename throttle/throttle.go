package throttle

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/internal/hostkey"
	"github.com/tailguard/tailguard/internal/httpx"
	"github.com/tailguard/tailguard/internal/outage"
)

// Throttle keeps every request to a rate-limited upstream within what the
// upstream allows, per host: a throttled upstream is one upstream, so what
// one response says applies to every request to its host.
//
// # Algorithm
//
// Each host (by default each scheme and host:port) has four parts, asked in
// this order for every request, after its debut: until a new host has
// answered once, only [NewHostRequests] requests go to it, and the others
// wait for that first answer, which teaches the pacing the host's quota, at
// most [NewHostWait]:
//
//  1. Adaptive throttling (the SRE book's client-side throttling): when the
//     host has not accepted a large share of recent requests (throttled,
//     transient or failed in transport, timeouts included: see the package
//     documentation), reject the request locally with probability
//     max(0, (requests − K·accepts) / (requests + 1)), once the window holds
//     [AdaptiveMinRequests] requests, never waiting.
//  2. The gate: a response that asks for a pause (Retry-After or
//     retry-after-ms on a retryable status, or a rate-limit header with
//     nothing remaining and a reset) closes the host's gate until then, for
//     every request. When the pause is over, one request goes first as a
//     probe; the others wait for its answer and are then released spread
//     over Config.ReleaseWindow; requests that arrive during the release
//     window wait for it to end, so that they take their turns in the
//     pacing after the released ones. A request waiting for its turn when
//     a pause begins gives the turn back and waits at the gate.
//  3. The concurrency cap, if Config.MaxConcurrent is set: wait for a slot.
//  4. The pacing: a token bucket (x/time/rate) at the lowest of the
//     configured rate, the rate the host's headers announce
//     (RateLimit-Policy, X-RateLimit-Limit, OpenAI's limits, corrected by
//     every remaining count), and, for a host that announces nothing, the
//     rate AIMD learned from its 429s.
//
// # Waiting and rejecting
//
// A request that meets a closed gate, a taken slot or an empty bucket waits,
// on its own goroutine (no goroutine per waiter), if it can still go within
// Config.MaxWait and before its context's deadline; a context that ends
// during a wait ends it at once with ctx.Err(), untouched. A request that
// cannot go in time is rejected, unsent, with an [*Error] that matches
// [ErrThrottled] and implements [idempotency.Rejection] with RetryAfter set
// to when it could have gone: at once when the end of the wait is known (a
// gate closed past the limit, a pace turn past it), or at MaxWait when it
// is not (the probe after a pause is still unanswered, no concurrency slot
// came free); a wait of unknown length cut short by the deadline returns
// ctx.Err(). Most refusals come back at once, so a caller that loops on
// ErrThrottled must sleep for RetryAfter (or back off when it is 0) before
// trying again, or it spins.
// Spare copies never wait: a hedge of an enclosing hedge stage, sent while
// another attempt of its request is still in flight, goes only if the
// host has capacity now, so hedging uses spare quota and never delays or
// displaces the requests it backs up; a host that answered throttled or
// asked for a pause within [HedgeHoldoff] has none, and such copies are
// refused (Reason Gate). Retries wait like originals: a retry meeting the
// gate waits exactly until it opens, or is rejected. So does a hedge that
// stands in for a failed attempt (the hedge stage re-sends a failed try at
// once as its next hedge, and the retry stage inside leaves the attempt to
// it), and every retry inside it: it is the request's only attempt, and
// refusing it failed requests that a plain retry stage completes.
//
// # Time and memory
//
// Nothing runs in the background: tokens, windows and pauses are computed
// from timestamps when next asked, and hosts idle for Config.IdleTTL (or
// beyond Config.MaxHosts, least recently used first) are forgotten lazily
// when new hosts arrive. A Throttle needs no Close.
//
// # Panics
//
// A panic in the next transport, the classifier, OnThrottle, the logger,
// an observer, HostRate or Config.Shared reaches the caller unchanged, on
// the caller's goroutine. On its way out the throttle gives back what the
// request held — its gate's probe (passed on to the next request, as after
// a request canceled), its concurrency slot, its pace reservation — and
// closes the unsent request body and a response the caller will not see,
// so no host is left "probing" or short of a slot for good.
//
// # Concurrency
//
// A Throttle is safe for concurrent use. Every Wrap of one Throttle shares
// its hosts' state and its [Stats]: wrap one Throttle around each transport
// that reaches the same upstreams, and create separate Throttles for
// separate quotas.
type Throttle struct {
	s      settings
	hosts  *registry
	stats  counters
	outage outage.Log // Config.Shared's outages, logged once each
}

// New returns a Throttle configured by c; zero fields take the defaults
// documented on [Config]. It panics, naming the field, if a value is
// invalid.
func New(c Config) *Throttle {
	t := &Throttle{s: c.normalize()}
	t.hosts = newRegistry(time.Now(), &t.s, t.newHost)
	return t
}

// newHost builds k's state.
func (t *Throttle) newHost(k hostkey.Key, now time.Time) *host {
	h := &host{key: k, name: k.String()}
	h.gate.window = t.s.releaseWindow
	h.debut = newDebut(now)
	r, b := t.s.rate, t.s.burst
	if t.s.hostRate != nil {
		r, b = t.s.hostRateOf(h.name)
	}
	h.pace = newPacer(now, r, b)
	h.adaptive = newAdaptive(t.s.k, t.s.window)
	h.slots = newSlots(t.s.maxConcurrent)
	return h
}

// Wrap returns a transport that sends requests through next, each after
// its host's throttle admits it. A nil next means [http.DefaultTransport].
// Wrap makes Throttle a pipeline.Stage.
func (t *Throttle) Wrap(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{t: t, next: next}
}

// Stats returns the cumulative counters since New.
func (t *Throttle) Stats() Stats { return t.stats.load() }

// HostStatus is one host's state, as reported by [Throttle.Snapshot].
type HostStatus struct {
	// Host is the host's key, such as "https://api.example.com:443".
	Host string
	// PausedUntil is when the host's gate opens, or the zero Time if it
	// is open. A time in the past means the pause is over and the next
	// request probes the host.
	PausedUntil time.Time
	// Rate and Burst are the host's current pace; Rate is rate.Inf when
	// nothing paces it.
	Rate  rate.Limit
	Burst int
}

// Snapshot returns the state of every tracked host, sorted by host. Each
// host is read at a slightly different instant.
func (t *Throttle) Snapshot() []HostStatus {
	hs := t.hosts.all()
	out := make([]HostStatus, len(hs))
	for i, h := range hs {
		r, b := h.pace.limits()
		out[i] = HostStatus{Host: h.name, PausedUntil: h.gate.pausedUntil(), Rate: r, Burst: b}
	}
	slices.SortFunc(out, func(x, y HostStatus) int { return cmp.Compare(x.Host, y.Host) })
	return out
}

// transport is the RoundTripper returned by Wrap.
type transport struct {
	t    *Throttle
	next http.RoundTripper
}

// RoundTrip implements [http.RoundTripper]: admit (waiting if need be) or
// reject, send, then learn from the response. Unlike a plain
// RoundTripper it reads the response's status and rate-limit headers; it
// never reads or closes a response body, never retries and never modifies
// the request.
func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t := tr.t
	if req.URL == nil && t.s.key == nil {
		return tr.next.RoundTrip(req) // let net/http report the malformed request
	}
	h := t.acquire(req)
	defer h.done()
	// Whatever panics — the next transport, the classifier, OnThrottle,
	// the logger, Config.Shared — the ticket is settled, the request's
	// body closed if it was not sent, and the response the caller will
	// never see closed: a probe that never returned would hold its host's
	// gate shut forever.
	var (
		tk             ticket
		resp           *http.Response
		sent, returned bool
	)
	defer func() {
		if returned {
			return
		}
		t.abandon(h, &tk)
		if !sent && req.Body != nil {
			req.Body.Close()
		}
		httpx.Discard(resp, nil)
	}()
	err := t.admit(req, h, &tk)
	if err != nil {
		returned = true
		if req.Body != nil {
			req.Body.Close() // RoundTripper contract, even when nothing is sent
		}
		return nil, err
	}
	sent = true
	resp, err = tr.next.RoundTrip(req)
	t.learn(h, &tk, req, resp, err)
	returned = true
	return resp, err
}

// acquire returns req's host, created if new. Config.Key and
// Config.HostRate (which validates its results by panicking) run here: if
// either panics, the unsent request's body is closed on the way out, as
// the RoundTripper contract asks of every request it does not send.
func (t *Throttle) acquire(req *http.Request) (h *host) {
	defer func() {
		if h == nil && req.Body != nil {
			req.Body.Close()
		}
	}()
	return t.hosts.acquire(t.requestKey(req), time.Now())
}

// requestKey returns the registry key for req.
func (t *Throttle) requestKey(req *http.Request) hostkey.Key {
	if t.s.key != nil {
		return hostkey.Key{Host: t.s.key(req)}
	}
	return hostkey.FromURL(req.URL)
}

// CloseIdleConnections closes next's idle connections if it can, so that
// [http.Client.CloseIdleConnections] reaches through the stage.
func (tr *transport) CloseIdleConnections() { httpx.CloseIdle(tr.next) }
