package faulttest_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
)

// row is one fault scenario, sent through every arrangement.
type row struct {
	name    string
	req     reqKind
	refused bool               // send to a closed port instead of the server
	h2      bool               // serve HTTP/2 over TLS
	script  func() script      // the server's behaviour, made fresh for each cell
	calls   int                // sequential calls in the cell; 0 means 1
	config  func(*stackConfig) // changes to the matrix configuration, if any
	want    [numArrangements]want
}

// script is a fault server's script; a stateful one must be made afresh
// for every cell.
type script = func(n int, r *http.Request) testkit.Fault

var kind = testkit.FaultOf

// always answers every request with f.
func always(f testkit.Fault) func() script {
	return func() script { return testkit.FaultAlways(f) }
}

// burst answers status twice to each call (its retries and hedges
// included), then 200.
func burst(status int) func() script {
	return func() script {
		return testkit.FaultSequenceBy("X-Call", testkit.FaultStatus(status), testkit.FaultStatus(status))
	}
}

// mxBigCallerTimeout is the caller's deadline for 8 MiB bodies. An upload
// takes tens of milliseconds on an idle machine, and 0.3–0.9 s each on the
// loaded 2-core one under -race, where three of them overran a 1.5 s
// deadline: this one is a generous bound on a real network, not a timer
// any cell means to fire.
const mxBigCallerTimeout = 15 * time.Second

// big is the configuration for 8 MiB bodies: no attempt timeout, and a
// hedge delay and a breaker open period longer than the caller's deadline,
// so that only a failure fires the hedge and no probe goes out during the
// call, however long the uploads take (with a 400 ms delay and a 50 ms
// open period, slow uploads let a timed hedge and a half-open probe out:
// 5 requests where the table says 3–4).
func big(c *stackConfig) {
	c.caller = mxBigCallerTimeout
	c.retry.AttemptTimeout = 0
	c.hedge.Delay = 2 * c.caller
	c.breaker.OpenTimeout = 2 * c.caller
}

// holding is the configuration for rows whose server holds the request
// (slow headers, black holes, stalled bodies) longer than the hedge delay,
// which fires because of that hold, whatever the machine's speed.
func holding(c *stackConfig) { c.hedge.Delay = mxHoldHedgeDelay }

// blackHole is the configuration for black-hole rows, whose cells last
// until an attempt timeout or the caller's deadline: 3 attempts of 250 ms
// fit in the 3 s deadline however late their timers fire, and the hedge,
// after 40 ms, is sent long before three timeouts open the breaker (with
// 100 ms attempts a hedge timer 160 ms late on the loaded machine let the
// breaker open first: 3 requests sent where the table says 4–6).
func blackHole(c *stackConfig) {
	holding(c)
	c.retry.AttemptTimeout = 250 * time.Millisecond
}

// bigSlow lets a hedge race a slow original while both upload 8 MiB: the
// hedgedhttp bug (both attempts share one body) would show here. The
// server reads the whole body before holding the headers 300 ms, so the
// 5 ms hedge delay always fires.
func bigSlow(c *stackConfig) {
	c.caller = mxBigCallerTimeout
	c.retry.AttemptTimeout = 0
	c.hedge.Delay = 5 * time.Millisecond
}

