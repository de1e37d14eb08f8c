package hedge

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// A stopped timer is recycled; one that fired is not, so a recycled timer
// never calls into an old race.
func TestTimerPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tp timerPool
		h := New(Config{Delay: time.Millisecond})
		r := &race{t: &transport{h: h}, stopped: true} // no hedge left: onTimer does nothing

		ht := tp.arm(r, time.Hour)
		tp.release(ht)
		assert.Nil(t, ht.r.Load(), "a recycled timer forgets its race")

		ht = tp.arm(r, time.Millisecond)
		time.Sleep(2 * time.Millisecond)
		tp.release(ht)
		assert.Same(t, r, ht.r.Load(), "a timer that fired is left alone")
	})
}
