package quota

import (
	"context"
	"math"
	"net/http"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/examples/lab"
)

// retryOn429 is the crudest retrying client: up to 3 attempts, the next
// one at once. It gives the lab's counters something to count.
type retryOn429 struct{ next http.RoundTripper }

func (r retryOn429) RoundTrip(req *http.Request) (*http.Response, error) {
	for i := 0; ; i++ {
		resp, err := r.next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || i == 2 {
			return resp, err
		}
		resp.Body.Close()
	}
}

// On the fake clock every number of a client that neither retries nor
// waits follows from the quota alone: this pins the server, the schedule
// and the counters together.
func TestCompareFakeClock(t *testing.T) {
	arms := []lab.Arm{
		{Name: "plain"},
		{Name: "retry at once", Wrap: func(b http.RoundTripper) http.RoundTripper { return retryOn429{b} }},
	}
	for _, d := range Dialects {
		t.Run(d.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				load := Load{Duration: 10 * time.Second, Seed: 3}
				res, err := Compare(context.Background(), Config{Dialect: d, Latency: 10 * time.Millisecond}, load, arms, InMemory, true, nil)
				if err != nil {
					t.Fatal(err)
				}
				plain, retried := res[0], res[1]
				offered := len(load.Schedule())
				// ≈ 3,000 offered in 10 s; 10 s of quota plus the burst admitted.
				if math.Abs(float64(offered)-3000) > 200 {
					t.Errorf("offered %d, want ≈ 3000", offered)
				}
				if plain.Offered != offered || plain.Sent != offered || plain.Succeeded+plain.Failed != offered {
					t.Errorf("plain: offered %d sent %d succeeded %d failed %d", plain.Offered, plain.Sent, plain.Succeeded, plain.Failed)
				}
				if plain.Throttled != plain.Failed || plain.Succeeded < 1000 || plain.Succeeded > 1010 {
					t.Errorf("plain: %d succeeded, %d throttled, %d failed; want ≈ 1,000 and the rest 429", plain.Succeeded, plain.Throttled, plain.Failed)
				}
				if plain.Goodput < 0.99 || plain.Goodput > 1.01 {
					t.Errorf("plain goodput %.3f, want ≈ 1", plain.Goodput)
				}
				if plain.P50 != 10*time.Millisecond || plain.P99 != 10*time.Millisecond {
					t.Errorf("plain latency p50 %v p99 %v, want the server's 10ms", plain.P50, plain.P99)
				}
				if got := plain.MaxReleased / plain.Quota; got < 2.5 || got > 4 {
					t.Errorf("plain burst after a gate %.2f× the quota, want ≈ 3 (it never waits)", got)
				}
				if d.Announces() != (plain.InPause > 1000) {
					t.Errorf("plain: %d 429s inside pauses (dialect %v)", plain.InPause, d)
				}
				if retried.Sent <= plain.Sent || retried.SentPerSuccess() <= plain.SentPerSuccess() {
					t.Errorf("retrying arm sent %d (%.2f per success), plain %d", retried.Sent, retried.SentPerSuccess(), plain.Sent)
				}
				if testing.Verbose() {
					WriteTable(os.Stdout, res, true)
				}
			})
		})
	}
}

// One arm after another gives what side by side gives: each arm has its
// own server, schedule and fake clock instants.
func TestCompareSequential(t *testing.T) {
	arms := []lab.Arm{{Name: "plain"}, {Name: "retry at once", Wrap: func(b http.RoundTripper) http.RoundTripper { return retryOn429{b} }}}
	run := func(parallel bool) []Result {
		var res []Result
		synctest.Test(t, func(t *testing.T) {
			var err error
			res, err = Compare(context.Background(), Config{Dialect: Bare}, Load{Duration: 2 * time.Second}, arms, InMemory, parallel, nil)
			if err != nil {
				t.Fatal(err)
			}
		})
		return res
	}
	side, seq := run(true), run(false)
	for i := range arms {
		if side[i].Sent != seq[i].Sent || side[i].Succeeded != seq[i].Succeeded || side[i].Throttled != seq[i].Throttled {
			t.Errorf("%s: side by side sent %d ok %d 429 %d; one after another %d %d %d", arms[i].Name,
				side[i].Sent, side[i].Succeeded, side[i].Throttled, seq[i].Sent, seq[i].Succeeded, seq[i].Throttled)
		}
	}
}

func TestCompareCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Compare(ctx, Config{}, Load{Duration: time.Second}, []lab.Arm{{Name: "plain"}}, InMemory, false, nil); err == nil {
		t.Error("canceled run returned no error")
	}
}
