package hedge

import (
	"sync"
	"sync/atomic"
	"time"
)

// hedgeTimer is a reusable time.AfterFunc timer that fires a race's next
// hedge. Creating a timer per request costs two allocations (the timer and
// the closure naming the race); pooling it makes an idle hedge cost none.
//
// A timer goes back to its pool only if Stop proved its callback will not
// run, so a recycled timer never calls into an old race. A timer that has
// fired is left to the garbage collector, which costs the allocations only
// for requests that hedged.
type hedgeTimer struct {
	t *time.Timer
	r atomic.Pointer[race] // the race to notify; set before every arming
}

func (ht *hedgeTimer) fire() {
	if r := ht.r.Load(); r != nil {
		r.onTimer()
	}
}

// timerPool holds stopped hedgeTimers. Each Hedger has its own, because a
// timer created inside a testing/synctest bubble must not be used outside
// it, and a stage belongs to the code that created it.
type timerPool struct{ p sync.Pool }

// arm returns a timer that will call r.onTimer after d.
func (tp *timerPool) arm(r *race, d time.Duration) *hedgeTimer {
	ht, _ := tp.p.Get().(*hedgeTimer)
	if ht == nil {
		ht = &hedgeTimer{}
		ht.r.Store(r)
		ht.t = time.AfterFunc(d, ht.fire)
		return ht
	}
	ht.r.Store(r)
	ht.t.Reset(d)
	return ht
}

// release stops ht and recycles it if its callback cannot run any more.
func (tp *timerPool) release(ht *hedgeTimer) {
	if ht.t.Stop() {
		ht.r.Store(nil)
		tp.p.Put(ht)
	}
}
