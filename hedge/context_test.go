package hedge

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/testkit"
)

func TestCopyFromOutsideStage(t *testing.T) {
	assert.Zero(t, CopyFrom(context.Background()))
	assert.False(t, IsHedge(context.Background()))
}

// The base transport sees which attempt it sends.
func TestAttemptSeenByBaseTransport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var seen []int
		var hedges []bool
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			mu.Lock()
			seen = append(seen, CopyFrom(req.Context()))
			hedges = append(hedges, IsHedge(req.Context()))
			mu.Unlock()
			return after(req, time.Duration(4-n)*20*time.Millisecond, 200, nil)
		}}
		resp, err := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 2}).Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		readAll(t, resp)
		sort.Ints(seen)
		assert.Equal(t, []int{1, 2, 3}, seen)
		assert.ElementsMatch(t, []bool{false, true, true}, hedges)
	})
}

// The original's context answers the mark, keeps the caller's values, and
// its children attach to its cancellation (context.Cause finds it).
func TestMarkedCtx(t *testing.T) {
	type key struct{}
	marks := attempt.Marks(2, attempt.Mark{})
	parent := context.WithValue(context.Background(), key{}, "v")
	inner, cancel := context.WithCancel(parent)
	c := &markedCtx{Context: inner, mark: markContexts(marks)[0]}
	assert.Equal(t, 1, CopyFrom(c))
	assert.Equal(t, "v", c.Value(key{}))

	child, cancelChild := context.WithCancel(c)
	defer cancelChild()
	cancel()
	<-child.Done()
	assert.ErrorIs(t, context.Cause(child), context.Canceled)

	// An inner hedge stage's mark wins over this one.
	assert.Equal(t, 2, CopyFrom(attempt.WithHedge(c, &marks[1])))
}
