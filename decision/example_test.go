package decision_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

// The decision log of one request through hedge(retry): the original
// attempt stalls, so a hedge is sent after 100 ms; the hedge's first two
// tries get 503 and are retried after 100 and 200 ms; its third succeeds,
// wins the race, and the stalled original is canceled. One outcome is
// recorded, by the hedge, the outermost stage: the retry stage serves
// attempts of the hedge's, and the canceled original is no outcome.
func Example() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch {
			case a.Key == slog.TimeKey:
				return slog.Attr{} // no timestamps: the output must be stable
			case a.Value.Kind() == slog.KindDuration:
				// A measured wait (when the hedge went) is a little late
				// on a busy machine; rounding keeps the output stable.
				return slog.Duration(a.Key, a.Value.Duration().Round(100*time.Millisecond))
			}
			return a
		},
	}))

	// A stand-in for the upstream: the original stalls until canceled;
	// the hedge's tries answer 503, 503, then 200.
	upstream := pipeline.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		status := http.StatusOK
		switch {
		case hedge.CopyFrom(req.Context()) == 1:
			<-req.Context().Done()
			return nil, req.Context().Err()
		case retry.AttemptFrom(req.Context()) < 3:
			status = http.StatusServiceUnavailable
		}
		return &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	})

	client := pipeline.NewWithBase(upstream,
		hedge.New(hedge.Config{Delay: 100 * time.Millisecond, Logger: logger}),
		retry.New(retry.Config{BaseDelay: 100 * time.Millisecond, Jitter: retry.NoJitter, Logger: logger}),
	).Client()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://api.example/items", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// level=DEBUG msg="hedge sent" stage=hedge event=hedge host=http://api.example:80 attempt=2 reason=delay wait=100ms
	// level=DEBUG msg=retrying stage=retry event=retry host=http://api.example:80 attempt=1 reason=backoff wait=100ms status=503
	// level=DEBUG msg=retrying stage=retry event=retry host=http://api.example:80 attempt=2 reason=backoff wait=200ms status=503
	// level=DEBUG msg="hedge won" stage=hedge event=hedge_won host=http://api.example:80 attempt=2 status=200
	// level=DEBUG msg="request done" stage=hedge event=outcome host=http://api.example:80 attempt=2 reason=success status=200
	// 200
}
