package bench

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/cristalhq/hedgedhttp"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
)

// Client is one client setup under test.
type Client struct {
	// Name is "library/stage", e.g. "tailguard/pipeline"; benchstat groups
	// by it.
	Name string
	// Wrap builds the setup over base. It is called once per benchmark or
	// lab arm, so state starts fresh.
	Wrap func(base http.RoundTripper) http.RoundTripper
}

// IdleHedgeDelay is the hedge delay of the fixed-delay hedges in the
// overhead benchmarks: far above a stub's or loopback's latency, so the
// hedge stays idle and only its bookkeeping is measured. On the loaded
// 2-core machine under -race a loopback request took over 100 ms, the
// old value: the hedge fired, and hedgedhttp's two attempts read one
// body at once (its known bug), a data race that failed TestClientsWork.
const IdleHedgeDelay = 10 * time.Second

// Clients returns every setup of the overhead benchmarks, bare first. All
// retries make at most 3 attempts; all hedges send at most 1 hedge.
func Clients() []Client {
	return []Client{
		{"bare", func(base http.RoundTripper) http.RoundTripper { return base }},
		{"floor/cancelable", func(base http.RoundTripper) http.RoundTripper { return cancelable{base} }},

		{"tailguard/retry", func(base http.RoundTripper) http.RoundTripper {
			return retry.New(retry.Config{}).Wrap(base)
		}},
		{"tailguard/breaker", func(base http.RoundTripper) http.RoundTripper {
			return breaker.New(breaker.Config{}).Wrap(base)
		}},
		{"tailguard/hedge", func(base http.RoundTripper) http.RoundTripper {
			return hedge.New(hedge.Config{Delay: IdleHedgeDelay}).Wrap(base)
		}},
		{"tailguard/hedge-adaptive", func(base http.RoundTripper) http.RoundTripper {
			// The zero Config: after 20 requests the delay is the p95,
			// clamped to MinDelay (1 ms) here. On loopback a request
			// slower than 1 ms (scheduler noise) does fire a hedge, about
			// 1 in 400 on a busy 2-core VM.
			return hedge.New(hedge.Config{}).Wrap(base)
		}},
		{"tailguard/pipeline", TailguardPipeline},
		{"tailguard/pipeline-default", TailguardPipelineDefault},

		{"failsafe/retry", func(base http.RoundTripper) http.RoundTripper {
			return failsafehttp.NewRoundTripper(base, failsafeRetry())
		}},
		{"failsafe/breaker", func(base http.RoundTripper) http.RoundTripper {
			return failsafehttp.NewRoundTripper(base, failsafeBreaker())
		}},
		{"failsafe/hedge", func(base http.RoundTripper) http.RoundTripper {
			return failsafehttp.NewRoundTripper(base, hedgepolicy.NewWithDelay[*http.Response](IdleHedgeDelay))
		}},
		{"failsafe/pipeline", FailsafePipeline},

		{"hedgedhttp/hedge", func(base http.RoundTripper) http.RoundTripper {
			return HedgedHTTP(base, IdleHedgeDelay)
		}},

		{"retryablehttp/retry", RetryableHTTP},
	}
}

// TailguardPipeline is the full pipeline, hedge outermost, with the hedge at
// a fixed IdleHedgeDelay like the peers' pipelines: every stage is present
// and none acts.
func TailguardPipeline(base http.RoundTripper) http.RoundTripper {
	return pipeline.NewWithBase(base, hedge.New(hedge.Config{Delay: IdleHedgeDelay}), retry.New(retry.Config{}), breaker.New(breaker.Config{}))
}

// TailguardPipelineDefault is the recommended client: every stage's zero
// Config (the hedge adaptive), hedge outermost.
func TailguardPipelineDefault(base http.RoundTripper) http.RoundTripper {
	return pipeline.NewWithBase(base, hedge.New(hedge.Config{}), retry.New(retry.Config{}), breaker.New(breaker.Config{}))
}

// FailsafePipeline is failsafe-go's equivalent: hedge, retry and breaker
// policies composed in the same order (the first policy is outermost).
func FailsafePipeline(base http.RoundTripper) http.RoundTripper {
	return failsafehttp.NewRoundTripper(base,
		hedgepolicy.NewWithDelay[*http.Response](IdleHedgeDelay), failsafeRetry(), failsafeBreaker())
}

// failsafeRetry is failsafehttp's own HTTP retry policy (2 retries, 5xx and
// 429, Retry-After), the setup its documentation recommends.
func failsafeRetry() failsafe.Policy[*http.Response] {
	return failsafehttp.NewRetryPolicyBuilder().Build()
}

// failsafeBreaker counts errors and 5xx as failures, like tailguard's;
// failsafe's default would count only errors.
func failsafeBreaker() failsafe.Policy[*http.Response] {
	return circuitbreaker.NewBuilder[*http.Response]().
		HandleIf(func(r *http.Response, err error) bool { return err != nil || r.StatusCode >= 500 }).
		Build()
}

// HedgedHTTP is cristalhq/hedgedhttp with one hedge after delay (upto
// counts the original).
func HedgedHTTP(base http.RoundTripper, delay time.Duration) http.RoundTripper {
	rt, err := hedgedhttp.NewRoundTripper(delay, 2, base)
	if err != nil {
		panic(err) // only for a negative delay or upto
	}
	return rt
}

// RetryableHTTP is go-retryablehttp as an http.RoundTripper, with 3 attempts
// like the others and its default logger (DEBUG lines on stderr, #31)
// silenced.
func RetryableHTTP(base http.RoundTripper) http.RoundTripper {
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: base}
	c.RetryMax = 2
	c.Logger = nil
	return &retryablehttp.RoundTripper{Client: c}
}

// cancelable is the least an idle hedger can do: give each request a
// context it can cancel (to stop a losing copy later), a clone of the
// request carrying it, and cancel once the caller closes the body. It never
// hedges; the overhead benchmarks show it as the floor every hedger pays,
// most of it inside net/http, which does more work for a request whose
// context can be canceled.
type cancelable struct{ next http.RoundTripper }

func (c cancelable) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := c.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
