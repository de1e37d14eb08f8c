package hedge

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
)

// TestChoose: the rotation's rules, as a table.
func TestChoose(t *testing.T) {
	none := func(int) bool { return false }
	refuses := func(rs ...int) func(int) bool { return func(i int) bool { return slices.Contains(rs, i) } }
	tests := []struct {
		name     string
		n        int
		tried    []int
		refusing func(int) bool
		turns    []uint32
		want     []int // per turn
	}{
		{"untried replicas take turns", 3, []int{0}, none, []uint32{0, 1, 2, 3}, []int{1, 2, 1, 2}},
		{"the one untried", 3, []int{0, 2}, none, []uint32{0, 1}, []int{1, 1}},
		{"all tried: the least recently tried", 3, []int{0, 1, 2}, none, []uint32{0, 1}, []int{0, 0}},
		{"going round again", 3, []int{0, 1, 2, 0}, none, []uint32{0, 1}, []int{1, 1}},
		{"a refusing replica is skipped", 3, []int{0}, refuses(1), []uint32{0, 1}, []int{2, 2}},
		{"a tried replica before a refusing one", 3, []int{0}, refuses(1, 2), []uint32{0, 1}, []int{0, 0}},
		{"all refusing: untried ones still take turns", 3, []int{0}, refuses(0, 1, 2), []uint32{0, 1}, []int{1, 2}},
		{"a request's own replica refusing", 3, []int{0}, refuses(0), []uint32{0, 1}, []int{1, 2}},
		{"one replica", 1, []int{0}, none, []uint32{0, 1}, []int{0, 0}},
		{"original to no listed replica", 2, nil, none, []uint32{0, 1}, []int{0, 1}},
		{"more replicas than the stack buffer", 40, []int{0}, none, []uint32{0, 38, 39}, []int{1, 39, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, turn := range tt.turns {
				assert.Equal(t, tt.want[k], choose(tt.n, tt.tried, tt.refusing, turn), "turn %d", turn)
			}
		})
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { choose(8, []int{0}, none, 1) }), "choose allocates")
}

// replicaStub is a transport standing in for several replicas: latency
// says how long each host name takes (1 s if absent), and reject lists the
// hosts whose attempts an inner stage refuses.
type replicaStub struct {
	latency map[string]time.Duration
	reject  map[string]time.Duration // host → the rejection's RetryAfter

	mu   sync.Mutex // guards sent
	sent []string   // the host name of each attempt received
}

func (s *replicaStub) transport() *testkit.Stub {
	return &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
		s.mu.Lock()
		s.sent = append(s.sent, req.URL.Hostname())
		retryAfter, rejected := s.reject[req.URL.Hostname()]
		s.mu.Unlock()
		if rejected {
			return nil, refusal{retryAfter}
		}
		d, ok := s.latency[req.URL.Hostname()]
		if !ok {
			d = time.Second
		}
		return after(req, d, 200, nil)
	}}
}

// hosts returns the host names attempts were sent to, in arrival order, and
// forgets them.
func (s *replicaStub) hosts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := s.sent
	s.sent = nil
	return hs
}

// refusal is an inner stage's refusal, as a breaker's *OpenError is.
type refusal struct{ retryAfter time.Duration }

func (r refusal) Error() string             { return "refused" }
func (r refusal) Rejected() bool            { return true }
func (r refusal) RetryAfter() time.Duration { return r.retryAfter }

var _ idempotency.Rejection = refusal{}

func get(t testing.TB, rt http.RoundTripper, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	readAll(t, resp)
	return resp
}

var abc = []string{"a.test:80", "b.test:80", "c.test:80"}

