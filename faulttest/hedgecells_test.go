package faulttest_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// Matrix rows for the cells issue 11's hedge and drain bugs lived in:
// stalled error bodies (bug 3), MaxHedges 10 against a host that refuses
// every connection (bug 1: the crash), and a server that always pushes
// back, through the recommended order (bug 10).
func init() {
	matrix = append(matrix,
		// The error page's body never comes. Retry gives its drain
		// httpx.DrainTimeout (500 ms), then retries; a hedge fired at once
		// (or by its timer, under retry) wins without waiting for it; the
		// breaker alone returns the 503, whose body read ends with the
		// caller's deadline.
		row{name: "503 stalled body, then 200", req: getReq, config: holding,
			script: func() script {
				return testkit.FaultSequenceBy("X-Call", testkit.Fault{Kind: testkit.FaultStalledBody, Status: 503})
			},
			want: [numArrangements]want{
				ok(2),
				answers(503, 1).bodyFails(deadline),
				ok(2),
				ok(2),
				ok(2)}},
		// Each refusal fires the next hedge at once: 11 attempts alone.
		// Under retry, 3 refusals open the breaker and the hedges are
		// refused locally.
		row{name: "refused, MaxHedges 10", req: getReq, refused: true, config: maxHedges10,
			want: [numArrangements]want{
				fails(0, refused).trying(3, 3),
				fails(0, refused).trying(1, 1),
				fails(0, refused).trying(11, 11),
				fails(0, refused, open).trying(3, 11).opening(1, 1),
				fails(0, refused, open).trying(3, 11).opening(1, 1)}},
		// Retry waits out each Retry-After (spread up to 20%) and reports
		// it to the hedge, which sends nothing into the pause. A 429
		// slower than the 40 ms hedge delay (a loaded machine) lets one
		// hedge out before the pause is known.
		row{name: "429 Retry-After 1 always", req: getReq, config: patient,
			script: always(testkit.FaultThrottle("1")),
			want: [numArrangements]want{
				answers(429, 3),
				answers(429, 1),
				answers(429, 1).upTo(2),
				answers(429, 3).upTo(4),
				answers(429, 3).upTo(4)}},
	)
}

func maxHedges10(c *stackConfig) { c.hedge.MaxHedges = 10 }

// patient honours a 1 s Retry-After twice within the caller's deadline.
func patient(c *stackConfig) {
	c.retry.MaxRetryAfter = 1500 * time.Millisecond
	c.caller = 4 * time.Second
}

// TestPanicReachesCallerInEveryArrangement: a transport that panics — in
// the first attempt (on the caller's goroutine) or in the second (a hedge's
// goroutine, where round 1 crashed the process) — hands the panic to the
// caller's goroutine in every arrangement, and leaves nothing running
// (issue 11, bug 4). Without a hedge the second attempt never happens.
func TestPanicReachesCallerInEveryArrangement(t *testing.T) {
	for _, which := range []int64{1, 2} {
		for a := range numArrangements {
			t.Run(fmt.Sprintf("attempt %d/%v", which, a), func(t *testing.T) {
				noLeaks(t)
				srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: testkit.FaultAlways(testkit.FaultSlow(mxSlow))})
				tr := srv.Transport(t)
				var calls atomic.Int64
				base := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
					if n := calls.Add(1); n == which {
						if n == 1 {
							time.Sleep(60 * time.Millisecond) // past the 40 ms hedge delay (holding)
						}
						panic(fmt.Sprintf("transport bug %d", n))
					}
					return tr.RoundTrip(req)
				})
				cfg := matrixConfig()
				holding(&cfg)
				st := newStack(a, base, cfg)
				o := do(t, st.rt, get(t, srv.URL, ""), 5*time.Second)
				wantPanic := which == 1 || a.has("hedge")
				switch {
				case wantPanic && (o.err == nil || o.err.Error() != fmt.Sprintf("faulttest: panic: transport bug %d", which)):
					t.Errorf("got %v; want the transport's panic on the caller's goroutine", o)
				case !wantPanic && o.status != http.StatusOK:
					t.Errorf("got %v; want 200", o)
				}
				if !srv.WaitIdle(3 * time.Second) {
					t.Error("server handlers still running")
				}
			})
		}
	}
}

// TestUpgradeInEveryArrangement: a protocol upgrade is sent once in every
// arrangement, even when its 101 is slower than the hedge delay, and the
// caller gets the connection (issue 11, bug 2: a hedged upgrade's losing
// 101 was drained, a read that never ends).
func TestUpgradeInEveryArrangement(t *testing.T) {
	for a := range numArrangements {
		t.Run(a.String(), func(t *testing.T) {
			noLeaks(t)
			var received atomic.Int64
			srv, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				received.Add(1)
				time.Sleep(2 * mxHoldHedgeDelay)
				c, rw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return
				}
				defer c.Close()
				rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
				rw.Flush()
				line, _ := rw.ReadString('\n')
				rw.WriteString(strings.ToUpper(line))
				rw.Flush()
			}))
			cfg := matrixConfig()
			holding(&cfg)
			st := newStack(a, testkit.Transport(t), cfg)
			req := get(t, srv.URL, "")
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "echo")
			resp, err := st.rt.RoundTrip(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			conn, ok := resp.Body.(io.ReadWriteCloser)
			require.True(t, ok, "the 101 body is the connection")
			_, err = io.WriteString(conn, "hello\n")
			require.NoError(t, err)
			line, err := bufio.NewReader(conn).ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, "HELLO\n", line)
			assert.EqualValues(t, 1, received.Load(), "sent once")
		})
	}
}
