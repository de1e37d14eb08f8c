package throttle

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/hostkey"
)

func names(hs []*host) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.name)
	}
	return out
}

func TestRegistryLRU(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	th := New(Config{MaxHosts: 3, IdleTTL: time.Hour})
	r := th.hosts
	r.epoch = t0
	use := func(name string, at time.Duration) *host {
		h := r.acquire(hostkey.Key{Host: name}, t0.Add(at))
		h.done()
		return h
	}
	use("a", 0)
	use("b", time.Second)
	use("c", 2*time.Second)
	use("a", 3*time.Second) // a is the most recent now
	use("d", 4*time.Second) // full: b, the least recently used, goes
	assert.Equal(t, []string{"d", "a", "c"}, names(r.all()))

	busy := r.acquire(hostkey.Key{Host: "c"}, t0.Add(5*time.Second)) // c busy
	use("a", 6*time.Second)
	use("d", 7*time.Second)
	use("e", 8*time.Second) // c is the coldest but busy: skipped, a goes
	assert.ElementsMatch(t, []string{"e", "d", "c"}, names(r.all()))
	busy.done()

	closed := use("e", 9*time.Second)
	closed.gate.pause(t0.Add(time.Hour))
	use("c", 10*time.Second)
	use("d", 11*time.Second)
	use("f", 12*time.Second) // e holds a pause: kept; d... the coldest evictable goes
	hs := names(r.all())
	assert.Contains(t, hs, "e", "a host whose gate holds a pause is never forgotten")
	assert.Len(t, hs, 3)
}

func TestRegistryForgetsIdleHosts(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	th := New(Config{IdleTTL: time.Minute})
	r := th.hosts
	r.epoch = t0
	for i, name := range []string{"a", "b", "c"} {
		r.acquire(hostkey.Key{Host: name}, t0.Add(time.Duration(i)*time.Second)).done()
	}
	r.acquire(hostkey.Key{Host: "d"}, t0.Add(61*time.Second)).done()
	assert.Equal(t, []string{"d", "c"}, names(r.all()), "a and b idle for a minute are forgotten when d arrives; c is not idle yet")
}

func TestRegistryGrowsPastMaxWhenAllBusy(t *testing.T) {
	t0 := time.Now()
	th := New(Config{MaxHosts: 2})
	r := th.hosts
	a := r.acquire(hostkey.Key{Host: "a"}, t0)
	b := r.acquire(hostkey.Key{Host: "b"}, t0)
	c := r.acquire(hostkey.Key{Host: "c"}, t0)
	assert.Len(t, r.all(), 3, "every host busy: the bound yields rather than drop one in use")
	a.done()
	b.done()
	c.done()
}

// TestKeyByAPIKey: Config.Key shares one state among several hosts.
func TestKeyByAPIKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{}
		u.answer = func(n int, req *http.Request) *http.Response {
			if n == 1 {
				return reply(req, &u.tr, 429, "Retry-After", "2", "RateLimit-Policy", roomy)
			}
			return reply(req, &u.tr, 200)
		}
		th := New(Config{Key: func(req *http.Request) string { return req.Header.Get("X-Api-Key") }})
		rt := th.Wrap(u)
		do := func(url string) {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("X-Api-Key", "team-1")
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
		}
		start := time.Now()
		do("https://eu.api.test/")
		do("https://us.api.test/") // another host, the same key: the same gate
		assert.Equal(t, []time.Duration{0, 2 * time.Second}, u.times(start))
		assert.Equal(t, "team-1", th.Snapshot()[0].Host)
	})
}
