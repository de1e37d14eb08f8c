package faulttest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
	"go.uber.org/goleak"
)

// arrangement is how the stages are put together for a cell.
type arrangement int

const (
	retryAlone   arrangement = iota // retry.Wrap(transport)
	breakerAlone                    // breaker.Wrap(transport)
	hedgeAlone                      // hedge.Wrap(transport)
	// hedgeRetryBreaker is pipeline.New(hedge, retry, breaker): the
	// recommended order for latency-sensitive reads (each hedge retries on
	// its own).
	hedgeRetryBreaker
	// retryHedgeBreaker is pipeline.New(retry, hedge, breaker): every retry
	// is itself hedged. Breaker innermost in both, so it sees every attempt.
	retryHedgeBreaker
	// hedgeRetryThrottleBreaker is pipeline.New(hedge, retry, throttle,
	// breaker): the order docs/pipeline-order.md recommends for rate-limited
	// upstreams, the throttle at its zero Config. Its expectations are the
	// hedge→retry→breaker column's unless a row says otherwise.
	hedgeRetryThrottleBreaker
	numArrangements
)

var arrangementNames = [...]string{
	retryAlone:                "retry",
	breakerAlone:              "breaker",
	hedgeAlone:                "hedge",
	hedgeRetryBreaker:         "hedge→retry→breaker",
	retryHedgeBreaker:         "retry→hedge→breaker",
	hedgeRetryThrottleBreaker: "hedge→retry→throttle→breaker",
}

func (a arrangement) String() string { return arrangementNames[a] }

func (a arrangement) has(stage string) bool {
	switch a {
	case retryAlone:
		return stage == "retry"
	case breakerAlone:
		return stage == "breaker"
	case hedgeAlone:
		return stage == "hedge"
	case hedgeRetryBreaker, retryHedgeBreaker:
		return stage != "throttle"
	}
	return true
}

// The matrix's configuration: explicit values so every expected outcome in
// the table can be derived from them.
//
// No count in the table may depend on the machine's speed: on the loaded
// 2-core machine, under -race, a loopback answer took hundreds of
// milliseconds and timers fired up to 800 ms late, and a 40 ms hedge
// delay, a 250 ms attempt timeout and a 50 ms open period fired there in
// cells whose table said they would not. So a cell's timers are of two
// kinds. A timer the cell means to fire is short, and the server's fault
// guarantees it fires: a black hole never answers, a slow server holds its
// headers longer than mxHoldHedgeDelay. A timer that must not fire is
// longer than the caller's deadline, so it cannot fire before the call
// ends, however slow the machine; it is still set, so its code paths
// (attempt contexts, hedge timers, the open breaker's refusals) run in
// every cell. An open breaker therefore refuses every later attempt of the
// call, and a stage that waited out the open period, instead of returning
// its refusal at once (issue 11, bug 11), would run into the caller's
// deadline and fail the cell.
const (
	mxAttempts       = 3                      // retry.Config.MaxAttempts
	mxBaseDelay      = time.Millisecond       // retry.Config.BaseDelay
	mxMaxDelay       = 4 * time.Millisecond   // retry.Config.MaxDelay
	mxMaxRetryAfter  = 500 * time.Millisecond // retry.Config.MaxRetryAfter
	mxCallerTimeout  = 3 * time.Second        // the caller's context deadline
	mxNever          = 5 * time.Second        // a timer that must not fire: longer than mxCallerTimeout
	mxAttemptTimeout = mxNever                // retry.Config.AttemptTimeout
	mxHedgeDelay     = mxNever                // hedge.Config.Delay (fixed mode)
	mxHoldHedgeDelay = 40 * time.Millisecond  // hedge.Config.Delay where the server holds the request
	mxConsecutive    = 3                      // breaker.Config.ConsecutiveFailures
	mxOpenTimeout    = mxNever                // breaker.Config.OpenTimeout
	mxSlow           = 100 * time.Millisecond // slow-headers delay
)

// bound is the longest a call may take in arrangement a under c: the
// caller's deadline, which every call carries, or, with a retry stage
// that has an attempt timeout, the time its attempts and longest waits can
// add up to, whichever is smaller; plus slack for a loaded CI machine
// running -race, where each of three attempt timeouts in a row fired up
// to 800 ms late. It catches a stage that ignores the caller's deadline,
// not a slow machine.
func (c stackConfig) bound(a arrangement) time.Duration {
	d := c.caller
	if r := c.retry; a.has("retry") && r.AttemptTimeout > 0 {
		d = min(d, time.Duration(r.MaxAttempts)*r.AttemptTimeout+time.Duration(r.MaxAttempts-1)*r.MaxRetryAfter)
	}
	return d + 3*time.Second
}

