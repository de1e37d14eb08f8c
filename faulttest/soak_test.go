package faulttest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

var (
	soakDuration = flag.Duration("soak.duration", 4*time.Second, "how long each of TestSoak's pipelines gets load (it also stops at -soak.requests)")
	soakRequests = flag.Int("soak.requests", 20000, "how many logical requests TestSoak sends through each pipeline at most")
)

const (
	// soakCallers is how many callers send at once. Under -race on the
	// loaded 2-core machine a loopback request costs about 1.5 ms of CPU:
	// 200 callers queued for 300 ms (p99 0.8 s) before any fault, every
	// host's attempts timed out, and every breaker opened. 50 keep the
	// machine busy without making its queue the fault under test.
	soakCallers     = 50
	soakCallTimeout = 2 * time.Second // each call's context deadline
	// soakAttemptTimeout is the retry stage's per-attempt timeout: four
	// times the slowest answer of the mix, so that what times out is a
	// black hole, not a loopback answer late on a loaded machine.
	soakAttemptTimeout = time.Second
	// soakRefusalBound bounds the median time a call refused at its
	// first attempt (by an open breaker or the throttle) takes to come
	// back: at once (issue 11, bug 11: callers were parked for the open
	// period); the bound is far below the 200 ms open period and far
	// above a loaded machine's scheduling delay. A call refused at a
	// retry comes back after its first attempt and the wait before the
	// retry (a Retry-After of 1 s), so it is not counted. Nor is the
	// time a call waited in the throttle before it was refused (the gate
	// closed again, or its pace turn fell past its deadline): that is the
	// throttle's own waiting policy, within MaxWait and the deadline. The
	// retry stage's AttemptTimeout used to cut those waits at 1 s, and
	// the refusal then came at the retry.
	soakRefusalBound = 50 * time.Millisecond
	// soakMinCalls is how many calls each pipeline gets at least: when a
	// loaded machine slows the load so much that -soak.duration ends
	// before, the callers go on for up to soakOvertime more, so that
	// every run exercises every cell (one run at load 12 made 211 calls
	// in 4 s; a normal one makes 600-800).
	soakMinCalls = 400
	soakOvertime = 10 * time.Second
)

// soakStack is one pipeline under soak: the recommended one, with a
// throttle between retry and breaker or without.
type soakStack struct {
	name     string
	throttle bool
}

var soakStacks = []soakStack{{"hedge→retry→breaker", false}, {"hedge→retry→throttle→breaker", true}}

// TestSoak sends 50 concurrent callers through the recommended pipeline
// (hedge → retry → breaker, all at their zero Config but for a shared
// budget, a per-attempt timeout, a short open period and MaxHedges 10),
// then through the same with a throttle between retry and breaker (the
// order recommended for rate-limited upstreams), each for -soak.duration
// or -soak.requests, whichever ends first, against hosts that each fail
// their own way (see soakHosts). The 50th attempt, and every 200th after
// it, panics in the transport. On a machine so loaded that fewer than 400
// calls were made by then, the callers go on for up to 10 s more.
//
// Then: every caller got a documented outcome, every body a server read
// whole was intact, every upgrade echoed, no POST without a key arrived
// twice, retries plus hedges stayed within the shared budget, every
// injected panic reached a caller or was counted dropped, and goroutines,
// heap and descriptors came back. Per host (checkSoakHosts): each of issue
// 11's cells was served; the dead load balancer's breaker opened and its
// calls were refused; refusals at a first attempt came back at once; no
// host that never asks for a pause was refused at a closed gate; and the
// hosts that mostly work got at least three calls in four through,
// whatever the others did.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: skipped with -short")
	}
	for _, s := range soakStacks {
		t.Run(s.name, func(t *testing.T) { soak(t, s) })
	}
}

