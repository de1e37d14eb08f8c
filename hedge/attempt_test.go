package hedge

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/testkit"
)

// An attempt's context answers the mark and the feedback lookups, keeps the
// caller's values, and its children attach to its cancellation.
func TestAttemptCtx(t *testing.T) {
	type key struct{}
	marks := attempt.Marks(2, attempt.Mark{})
	parent := context.WithValue(context.Background(), key{}, "v")
	inner, cancel := context.WithCancel(parent)
	a := &attemptCtx{Context: inner, n: 1, mark: &marks[0]}
	assert.Equal(t, 1, CopyFrom(a))
	assert.Equal(t, "v", a.Value(key{}))
	assert.Same(t, a, attempt.FeedbackFrom(a))

	child, cancelChild := context.WithCancel(a)
	defer cancelChild()
	cancel()
	<-child.Done()
	assert.ErrorIs(t, context.Cause(child), context.Canceled)

	// An inner hedge stage's mark wins over this one.
	assert.Equal(t, 2, CopyFrom(attempt.WithHedge(a, &marks[1])))
}

// An inner stage's pause report stops hedging for the request (neither the
// timer's hedges nor failure-fired ones go out), is passed on to an
// enclosing race, and a pause already over is ignored.
func TestReportedPauseStopsHedging(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pause     time.Duration
		wantCalls int
	}{
		{"pause ahead", time.Second, 1},
		{"pause over", -time.Second, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				outer := &pauses{}
				stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
					if n == 1 {
						attempt.Pause(req.Context(), time.Now().Add(tc.pause))
					}
					return after(req, time.Second, 200, nil)
				}}
				h := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 2})
				ctx := attempt.WithFeedback(context.Background(), outer)
				resp, err := h.Wrap(stub).RoundTrip(newGet(t).WithContext(ctx))
				require.NoError(t, err)
				readAll(t, resp)
				assert.Equal(t, tc.wantCalls, stub.Calls())
				assert.Equal(t, tc.pause > 0, len(outer.got) == 1, "passed on to the enclosing race")
			})
		})
	}
}

type pauses struct{ got []attempt.Report }

func (p *pauses) Report(r attempt.Report) { p.got = append(p.got, r) }
