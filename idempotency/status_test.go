package idempotency

import "testing"

func TestStatusKind(t *testing.T) {
	tests := []struct {
		code int
		want Kind
	}{
		{100, Success},
		{101, Success},
		{199, Success},
		{200, Success},
		{201, Success},
		{204, Success},
		{299, Success},
		{301, Success},
		{304, Success},
		{399, Success},
		{400, Final},
		{401, Final},
		{403, Final},
		{404, Final},
		{408, Transient},
		{409, Final},
		{410, Final},
		{413, Final},
		{422, Final},
		{425, Transient},
		{429, Throttled},
		{451, Final},
		{499, Final},
		{500, Transient},
		{501, Fatal},
		{502, Transient},
		{503, Transient},
		{504, Transient},
		{505, Fatal},
		{507, Transient},
		{511, Transient},
		{599, Transient},
		// No class in RFC 9110: a misbehaving peer, treated like a 500.
		{-1, Transient},
		{0, Transient},
		{99, Transient},
		{600, Transient},
		{999, Transient},
	}
	for _, tt := range tests {
		if got := StatusKind(tt.code); got != tt.want {
			t.Errorf("StatusKind(%d) = %v, want %v", tt.code, got, tt.want)
		}
	}
}