// The configuration behind every expectation (see harness_test.go):
//
//	retry:   MaxAttempts 3, backoff 1–4 ms, MaxRetryAfter 500 ms, AttemptTimeout 5 s
//	hedge:   one hedge, fixed Delay 5 s (40 ms where the server holds the request)
//	breaker: opens after 3 consecutive failures, OpenTimeout 5 s
//	caller:  a 3 s context deadline on every call
//	black-hole rows: AttemptTimeout 250 ms
//	8 MiB rows: no AttemptTimeout, caller deadline 15 s (and, but for
//	slow headers, hedge Delay and OpenTimeout 30 s)
//
// The 5 s timers never fire: the caller's deadline comes first (see
// mxNever).
//
// Columns: R = retry alone, B = breaker alone, H = hedge alone, HRB =
// pipeline.New(hedge, retry, breaker), RHB = pipeline.New(retry, hedge,
// breaker), HRTB = pipeline.New(hedge, retry, throttle, breaker) (HRB's
// expectation unless a row gives its own: the throttle, at its zero
// Config, changes nothing until the server pushes back). "sent" counts
// requests the server received; "opens" counts breaker openings.
//
// Why the cells read as they do:
//   - a retry stage retries 5xx, resets, refusals and attempt timeouts of
//     replayable requests (GET, PUT, keyed POST) up to 3 attempts; a POST
//     without a key is retried only after a refusal (never sent), which
//     here fails again;
//   - a hedge stage fires its hedge at once after a failure, and returns
//     the latest failed response when every attempt failed; a POST without
//     a key passes through unhedged;
//   - a breaker never changes a result; it opens after 3 consecutive
//     failures, and in the pipelines an open breaker's refusal is
//     returned at once by retry (issue 11, bug 11) and never beats a
//     hedge's response; it opens at most once, as its open period
//     outlasts the call;
//   - a response whose body breaks after the headers is delivered as it
//     is: stages decide on headers and never buffer bodies, so the read
//     error is the caller's to see.
var matrix = []row{
	{name: "ok", req: getReq, script: always(testkit.FaultOK()), want: [numArrangements]want{
		ok(1), ok(1), ok(1), ok(1), ok(1)}},
	// Nothing listens, so attempts are counted at the transport.
	{name: "refused", req: getReq, refused: true, want: [numArrangements]want{
		fails(0, refused).trying(3, 3),
		fails(0, refused).trying(1, 1),
		fails(0, refused).trying(2, 2),
		// 3 refusals open the breaker; the hedge's retries are refused
		// locally.
		fails(0, refused, open).trying(3, 4).opening(1, 1),
		fails(0, refused, open).trying(3, 4).opening(1, 1)}},
	// Refused means never sent, so even a POST without a key is retried.
	{name: "refused", req: postNoKey, refused: true, want: [numArrangements]want{
		fails(0, refused).trying(3, 3),
		fails(0, refused).trying(1, 1),
		fails(0, refused).trying(1, 1),
		fails(0, refused).trying(3, 3).opening(1, 1),
		fails(0, refused).trying(3, 3).opening(1, 1)}},
	{name: "reset-before-headers", req: getReq, script: always(kind(testkit.FaultResetBeforeHeaders)), want: [numArrangements]want{
		fails(3, reset),
		fails(1, reset),
		fails(2, reset),
		fails(3, reset, open).upTo(4).opening(1, 1),
		fails(3, reset, open).upTo(4).opening(1, 1)}},
	{name: "reset-before-headers", req: postNoKey, script: always(kind(testkit.FaultResetBeforeHeaders)), want: [numArrangements]want{
		fails(1, reset), fails(1, reset), fails(1, reset), fails(1, reset), fails(1, reset)}},
	{name: "reset-before-headers", req: postKeyBig, config: big, script: always(kind(testkit.FaultResetBeforeHeaders)), want: [numArrangements]want{
		fails(3, reset),
		fails(1, reset),
		fails(2, reset),
		fails(3, reset, open).upTo(4).opening(1, 1),
		fails(3, reset, open).upTo(4).opening(1, 1)}},
	{name: "reset-mid-body", req: getReq, script: always(kind(testkit.FaultResetMidBody)), want: [numArrangements]want{
		ok(1).bodyFails(reset, unexpectedEOF),
		ok(1).bodyFails(reset, unexpectedEOF),
		ok(1).bodyFails(reset, unexpectedEOF),
		ok(1).bodyFails(reset, unexpectedEOF),
		ok(1).bodyFails(reset, unexpectedEOF)}},
	{name: "truncated-body", req: getReq, script: always(kind(testkit.FaultTruncatedBody)), want: [numArrangements]want{
		ok(1).bodyFails(unexpectedEOF),
		ok(1).bodyFails(unexpectedEOF),
		ok(1).bodyFails(unexpectedEOF),
		ok(1).bodyFails(unexpectedEOF),
		ok(1).bodyFails(unexpectedEOF)}},
	{name: "black-hole", req: getReq, config: blackHole, script: always(kind(testkit.FaultBlackHole)), want: [numArrangements]want{
		fails(3, attemptTO),
		fails(1, deadline),
		fails(2, deadline),
		// Both chains time out: 3 failures open the breaker, later
		// attempts are refused (the caller learns it was open). The
		// other chain may have one attempt out when it opens: 3 or 4
		// sent (3 when the hedge's 40 ms timer fires late enough that
		// its first timeout comes with the original's second).
		fails(3, attemptTO, open).upTo(4).opening(1, 1),
		fails(3, attemptTO, open).upTo(4).opening(1, 1)}},
	{name: "black-hole", req: postNoKey, config: blackHole, script: always(kind(testkit.FaultBlackHole)), want: [numArrangements]want{
		fails(1, attemptTO),
		fails(1, deadline),
		fails(1, deadline),
		fails(1, attemptTO),
		fails(1, attemptTO)}},
	// Four calls whose hedges all lose: a breaker that counted lost hedges
	// (failsafe-go) would open after the third.
	{name: "slow-headers 100ms ×4 calls", req: getReq, calls: 4, config: holding, script: always(testkit.FaultSlow(mxSlow)), want: [numArrangements]want{
		ok(4), ok(4), ok(8).orAtLeast(5), ok(8).orAtLeast(5), ok(8).orAtLeast(5)}},
	{name: "slow-headers 300ms", req: postKeyBig, config: bigSlow, script: always(testkit.FaultSlow(300 * time.Millisecond)), want: [numArrangements]want{
		// 2: the hedge uploads its copy while the original waits; 1 if
		// a loaded machine cancels it before the server sees it.
		ok(1), ok(1), ok(2).orAtLeast(1), ok(2).orAtLeast(1), ok(2).orAtLeast(1)}},
	{name: "slow-headers 100ms", req: postNoKey, config: holding, script: always(testkit.FaultSlow(mxSlow)), want: [numArrangements]want{
		ok(1), ok(1), ok(1), ok(1), ok(1)}},
	{name: "500 ×2 then 200", req: getReq, script: burst(500), want: statusBurst(500)},
	{name: "502 ×2 then 200", req: getReq, script: burst(502), want: statusBurst(502)},
	{name: "503 ×2 then 200", req: getReq, script: burst(503), want: statusBurst(503)},
	{name: "504 ×2 then 200", req: getReq, script: burst(504), want: statusBurst(504)},
	{name: "503 ×2 then 200", req: postKeyBig, config: big, script: burst(503), want: statusBurst(503)},
	{name: "503 ×2 then 200", req: putStream, script: burst(503), want: statusBurst(503)},
	{name: "503 ×2 then 200", req: postNoKey, script: burst(503), want: [numArrangements]want{
		answers(503, 1), answers(503, 1), answers(503, 1), answers(503, 1), answers(503, 1)}},
	{name: "503 always", req: getReq, script: always(testkit.FaultStatus(503)), want: [numArrangements]want{
		answers(503, 3),
		answers(503, 1),
		answers(503, 2),
		// Original and hedge retry until 3 failures open the breaker;
		// later retries are refused at once, not waited out.
		answers(503, 3).upTo(4).opening(1, 1),
		answers(503, 3).orFails(open).opening(1, 1)}},
	{name: "h2 ok", req: getReq, h2: true, script: always(testkit.FaultOK()), want: [numArrangements]want{
		ok(1), ok(1), ok(1), ok(1), ok(1)}},
	{name: "h2 reset-before-headers", req: getReq, h2: true, script: always(kind(testkit.FaultResetBeforeHeaders)), want: [numArrangements]want{
		fails(3, streamReset),
		fails(1, streamReset),
		fails(2, streamReset),
		fails(3, streamReset, open).upTo(4).opening(1, 1),
		fails(3, streamReset, open).upTo(4).opening(1, 1)}},
	{name: "h2 reset-mid-body", req: getReq, h2: true, script: always(kind(testkit.FaultResetMidBody)), want: [numArrangements]want{
		ok(1).bodyFails(streamReset),
		ok(1).bodyFails(streamReset),
		ok(1).bodyFails(streamReset),
		ok(1).bodyFails(streamReset),
		ok(1).bodyFails(streamReset)}},
	{name: "h2 black-hole", req: getReq, config: blackHole, h2: true, script: always(kind(testkit.FaultBlackHole)), want: [numArrangements]want{
		fails(3, attemptTO),
		fails(1, deadline),
		fails(2, deadline),
		fails(3, attemptTO, open).upTo(4).opening(1, 1),
		fails(3, attemptTO, open).upTo(4).opening(1, 1)}},
	{name: "h2 503 ×2 then 200", req: getReq, h2: true, script: burst(503), want: statusBurst(503)},
	{name: "h2 slow-headers 100ms ×4 calls", req: getReq, h2: true, calls: 4, config: holding, script: always(testkit.FaultSlow(mxSlow)), want: [numArrangements]want{
		ok(4), ok(4), ok(8).orAtLeast(5), ok(8).orAtLeast(5), ok(8).orAtLeast(5)}},
}

