package idempotency

import "testing"

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{Success, "success"},
		{Final, "final"},
		{Transient, "transient"},
		{Throttled, "throttled"},
		{Canceled, "canceled"},
		{Fatal, "fatal"},
		{Rejected, "rejected"},
		{Rejected + 1, "Kind(7)"},
		{255, "Kind(255)"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(tt.kind), got, tt.want)
		}
	}
}

func TestKindRetryable(t *testing.T) {
	tests := []struct {
		kind Kind
		want bool
	}{
		{Success, false},
		{Final, false},
		{Transient, true},
		{Throttled, true},
		{Canceled, false},
		{Fatal, false},
		{Rejected, false},
		{Rejected + 1, false},
	}
	for _, tt := range tests {
		if got := tt.kind.Retryable(); got != tt.want {
			t.Errorf("%v.Retryable() = %v, want %v", tt.kind, got, tt.want)
		}
	}
}

func TestKindZeroIsSuccess(t *testing.T) {
	var k Kind
	if k != Success {
		t.Fatalf("zero Kind = %v, want success", k)
	}
}
