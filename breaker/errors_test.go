package breaker

import (
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

func TestOpenErrorMatches(t *testing.T) {
	var err error = fmt.Errorf("wrapped: %w", &OpenError{Key: "k", State: Open, Until: time.Now().Add(time.Minute)})
	if !errors.Is(err, ErrOpen) {
		t.Error("errors.Is(err, ErrOpen) = false")
	}
	var oe *OpenError
	if !errors.As(err, &oe) || oe.Key != "k" {
		t.Errorf("errors.As: %v %+v", errors.As(err, &oe), oe)
	}
	r, ok := idempotency.AsRejection(err)
	if !ok || !r.Rejected() {
		t.Fatal("an OpenError must be an idempotency.Rejection")
	}
	if errors.Is(errors.New("breaker: open"), ErrOpen) {
		t.Error("another error with the same text must not match")
	}
	// The classifier shared by every stage sees a refusal as Rejected and
	// never sent, so a retry stage may retry even a POST.
	if o := idempotency.Default.Classify(nil, nil, err); o != (idempotency.Outcome{Kind: idempotency.Rejected, NeverSent: true}) {
		t.Errorf("Classify = %+v", o)
	}
}

func TestOpenErrorRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		oe := &OpenError{Key: "https://a:443", State: Open, Until: time.Now().Add(5 * time.Second)}
		steps := []struct {
			sleep time.Duration
			want  time.Duration
			msg   string
		}{
			{0, 5 * time.Second, "breaker: open for https://a:443, next probe in 5s"},
			{3 * time.Second, 2 * time.Second, "breaker: open for https://a:443, next probe in 2s"},
			{2 * time.Second, 0, "breaker: open for https://a:443, next probe in 0s"},
			{time.Hour, 0, "breaker: open for https://a:443, next probe in 0s"}, // clamped, never negative
		}
		for i, s := range steps {
			time.Sleep(s.sleep)
			if got := oe.RetryAfter(); got != s.want {
				t.Errorf("step %d: RetryAfter = %v, want %v", i, got, s.want)
			}
			if got := oe.Error(); got != s.msg {
				t.Errorf("step %d: Error = %q, want %q", i, got, s.msg)
			}
		}
	})
}

func TestOpenErrorHalfOpen(t *testing.T) {
	oe := &OpenError{Key: "k", State: HalfOpen}
	if oe.RetryAfter() != 0 {
		t.Errorf("RetryAfter = %v, want 0 (unknown)", oe.RetryAfter())
	}
	if got, want := oe.Error(), "breaker: half-open for k, probe in flight"; got != want {
		t.Errorf("Error = %q, want %q", got, want)
	}
}