// stack is one cell's stages over one transport, with their observations.
type stack struct {
	rt      http.RoundTripper
	budget  *budget.Budget
	retrier *retry.Retrier
	hedger  *hedge.Hedger
	breaker *breaker.Breaker
	thr     *throttle.Throttle
	opens   atomic.Int64 // breaker transitions to Open
	closes  atomic.Int64 // breaker transitions to Closed
}

// stackConfig lets a test change the matrix configuration.
type stackConfig struct {
	caller   time.Duration // each call's context deadline
	retry    retry.Config
	hedge    hedge.Config
	breaker  breaker.Config
	throttle throttle.Config
	budget   *budget.Budget
}

func matrixConfig() stackConfig {
	// A budget too large to matter, its failure gate too: the matrix is
	// about faults, the budget cells are in cross_test.go.
	b := budget.New(budget.Config{Ratio: 1, MinPerSecond: 10000, MaxTokens: budget.MaxTokensLimit})
	return stackConfig{
		caller: mxCallerTimeout,
		budget: b,
		retry: retry.Config{
			MaxAttempts: mxAttempts, BaseDelay: mxBaseDelay, MaxDelay: mxMaxDelay,
			MaxRetryAfter: mxMaxRetryAfter, AttemptTimeout: mxAttemptTimeout, Budget: b,
		},
		hedge: hedge.Config{Delay: mxHedgeDelay, MaxHedges: 1, Budget: b},
		breaker: breaker.Config{
			ConsecutiveFailures: mxConsecutive, FailureRatio: -1, OpenTimeout: mxOpenTimeout,
		},
	}
}

func newStack(a arrangement, base http.RoundTripper, c stackConfig) *stack {
	s := &stack{budget: c.budget}
	userHook := c.breaker.OnStateChange
	c.breaker.OnStateChange = func(sc breaker.StateChange) {
		switch sc.To {
		case breaker.Open:
			s.opens.Add(1)
		case breaker.Closed:
			s.closes.Add(1)
		}
		if userHook != nil {
			userHook(sc)
		}
	}
	s.retrier = retry.New(c.retry)
	s.hedger = hedge.New(c.hedge)
	s.breaker = breaker.New(c.breaker)
	s.thr = throttle.New(c.throttle)
	switch a {
	case retryAlone:
		s.rt = s.retrier.Wrap(base)
	case breakerAlone:
		s.rt = s.breaker.Wrap(base)
	case hedgeAlone:
		s.rt = s.hedger.Wrap(base)
	case hedgeRetryBreaker:
		s.rt = pipeline.NewWithBase(base, s.hedger, s.retrier, s.breaker)
	case retryHedgeBreaker:
		s.rt = pipeline.NewWithBase(base, s.retrier, s.hedger, s.breaker)
	case hedgeRetryThrottleBreaker:
		s.rt = pipeline.NewWithBase(base, s.hedger, s.retrier, s.thr, s.breaker)
	default:
		panic("unknown arrangement")
	}
	return s
}

// reqKind is the request a cell sends.
type reqKind int

const (
	getReq     reqKind = iota // GET, no body: replayable
	postNoKey                 // POST, 1 KiB body with GetBody, no Idempotency-Key: never replayed
	postKey                   // POST, 64 KiB body with GetBody and an Idempotency-Key: replayable
	postKeyBig                // POST, 8 MiB body with GetBody and an Idempotency-Key
	putStream                 // PUT, 4 KiB body without GetBody: retry must buffer it to replay it
)

var reqKindNames = [...]string{
	getReq:     "GET",
	postNoKey:  "POST",
	postKey:    "POST+key",
	postKeyBig: "POST+key 8MiB",
	putStream:  "PUT stream",
}

func (k reqKind) String() string { return reqKindNames[k] }

// body returns the request body of kind k: deterministic, and different at
// every offset so that a reordered or spliced body cannot match.
func (k reqKind) body() []byte {
	n := map[reqKind]int{getReq: 0, postNoKey: 1 << 10, postKey: 64 << 10, postKeyBig: 8 << 20, putStream: 4 << 10}[k]
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// request builds a request of kind k for call number id.
func (k reqKind) request(ctx context.Context, url string, id int, body []byte) *http.Request {
	var r io.Reader
	switch k {
	case getReq:
	case putStream:
		r = testkit.OnlyReader(bytes.NewReader(body))
	default:
		r = bytes.NewReader(body)
	}
	method := map[reqKind]string{getReq: http.MethodGet, putStream: http.MethodPut}[k]
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		panic(err)
	}
	req.Header.Set("X-Call", strconv.Itoa(id))
	if k == postKey || k == postKeyBig {
		req.Header.Set("Idempotency-Key", "key-"+strconv.Itoa(id))
	}
	return req
}

