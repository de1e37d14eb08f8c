package breaker

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// hookLog records the transitions of one key.
type hookLog struct {
	mu  sync.Mutex
	key string
	got []string
}

func (l *hookLog) hook(c StateChange) {
	if c.Key != l.key {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, c.From.String()+"→"+c.To.String())
}

func (l *hookLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

// burst sends n GETs to url at once through rt and returns how many the
// stub received, and the refusals.
func burst(t *testing.T, rt http.RoundTripper, u *upstream, url string, n int) (sent int, refused []*OpenError) {
	before := u.Calls()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := send(t.Context(), rt, url)
			var oe *OpenError
			if errors.As(err, &oe) {
				mu.Lock()
				refused = append(refused, oe)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return u.Calls() - before, refused
}

// TestEvictedAfterOpenPeriodNoBurst is the registry weakness of issue 11:
// a key evicted right after its open period used to come back closed and
// let a burst through. Now it comes back half-open: of 20 requests, one
// is the probe; when the probe fails the key opens again and the next 20
// send nothing.
func TestEvictedAfterOpenPeriodNoBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream() // answers 502
		log := &hookLog{key: hostA}
		b := New(Config{ConsecutiveFailures: 1, MaxKeys: 1, OnStateChange: log.hook})
		rt := b.Wrap(u)
		send(t.Context(), rt, "http://a.test/") // opens
		time.Sleep(DefaultOpenTimeout + time.Second)
		send(t.Context(), rt, "http://other.test/") // MaxKeys 1: a.test is evicted
		if _, ok := b.entries[key{Scheme: "http", Host: "a.test", Port: 80}]; ok {
			t.Fatal("a.test was not evicted")
		}
		if st := b.StateOf(hostA); st != HalfOpen {
			t.Errorf("State of the evicted key = %v, want half-open (remembered)", st)
		}

		sent, refused := burst(t, rt, u, "http://a.test/", 20)
		if sent != 1 || len(refused) != 19 {
			t.Fatalf("burst of 20 on return: %d sent, %d refused; want the 1 probe and 19 refusals", sent, len(refused))
		}
		for _, oe := range refused {
			if oe.State != HalfOpen {
				t.Errorf("refusal %+v, want half-open (probe in flight)", oe)
			}
		}
		if st := b.StateOf(hostA); st != Open {
			t.Errorf("after the probe failed: %v, want open", st)
		}
		if sent, _ := burst(t, rt, u, "http://a.test/", 20); sent != 0 {
			t.Errorf("%d sent while open again, want 0", sent)
		}
		want := []string{"closed→open", "open→half-open", "half-open→open"}
		if got := log.list(); !equal(got, want) {
			t.Errorf("transitions %v, want %v", got, want)
		}
	})
}

// TestEvictedWhileOpenComesBackOpen: a key in its open period may be
// evicted, but it comes back open until its remembered period ends —
// nothing is sent, and the refusal says when — then half-open: one probe,
// which closes it.
func TestEvictedWhileOpenComesBackOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		log := &hookLog{key: hostA}
		const openFor = 5 * time.Minute
		b := New(Config{ConsecutiveFailures: 1, MaxKeys: 1, OpenTimeout: openFor, OnStateChange: log.hook})
		rt := b.Wrap(u)
		send(t.Context(), rt, "http://a.test/") // opens when its 502 arrives
		opened := time.Now()
		time.Sleep(2 * time.Minute)
		send(t.Context(), rt, "http://other.test/") // a.test is evicted in its open period
		if n := len(b.entries); n != 1 {
			t.Fatalf("%d keys tracked, want MaxKeys (1): open keys are evictable", n)
		}

		sent, refused := burst(t, rt, u, "http://a.test/", 20)
		if sent != 0 || len(refused) != 20 {
			t.Fatalf("while its open period lasts: %d sent, %d refused; want 0 and 20", sent, len(refused))
		}
		if until := opened.Add(openFor + time.Nanosecond); !refused[0].Until.Equal(until) || refused[0].State != Open {
			t.Errorf("refusal %+v, want open until %v", refused[0], until)
		}
		time.Sleep(openFor - 2*time.Minute)
		u.healed.Store(true)
		sent, refused = burst(t, rt, u, "http://a.test/", 20)
		if sent != 1 || len(refused) != 19 {
			t.Fatalf("after the open period: %d sent, %d refused; want the 1 probe and 19 refusals", sent, len(refused))
		}
		if st := b.StateOf(hostA); st != Closed {
			t.Errorf("after a successful probe: %v, want closed", st)
		}
		if sent, _ := burst(t, rt, u, "http://a.test/", 20); sent != 20 {
			t.Errorf("%d of 20 sent once closed", sent)
		}
		want := []string{"closed→open", "open→half-open", "half-open→closed"}
		if got := log.list(); !equal(got, want) {
			t.Errorf("transitions %v, want %v", got, want)
		}
	})
}

// TestOpenKeyChurnBounded: 2,000 hosts that each fail and open, one after
// the other, never hold more than MaxKeys keys nor MaxKeys graves; the
// last ones evicted are remembered.
func TestOpenKeyChurnBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUpstream()
		b := New(Config{ConsecutiveFailures: 1, MaxKeys: 100})
		rt := b.Wrap(u)
		for i := range 2000 {
			send(t.Context(), rt, hostURL(i))
			if n, g := len(b.entries), b.graves.len(); n > 100 || g > 100 {
				t.Fatalf("after %d hosts: %d keys, %d graves; want ≤ 100 each", i+1, n, g)
			}
		}
		if st := b.StateOf(hostKey(1850)); st != Open {
			t.Errorf("a recently evicted open key reports %v, want open (remembered)", st)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