// TestReplicaHedgesRotate: the original keeps its URL; hedges go to the
// other replicas, taking turns.
func TestReplicaHedgesRotate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &replicaStub{latency: map[string]time.Duration{"b.test": 5 * time.Millisecond, "c.test": 5 * time.Millisecond}}
		var hedged []string
		h := New(Config{Delay: 10 * time.Millisecond, Replicas: Replicas{Addrs: abc},
			OnHedge: func(i HedgeInfo) { hedged = append(hedged, i.Replica) }})
		rt := h.Wrap(stub.transport())
		var got [][]string
		for range 4 {
			get(t, rt, "http://a.test/x")
			synctest.Wait()
			got = append(got, stub.hosts())
		}
		assert.Equal(t, [][]string{
			{"a.test", "c.test"}, {"a.test", "b.test"},
			{"a.test", "c.test"}, {"a.test", "b.test"},
		}, got)
		assert.Equal(t, []string{"c.test:80", "b.test:80", "c.test:80", "b.test:80"}, hedged, "HedgeInfo.Replica")
		assert.Equal(t, Stats{Requests: 4, Hedgeable: 4, Hedged: 4, Hedges: 4, HedgeWins: 4}, h.Stats())
	})
}

// TestReplicaHedgesSkipTried: with more hedges than replicas, each hedge
// goes to a replica the request has not tried, then round again, least
// recently tried first.
func TestReplicaHedgesSkipTried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &replicaStub{} // every replica takes 1 s
		h := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 4, Replicas: Replicas{Addrs: abc}})
		get(t, h.Wrap(stub.transport()), "http://b.test/x")
		synctest.Wait()
		got := stub.hosts()
		require.Len(t, got, 5)
		assert.Equal(t, "b.test", got[0], "the original keeps its URL")
		assert.ElementsMatch(t, []string{"a.test", "c.test"}, got[1:3], "hedges 1 and 2 go to the untried replicas")
		assert.Equal(t, []string{"b.test", got[1]}, got[3:], "then round again, least recently tried first")
	})
}

// TestReplicaRefusalAvoided: a hedge an inner stage refuses for a replica
// (an open breaker keyed by its URL) is a rejection that neither wins nor
// cancels the original; the stage then sends hedges to other replicas
// until the refusal's RetryAfter has passed.
func TestReplicaRefusalAvoided(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &replicaStub{
			latency: map[string]time.Duration{"a.test": 50 * time.Millisecond, "b.test": 5 * time.Millisecond, "c.test": 5 * time.Millisecond},
			reject:  map[string]time.Duration{"b.test": 2 * time.Second},
		}
		var wins []int
		h := New(Config{Delay: 10 * time.Millisecond, Replicas: Replicas{Addrs: abc},
			OnComplete: func(i CompleteInfo) { wins = append(wins, i.Winner) }})
		rt := h.Wrap(stub.transport())

		get(t, rt, "http://a.test/x") // turn 1: c
		get(t, rt, "http://a.test/x") // turn 2: b, which refuses
		start := time.Now()
		for range 6 {
			get(t, rt, "http://a.test/x") // b is avoided: every hedge goes to c
		}
		synctest.Wait()
		assert.Equal(t, []int{2, 1, 2, 2, 2, 2, 2, 2}, wins, "the refused hedge neither won nor canceled the original, which won at 50 ms")
		hosts := stub.hosts()
		assert.Equal(t, []string{"a.test", "c.test", "a.test", "b.test"}, hosts[:4])
		assert.NotContains(t, hosts[4:], "b.test", "b is avoided while it refuses")
		assert.Less(t, time.Since(start), 2*time.Second)

		time.Sleep(2 * time.Second)
		delete(stub.reject, "b.test")
		get(t, rt, "http://a.test/x")
		get(t, rt, "http://a.test/x")
		synctest.Wait()
		assert.Contains(t, stub.hosts(), "b.test", "once its RetryAfter has passed, b takes its turn again")
	})
}

// TestReplicaRefusalWithoutRetryAfter: a refusal that cannot say when it
// ends (a half-open breaker) keeps a replica avoided for a second.
func TestReplicaRefusalWithoutRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &replicaStub{reject: map[string]time.Duration{"b.test": 0}}
		h := New(Config{Delay: 10 * time.Millisecond, Replicas: Replicas{Addrs: abc[:2]}})
		s := h.replicas
		rt := h.Wrap(stub.transport())
		stub.latency = map[string]time.Duration{"a.test": 20 * time.Millisecond}
		get(t, rt, "http://a.test/x") // the hedge to b, refused at 10 ms
		assert.True(t, s.refusing(1, time.Now()))
		time.Sleep(unknownRefusal - 11*time.Millisecond) // from 20 ms to 1 ms before 10 ms + unknownRefusal
		assert.True(t, s.refusing(1, time.Now()))
		time.Sleep(time.Millisecond)
		assert.False(t, s.refusing(1, time.Now()), "forgotten after unknownRefusal")
	})
}

