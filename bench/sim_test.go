package bench

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The fake-clock scenarios (step, hosts, outage, quickstart) share this
// harness: an in-memory upstream whose answer to each attempt is a pure
// function of the request, the attempt's rank at the upstream and the
// instant it arrived, and an open-loop driver. Run inside a
// testing/synctest bubble, every client under test faces exactly the same
// upstream, with no network and no machine noise.

// simKey carries a request's index in its context; every stage's clones
// inherit it, so the upstream can tell attempts of one request apart.
type simKey struct{}

// simCall is one attempt as the upstream sees it.
type simCall struct {
	ID   int           // the request's index in the load
	N    int           // 1 for the first of its attempts to arrive, 2 for the next, ...
	Host string        // the request's URL host
	At   time.Duration // arrival, since the scenario started
}

// simAnswer is what the upstream does with an attempt.
type simAnswer struct {
	Latency    time.Duration
	Status     int    // 0 means 200
	RetryAfter string // the Retry-After header, if not empty
}

// fakeUpstream answers attempts on the bubble's fake clock. It records
// every attempt's arrival. It is safe for concurrent use.
type fakeUpstream struct {
	start  time.Time
	answer func(simCall) simAnswer

	mu sync.Mutex
	// Guarded by mu.
	arrivals [][]time.Duration // per request, each attempt's arrival since start
	perHost  map[string]int    // attempts by host
}

func newFakeUpstream(n int, answer func(simCall) simAnswer) *fakeUpstream {
	return &fakeUpstream{start: time.Now(), answer: answer, arrivals: make([][]time.Duration, n), perHost: map[string]int{}}
}

func (u *fakeUpstream) RoundTrip(req *http.Request) (*http.Response, error) {
	id := req.Context().Value(simKey{}).(int)
	at := time.Since(u.start)
	u.mu.Lock()
	u.arrivals[id] = append(u.arrivals[id], at)
	n := len(u.arrivals[id])
	u.perHost[req.URL.Host]++
	u.mu.Unlock()
	if req.Body != nil {
		req.Body.Close()
	}
	a := u.answer(simCall{ID: id, N: n, Host: req.URL.Host, At: at})
	if a.Latency > 0 {
		t := time.NewTimer(a.Latency)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			return nil, req.Context().Err()
		}
	}
	status := a.Status
	if status == 0 {
		status = http.StatusOK
	}
	h := http.Header{}
	if a.RetryAfter != "" {
		h.Set("Retry-After", a.RetryAfter)
	}
	body := http.StatusText(status)
	return &http.Response{
		Status: http.StatusText(status), StatusCode: status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}, nil
}

// attempts returns every request's attempt arrivals.
func (u *fakeUpstream) attempts() [][]time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.arrivals)
}

// simReq is one request of a load.
type simReq struct {
	At     time.Duration // intended start, since the scenario started
	Host   string        // if empty, "upstream.test"
	Client int           // which of the clients sends it
}

// simResult is what the caller of one request saw.
type simResult struct {
	Latency time.Duration // from the intended start to the end of the body
	Status  int           // 0 for an error
}

// simDrive sends each request of load through clients[req.Client] at its
// intended start, without waiting for earlier ones (open loop), and
// returns what each caller saw. The upstream's clock starts with the load.
func simDrive(clients []http.RoundTripper, up *fakeUpstream, load []simReq) []simResult {
	res := make([]simResult, len(load))
	var wg sync.WaitGroup
	up.start = time.Now()
	for i, r := range load {
		if wait := r.At - time.Since(up.start); wait > 0 {
			time.Sleep(wait)
		}
		wg.Go(func() {
			host := r.Host
			if host == "" {
				host = "upstream.test"
			}
			ctx := context.WithValue(context.Background(), simKey{}, i)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/", nil)
			begin := up.start.Add(r.At)
			resp, err := clients[r.Client].RoundTrip(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				res[i].Status = resp.StatusCode
			}
			res[i].Latency = time.Since(begin)
		})
	}
	wg.Wait()
	return res
}

// poisson returns n arrival offsets at rate per second, from seed.
func poisson(n int, rate float64, seed uint64) []time.Duration {
	r := rand.New(rand.NewPCG(seed, 0x5ced))
	out := make([]time.Duration, n)
	var t float64
	for i := range out {
		out[i] = time.Duration(t * float64(time.Second))
		t += r.ExpFloat64() / rate
	}
	return out
}

// drawD1 is the lab's d1 latency scaled by scale, drawn for (id, n): 1% of
// attempts stall at scale × 1 s, the rest take scale × N(10 ms, 1 ms).
func drawD1(id, n int, scale float64) (d time.Duration, stall bool) {
	r := rand.New(rand.NewPCG(uint64(id), uint64(n)))
	if r.Float64() < 0.01 {
		return time.Duration(scale * float64(time.Second)), true
	}
	ms := max(10+r.NormFloat64(), 1)
	return time.Duration(scale * ms * float64(time.Millisecond)), false
}

// quantile is the nearest-rank q-quantile of xs, which it sorts.
func quantile(xs []time.Duration, q float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}