// statusBurst is the expectation for "status twice, then 200" on a
// replayable request.
func statusBurst(status int) [numArrangements]want {
	return [numArrangements]want{
		ok(3),              // retried twice
		answers(status, 1), // a breaker never retries
		answers(status, 2), // the hedge fires at once and fails too
		ok(3).upTo(4),      // retry succeeds on its 3rd attempt; a slow one may be hedged
		ok(3).upTo(4),      // 1st try: original and hedge fail; 2nd try: 200 (hedged if slow)
	}
}

// orAtLeast widens sent downwards: a hedge canceled before the server
// read it is not received.
func (w want) orAtLeast(lo int) want { w.sent[0] = lo; return w }

func init() {
	// Each Retry-After form, on one 429 then 200.
	// Dates are relative to now, so the value is made when the cell
	// starts; the expectation only needs the form's validity and rough
	// delay, which do not change.
	for i, f := range testkit.RetryAfterForms(time.Now()) {
		matrix = append(matrix, row{
			name: "429 Retry-After " + f.Name, req: getReq,
			script: func() script {
				return testkit.FaultSequenceBy("X-Call", testkit.FaultThrottle(testkit.RetryAfterForms(time.Now())[i].Value))
			},
			want: throttleWant(f),
		})
	}
}

// throttleWant: retry honours a Retry-After up to MaxRetryAfter (500 ms)
// and returns the 429 at once when asked for longer; an invalid value
// falls back to backoff. The breaker excludes throttles. A hedge must not
// answer a 429 with a duplicate (RFC 9110 §10.2.3; gRPC delays hedges by
// the server's pushback; the SRE book: an overloaded answer must not
// multiply load): whatever its Retry-After, a 429 fires no hedge and stops
// hedging, so the hedge alone returns it, and with a retry stage the retry
// decides.
func throttleWant(f testkit.RetryAfterForm) [numArrangements]want {
	r := answers(429, 1)
	if !f.Valid || f.Delay <= mxMaxRetryAfter {
		r = ok(2)
	}
	return [numArrangements]want{r, answers(429, 1), answers(429, 1), r, r}
}