func soak(t *testing.T, s soakStack) {
	noLeaks(t)

	bodies := map[string][]byte{"POST+key": bytes.Repeat([]byte("k"), 16<<10), "POST": bytes.Repeat([]byte("p"), 1<<10)}
	sums := map[string][32]byte{"GET": sha256.Sum256(nil)}
	for k, b := range bodies {
		sums[k] = sha256.Sum256(b)
	}
	var (
		recMu      sync.Mutex
		corrupt    []string
		unkeyed    = make(map[string]int) // path of each POST without a key → receptions
		duplicates int
		received   atomic.Int64
		upgrades   atomic.Int64
		served     = make(map[string]int) // "host cell" → requests served so
	)
	record := func(r testkit.FaultRecord) {
		received.Add(1)
		kind := r.Method
		if r.Key != "" {
			kind += "+key"
		}
		recMu.Lock()
		defer recMu.Unlock()
		if r.BodyErr == nil && r.BodySHA256 != sums[kind] && len(corrupt) < 10 {
			corrupt = append(corrupt, fmt.Sprintf("%s %s: %d bytes", kind, r.Path, r.BodyBytes))
		}
		if kind == "POST" {
			unkeyed[r.Path]++
			if unkeyed[r.Path] == 2 {
				duplicates++
			}
		}
		if cell := soakCell(r.Fault); cell != "" {
			served[soakPathHost(r.Path)+" "+cell]++
		}
	}
	plain := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: soakScript(&quotaWindow{}), Record: record})
	h2 := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: h2Script, Record: record, HTTP2: true})
	bad := newH2badRoute(t)
	base := soakTransport(t, plain, h2, bad, upgradeServer(t, &upgrades))

	bud := budget.New(budget.Config{}) // 20% + 10/s over 10 s: the recommended shared budget
	r := retry.New(retry.Config{Budget: bud, AttemptTimeout: soakAttemptTimeout, BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond})
	h := hedge.New(hedge.Config{Budget: bud, MaxHedges: 10})
	var (
		opensMu sync.Mutex
		opens   = map[string]int{} // breaker openings by host
	)
	b := breaker.New(breaker.Config{OpenTimeout: 200 * time.Millisecond, OnStateChange: func(c breaker.StateChange) {
		if c.To == breaker.Open {
			opensMu.Lock()
			_, host, _ := strings.Cut(c.Key, "://")
			name, _, _ := strings.Cut(host, ".")
			opens[name]++
			opensMu.Unlock()
		}
	}})
	stages := []pipeline.Stage{h, r, b}
	var thr *throttle.Throttle
	if s.throttle {
		thr = throttle.New(throttle.Config{OnThrottle: addThrottleWait})
		stages = []pipeline.Stage{h, r, thr, b}
	}
	var injected atomic.Int64
	rt := pipeline.NewWithBase(panicky(base, &injected), stages...)

	gBefore := runtime.NumGoroutine()
	heapBefore := heapAlloc()
	tally := newSoakTally()
	var sent atomic.Int64
	start := time.Now()
	stop := start.Add(*soakDuration)
	more := func() bool {
		now := time.Now()
		return now.Before(stop) || (sent.Load() < soakMinCalls && now.Before(stop.Add(soakOvertime)))
	}
	var wg sync.WaitGroup
	for c := range soakCallers {
		wg.Go(func() {
			// The callers come in over the first 100 ms, as traffic
			// ramps up, rather than dialing every connection at once.
			time.Sleep(time.Duration(c) * 2 * time.Millisecond)
			for more() {
				id := sent.Add(1)
				if id > int64(*soakRequests) {
					return
				}
				o := soakCall(t, rt, c, id, pickHost(), bodies, tally)
				if rej, ok := idempotency.AsRejection(o.err); ok {
					// A caller told the host is down or paused waits as
					// long as it was told (at least a little), as a real
					// one would, instead of spinning on refusals: refusals
					// that come back at once would otherwise make up most
					// of the calls.
					time.Sleep(min(max(rej.RetryAfter(), 20*time.Millisecond), 200*time.Millisecond))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	calls := min(sent.Load(), int64(*soakRequests))

	for _, srv := range []*testkit.FaultServer{plain, h2} {
		if !srv.WaitIdle(5 * time.Second) {
			t.Errorf("%d server handlers still running after the load stopped", srv.InFlight())
		}
	}
	base.CloseIdleConnections()
	gAfter := settleGoroutines(gBefore, 5*time.Second)
	heapAfter := heapAlloc()

	rs, hs, bs := r.Stats(), h.Stats(), bud.Stats()
	extras := rs.Retries + hs.Hedges
	window := budget.DefaultWindow
	allowed := budget.DefaultRatio*float64(bs.Deposits) + budget.DefaultMinPerSecond*(elapsed+window).Seconds()
	medRefusal, refusals := tally.medianFirstRefusal()

	t.Logf("soak: %d callers, %d calls in %v (%.0f/s); servers received %d requests and %d upgrades",
		soakCallers, calls, elapsed.Round(time.Millisecond), float64(calls)/elapsed.Seconds(), received.Load(), upgrades.Load())
	t.Logf("soak: retries %d + hedges %d = %d extra attempts; budget deposits %d, withdrawals %d, denied %d; allowed ≤ %.0f (%.1f%% of calls)",
		rs.Retries, hs.Hedges, extras, bs.Deposits, bs.Withdrawals, bs.Denied, allowed, 100*float64(extras)/float64(calls))
	t.Logf("soak: breaker openings by host %v; hedge wins %d of %d hedged; passed through unhedged %d; panics injected %d, dropped %d; %d calls refused at their first attempt, in %v (median)",
		opens, hs.HedgeWins, hs.Hedged, hs.PassThrough, injected.Load(), hs.DroppedPanics, refusals, medRefusal)
	if thr != nil {
		ts := thr.Stats()
		t.Logf("soak: throttle admitted %d (%d after waiting), refused %d at a closed gate, %d for pace, %d adaptively; %d pauses",
			ts.Admitted, ts.Waited, ts.RejectedGate, ts.RejectedPace, ts.RejectedAdaptive, ts.Pauses)
	}
	t.Logf("soak: cells served %v", served)
	t.Logf("soak: goroutines %d before, %d after; heap %.1f MiB before, %.1f MiB after; by host:%s",
		gBefore, gAfter, mib(heapBefore), mib(heapAfter), tally.summary())

	if len(tally.bad) > 0 {
		t.Errorf("callers got undocumented outcomes, e.g.:\n\t%s", joinLines(tally.bad))
	}
	if len(corrupt) > 0 {
		t.Errorf("the server read altered bodies:\n\t%s", joinLines(corrupt))
	}
	if duplicates > 0 {
		t.Errorf("%d POSTs without Idempotency-Key were received more than once", duplicates)
	}
	if bs.Deposits != uint64(calls) {
		t.Errorf("budget deposits %d, want one per call (%d)", bs.Deposits, calls)
	}
	// A withdrawal precedes its attempt; a caller whose deadline ends
	// during the retry's wait leaves one withdrawn and unsent, so
	// withdrawals may exceed the attempts sent, never the reverse.
	if bs.Withdrawals < extras {
		t.Errorf("withdrawals %d < retries %d + hedges %d: an extra attempt skipped the budget", bs.Withdrawals, rs.Retries, hs.Hedges)
	}
	if float64(extras) > allowed {
		t.Errorf("extra attempts %d exceed the budget's %.0f", extras, allowed)
	}
	var seenPanics int
	for _, ht := range tally.hosts {
		seenPanics += ht.outcomes["error: "+injectedPanic.name]
	}
	if int64(seenPanics)+int64(hs.DroppedPanics) != injected.Load() {
		t.Errorf("%d panics injected; callers saw %d and the hedge stage dropped %d: one vanished", injected.Load(), seenPanics, hs.DroppedPanics)
	}
	checkSoakHosts(t, tally, served, opens, injected.Load(), medRefusal)
	bad.check(t, tally, opens)
	if gAfter > gBefore {
		t.Errorf("goroutines grew from %d to %d", gBefore, gAfter)
	}
	// The heap after the load may hold pooled buffers and timers, but not
	// anything that grows with the number of requests.
	if heapAfter > heapBefore+8<<20 {
		t.Errorf("heap grew from %.1f MiB to %.1f MiB", mib(heapBefore), mib(heapAfter))
	}
}

// soakCall makes caller c's call number id to host and counts its outcome.
func soakCall(t *testing.T, rt http.RoundTripper, c int, id int64, host soakHost, bodies map[string][]byte, tally *soakTally) outcome {
	kind := []string{"GET", "GET", "GET", "GET", "GET", "GET", "GET", "POST+key", "POST+key", "POST"}[id%10]
	switch host.name {
	case "up":
		kind = "GET"
	case "h2bad":
		// Its breaker is open most of the run and lets a probe through
		// now and then: three calls in four are POSTs without a key, so
		// that some reach the host and h2badRoute.check has POSTs to
		// look at; the GETs are retried and hedged.
		kind = "GET"
		if id%4 != 0 {
			kind = "POST"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), soakCallTimeout)
	defer cancel()
	var body io.Reader
	if b, ok := bodies[kind]; ok {
		body = bytes.NewReader(b)
	}
	method := http.MethodGet
	if kind != "GET" {
		method = http.MethodPost
	}
	path := "/soak/" + host.name + "/" + strconv.Itoa(c) + "/" + strconv.FormatInt(id, 10)
	req, _ := http.NewRequestWithContext(ctx, method, soakURL(host, path), body)
	if kind == "POST+key" {
		req.Header.Set("Idempotency-Key", strconv.FormatInt(id, 10))
	}
	var waited atomic.Int64
	req = req.WithContext(context.WithValue(ctx, throttleWaitKey{}, &waited))
	if host.name == "up" {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "echo")
		return soakUpgrade(rt, req, tally, path)
	}
	o := do(t, rt, req, 10*time.Second)
	tally.add(host.name, o, errors.Is(ctx.Err(), context.DeadlineExceeded), throttleWaitOf(req.Context()))
	return o
}

// throttleWaitKey is the context key of a soak call's *atomic.Int64, into
// which addThrottleWait sums how long the call's attempts waited in the
// throttle.
type throttleWaitKey struct{}

// throttleWaitOf returns how long the attempts of the call whose context is
// ctx have waited in the throttle so far.
func throttleWaitOf(ctx context.Context) time.Duration {
	if p, ok := ctx.Value(throttleWaitKey{}).(*atomic.Int64); ok {
		return time.Duration(p.Load())
	}
	return 0
}

// addThrottleWait is the soak throttle's OnThrottle hook: it adds each
// attempt's wait to its call's total.
func addThrottleWait(ev throttle.Event) {
	if p, ok := ev.Request.Context().Value(throttleWaitKey{}).(*atomic.Int64); ok {
		p.Add(int64(ev.Wait))
	}
}