// outcome is what a caller observed.
type outcome struct {
	status  int // 0 when err != nil
	err     error
	body    []byte
	bodyErr error
	nilBody bool // the response's Body was nil
	elapsed time.Duration
}

func (o outcome) String() string {
	if o.err != nil {
		return fmt.Sprintf("error %v after %v", o.err, o.elapsed)
	}
	return fmt.Sprintf("%d (%d body bytes, read error %v) after %v", o.status, len(o.body), o.bodyErr, o.elapsed)
}

// do sends req through rt, reads the whole response body and closes it. A
// call that has not returned by hang comes back as an error matching no
// documented cause.
func do(t *testing.T, rt http.RoundTripper, req *http.Request, hang time.Duration) outcome {
	t.Helper()
	ch := make(chan outcome, 1)
	start := time.Now()
	go func() {
		var o outcome
		defer func() {
			// A stage that panics fails the cell instead of the binary.
			if p := recover(); p != nil {
				o.err = fmt.Errorf("faulttest: panic: %v", p)
				o.elapsed = time.Since(start)
				ch <- o
			}
		}()
		resp, err := rt.RoundTrip(req)
		if err == nil && resp == nil {
			err = errors.New("faulttest: nil response and nil error")
		}
		switch {
		case err != nil:
			if resp != nil {
				if resp.Body != nil {
					resp.Body.Close()
				}
				err = fmt.Errorf("faulttest: response AND error %w", err)
			}
			o.err = err
		case resp.Body == nil:
			// Only a custom transport breaking the RoundTripper contract
			// returns this; badinput_test.go makes one on purpose.
			o.status, o.nilBody = resp.StatusCode, true
		default:
			o.status = resp.StatusCode
			o.body, o.bodyErr = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		o.elapsed = time.Since(start)
		ch <- o
	}()
	select {
	case o := <-ch:
		return o
	case <-time.After(hang):
		// Not t.Fatal: do runs on callers' goroutines in the soak. The
		// error matches no documented cause, so every check reports it.
		return outcome{err: fmt.Errorf("faulttest: call hung: no answer after %v", hang), elapsed: hang}
	}
}

// noLeaks checks, at the end of the test (after every cleanup registered
// later has run: servers closed, idle connections closed), that no
// goroutine started during the test is still running and that the number
// of open file descriptors did not grow.
func noLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	testkit.CheckFDs(t, 0)
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// warmUpPath is the path of the request [warmUp] sends.
const warmUpPath = "/warm-up"

// warmUp opens tr's connection to an HTTP/2 server with one request of its
// own, answered 200 whatever the server's script, which [checkBodies]
// neither checks nor counts. The h2 rows are about streams on a
// connection; a TLS handshake under -race on a loaded machine takes
// hundreds of milliseconds, and inside a cell it outlasted attempt
// timeouts and hedge delays before the server saw a request.
func warmUp(t *testing.T, srv *testkit.FaultServer, tr http.RoundTripper) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+warmUpPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(testkit.FaultHeader, testkit.FaultOK().String())
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("warming up the connection: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// checkBodies verifies every request the server received: each body read
// to its end is complete and byte-identical to want. It returns how many
// requests arrived, not counting [warmUp]'s.
func checkBodies(t *testing.T, srv *testkit.FaultServer, want []byte) int {
	t.Helper()
	if !srv.WaitIdle(3 * time.Second) {
		t.Errorf("server handlers still running 3s after the call")
	}
	sum := sha256.Sum256(want)
	recs := srv.Records()
	n := 0
	for _, r := range recs {
		if r.Path == warmUpPath {
			continue
		}
		n++
		if r.BodyErr != nil {
			continue // an aborted upload the server saw fail: never acted on
		}
		if r.BodyBytes != int64(len(want)) || r.BodySHA256 != sum {
			t.Errorf("request %d (conn %d) body: %d bytes, sha %x; want %d bytes, sha %x",
				r.N, r.ConnID, r.BodyBytes, r.BodySHA256[:4], len(want), sum[:4])
		}
	}
	return n
}
