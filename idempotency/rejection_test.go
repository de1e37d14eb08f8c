package idempotency

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// rejectErr is a stage's refusal, like an open breaker's error.
type rejectErr struct {
	after    time.Duration
	rejected bool
}

func (e rejectErr) Error() string             { return "stage: rejected" }
func (e rejectErr) Rejected() bool            { return e.rejected }
func (e rejectErr) RetryAfter() time.Duration { return e.after }

func TestAsRejection(t *testing.T) {
	refused := rejectErr{after: 5 * time.Second, rejected: true}
	tests := []struct {
		name      string
		err       error
		wantOK    bool
		wantAfter time.Duration
	}{
		{"nil", nil, false, 0},
		{"plain error", errors.New("boom"), false, 0},
		{"rejection", refused, true, 5 * time.Second},
		{"wrapped", fmt.Errorf("retry: attempt 2: %w", refused), true, 5 * time.Second},
		{"joined", errors.Join(errors.New("other"), refused), true, 5 * time.Second},
		{"unknown delay", rejectErr{rejected: true}, true, 0},
		{"opted out", rejectErr{after: time.Second}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := AsRejection(tt.err)
			if ok != tt.wantOK {
				t.Fatalf("AsRejection ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				if r != nil {
					t.Errorf("AsRejection returned %v with ok=false", r)
				}
				return
			}
			if got := r.RetryAfter(); got != tt.wantAfter {
				t.Errorf("RetryAfter = %v, want %v", got, tt.wantAfter)
			}
		})
	}
}