// TestReplicaRefusalClearedBySuccess: an attempt that gets through to a
// replica, original or hedge, ends its refusal at once.
func TestReplicaRefusalClearedBySuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &replicaStub{
			latency: map[string]time.Duration{"a.test": 50 * time.Millisecond, "b.test": 5 * time.Millisecond},
			reject:  map[string]time.Duration{"b.test": time.Minute},
		}
		h := New(Config{Delay: 10 * time.Millisecond, Replicas: Replicas{Addrs: abc[:2]}})
		rt := h.Wrap(stub.transport())
		get(t, rt, "http://a.test/x")
		require.True(t, h.replicas.refusing(1, time.Now()))
		delete(stub.reject, "b.test")
		get(t, rt, "http://b.test/x") // an original to b gets through
		assert.False(t, h.replicas.refusing(1, time.Now()))
	})
}

// TestReplicaPick: Pick replaces the rotation, and learns what the
// request tried and which replicas refuse.
func TestReplicaPick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &replicaStub{
			latency: map[string]time.Duration{"b.test": 5 * time.Millisecond, "c.test": 5 * time.Millisecond},
			reject:  map[string]time.Duration{"b.test": time.Minute},
		}
		var infos []PickInfo
		h := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 2, Replicas: Replicas{Addrs: abc,
			Pick: func(i PickInfo) int {
				infos = append(infos, i)
				return 1 // always b: the user's choice, refusing or not
			}}})
		rt := h.Wrap(stub.transport())
		caller, err := http.NewRequest(http.MethodGet, "http://a.test/x", nil)
		require.NoError(t, err)
		resp, err := rt.RoundTrip(caller)
		require.NoError(t, err)
		readAll(t, resp)
		synctest.Wait()
		assert.Equal(t, []string{"a.test", "b.test", "b.test"}, stub.hosts(), "both hedges go where Pick said; b refused both")
		require.Len(t, infos, 2)
		assert.Equal(t, PickInfo{Request: caller, Attempt: 2, Tried: []int{0}}, infos[0])
		assert.Equal(t, PickInfo{Request: caller, Attempt: 3, Tried: []int{0, 1}, Refusing: []int{1}}, infos[1])
	})
}

// TestReplicaPickNone: a Pick that returns no listed replica sends no
// hedge, stops hedging, and says so in the decision log.
func TestReplicaPickNone(t *testing.T) {
	for _, i := range []int{-1, 3} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := &replicaStub{latency: map[string]time.Duration{"a.test": 50 * time.Millisecond}}
				logger, logs := testkit.NewLogs(slog.LevelDebug)
				picks := 0
				h := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 3, Logger: logger,
					Replicas: Replicas{Addrs: abc, Pick: func(PickInfo) int { picks++; return i }}})
				get(t, h.Wrap(stub.transport()), "http://a.test/x")
				assert.Equal(t, []string{"a.test"}, stub.hosts())
				assert.Equal(t, 1, picks, "no further hedge is even considered")
				assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, OriginalWins: 1}, h.Stats(), "not counted")
				assert.Equal(t, []string{"hedge_denied attempt=2 reason=replica error=hedge: Replicas.Pick chose no replica",
					"outcome attempt=1 reason=success status=200"}, logs.Lines())
			})
		})
	}
}

// TestReplicaPickPanics: a panic in Pick reaches the caller's goroutine,
// with its value, and leaves nothing behind.
func TestReplicaPickPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &replicaStub{}
		h := New(Config{Delay: 10 * time.Millisecond, Replicas: Replicas{Addrs: abc, Pick: func(PickInfo) int { panic("pick!") }}})
		req, err := http.NewRequest(http.MethodGet, "http://a.test/x", nil)
		require.NoError(t, err)
		start := time.Now()
		assert.PanicsWithValue(t, "pick!", func() { _, _ = h.Wrap(stub.transport()).RoundTrip(req) })
		assert.Equal(t, 10*time.Millisecond, time.Since(start), "the panic decided the race at once; the original was canceled")
		synctest.Wait()
	})
}
