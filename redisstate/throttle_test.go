package redisstate

import (
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/throttle"
)

// TestThrottleShared drives the store through throttle.Shared, as two
// processes of a fleet would (two stores on one Redis).
func TestThrottleShared(t *testing.T) {
	_, rdb := testRedis(t)
	a, b := newStore(t, rdb, Config{Process: "a", Timeout: generous}), newStore(t, rdb, Config{Process: "b", Lease: 3, Timeout: generous})
	ctx := context.Background()
	perHour := throttle.Quota{Rate: rate.Limit(1.0 / 3600), Burst: 2}
	const key = "https://api.example.com:443"
	steps := []struct {
		name  string
		s     *Store
		q     throttle.Quota
		wait  time.Duration
		pause time.Duration // if set, s pauses key first
		want  throttle.Reservation
	}{
		{name: "a takes the first of a burst of 2", s: a, q: perHour, want: throttle.Reservation{OK: true}},
		{name: "b takes the second (a lease of 3 gets 1)", s: b, q: perHour, want: throttle.Reservation{OK: true}},
		{name: "a: none left, may not wait", s: a, q: perHour, want: throttle.Reservation{Delay: time.Hour}},
		{name: "b reserves the next within 2 h", s: b, q: perHour, wait: 2 * time.Hour, want: throttle.Reservation{OK: true, Delay: time.Hour}},
		{name: "an unlimited pace passes the open gate", s: a, q: throttle.Quota{Rate: rate.Inf}, want: throttle.Reservation{OK: true}},
		{name: "a pauses: b learns it", s: b, q: perHour, pause: time.Minute, want: throttle.Reservation{Paused: time.Minute}},
		{name: "even an unlimited pace meets the gate", s: a, q: throttle.Quota{Rate: rate.Inf}, want: throttle.Reservation{Paused: time.Minute}},
	}
	for _, st := range steps {
		if st.pause > 0 {
			if err := a.Pause(ctx, key, st.pause); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		got, err := st.s.Reserve(ctx, key, st.q, st.wait)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.OK != st.want.OK || !near(got.Delay, st.want.Delay, 30*time.Second) || !near(got.Paused, st.want.Paused, 10*time.Second) {
			t.Errorf("%s: %+v, want %+v", st.name, got, st.want)
		}
	}
	// Both processes asked for key's quota: each is told the fleet is 2.
	if r, err := a.Reserve(ctx, key, perHour, 0); err != nil || r.Processes != 2 {
		t.Errorf("Processes = %d, %v; want 2 (a and b)", r.Processes, err)
	}
	if n, _ := rdb.Exists(ctx, a.keys(key, "quota")[0]).Result(); n != 1 {
		t.Error("quota key missing")
	}
	// An unlimited pace writes no quota.
	if _, err := a.Reserve(ctx, "free", throttle.Quota{Rate: rate.Inf}, 0); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, a.keys("free", "quota")[0]).Result(); n != 0 {
		t.Error("an unlimited pace wrote a quota key")
	}
}

// TestPauseRetried: a pause whose call to Redis fails (Redis down) is
// shared once Redis answers again, while the pause lasts: another process
// learns it without this one calling again.
func TestPauseRetried(t *testing.T) {
	srv, rdb := testRedis(t)
	a := newStore(t, rdb, Config{Process: "a", RetryInterval: 50 * time.Millisecond})
	b := newStore(t, rdb, Config{Process: "b", Timeout: generous})
	const key = "https://api.example.com:443"
	srv.Kill()
	if err := a.Pause(context.Background(), key, 10*time.Second); err == nil {
		t.Fatal("a pause shared through a dead Redis succeeded")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	q := throttle.Quota{Rate: 100, Burst: 1}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := b.Reserve(context.Background(), key, q, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.Paused > 0 {
			if r.Paused > 10*time.Second {
				t.Errorf("paused for %v, want at most what was left of 10 s", r.Paused)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the pause never reached Redis")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