func init() {
	// The throttle pipeline's column is hedge→retry→breaker's where a row
	// leaves it out: at its zero Config the throttle changes nothing
	// until an upstream pushes back.
	for i := range matrix {
		if w := &matrix[i].want; w[hedgeRetryThrottleBreaker].unset() {
			w[hedgeRetryThrottleBreaker] = w[hedgeRetryBreaker]
		}
	}
}

func (r row) cell(a arrangement) string { return r.name + "/" + r.req.String() + "/" + a.String() }

func TestMatrix(t *testing.T) {
	for _, r := range matrix {
		for a := range numArrangements {
			t.Run(r.cell(a), func(t *testing.T) { runCell(t, r, a) })
		}
	}
}

// runCell runs one cell. The promises that hold whatever the stages'
// policies (bodies intact, a POST without a key received at most once, no
// leaked goroutine or descriptor, no hang) are checked on t; the cell's
// expected outcome through ex, which turns the failure of a cell listed in
// knownBugs into a skip naming the bug.
func runCell(t *testing.T, r row, a arrangement) {
	noLeaks(t)
	ex := &expectations{t: t, bug: knownBug(r.cell(a))}
	defer ex.done()
	w := r.want[a]
	var sc script
	if r.script != nil {
		sc = r.script()
	}
	srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: sc, HTTP2: r.h2})
	tr := srv.Transport(t)
	if r.h2 {
		warmUp(t, srv, tr)
	}
	url := srv.URL + "/cell"
	if r.refused {
		url = "http://" + testkit.ClosedPort(t) + "/cell"
	}
	cfg := matrixConfig()
	if r.config != nil {
		r.config(&cfg)
	}
	var tries atomic.Int64
	st := newStack(a, testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
		tries.Add(1)
		return tr.RoundTrip(req)
	}), cfg)
	body := r.req.body()
	for i := range max(r.calls, 1) {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.caller)
		o := do(t, st.rt, r.req.request(ctx, url, i+1, body), cfg.bound(a)+5*time.Second)
		cancel()
		checkOutcome(ex, w, o)
		if o.elapsed > cfg.bound(a) {
			t.Errorf("call %d took %v, bound %v", i+1, o.elapsed, cfg.bound(a))
		}
	}
	sent := checkBodies(t, srv, body)
	if sent < w.sent[0] || sent > w.sent[1] {
		ex.Errorf("server received %d requests, want %s", sent, span(w.sent))
	}
	if n := int(tries.Load()); w.tries != [2]int{} && (n < w.tries[0] || n > w.tries[1]) {
		ex.Errorf("%d attempts reached the transport, want %s", n, span(w.tries))
	}
	if r.req == postNoKey && sent > max(r.calls, 1) {
		t.Errorf("a POST without Idempotency-Key was received %d times", sent)
	}
	if a.has("breaker") {
		if n := int(st.opens.Load()); n < w.opens[0] || n > w.opens[1] {
			ex.Errorf("breaker opened %d times, want %s", n, span(w.opens))
		}
	}
}

func checkOutcome(t reporter, w want, o outcome) {
	t.Helper()
	if o.err != nil {
		if len(w.errs) == 0 || !matchAny(o.err, w.errs) {
			t.Errorf("got %v; want %s", o, w.describe(false))
		}
		return
	}
	if o.status != w.status {
		t.Errorf("got %v; want %s", o, w.describe(false))
		return
	}
	if len(w.body) > 0 {
		if !matchAny(o.bodyErr, w.body) {
			t.Errorf("body read error %v; want %s", o.bodyErr, causeNames(w.body))
		}
		return
	}
	if o.bodyErr != nil {
		t.Errorf("body read failed: %v", o.bodyErr)
	}
	wantBody := []byte("fault: " + strconv.Itoa(o.status))
	if o.status == http.StatusOK {
		wantBody = testkit.OKBody(0)
	}
	if !bytes.Equal(o.body, wantBody) {
		t.Errorf("body %q, want %q", o.body, wantBody)
	}
}
