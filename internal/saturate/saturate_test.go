package saturate

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

const (
	maxD = time.Duration(math.MaxInt64)
	minD = time.Duration(math.MinInt64)
)

func TestAdd(t *testing.T) {
	tests := []struct{ a, b, want time.Duration }{
		{time.Second, time.Second, 2 * time.Second},
		{maxD, time.Nanosecond, maxD},
		{maxD, maxD, maxD},
		{maxD - 1, 1, maxD},
		{minD, -1, minD},
		{minD, minD, minD},
		{maxD, minD, -1},
		{-time.Second, time.Second, 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Add(tt.a, tt.b), "%d + %d", tt.a, tt.b)
	}
}

func TestMul(t *testing.T) {
	tests := []struct {
		k       int64
		d, want time.Duration
	}{
		{0, maxD, 0},
		{3, 0, 0},
		{3, time.Second, 3 * time.Second},
		{2, maxD, maxD},
		{1, maxD, maxD},
		{math.MaxInt64, 2, maxD},
		{999999999999999, time.Second, maxD},
		{2, minD / 2, minD},
		{3, minD / 2, minD},
		{3, -time.Second, -3 * time.Second},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Mul(tt.k, tt.d), "%d × %d", tt.k, tt.d)
	}
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		s    float64
		want time.Duration
	}{
		{1.5, 1500 * time.Millisecond},
		{0, 0},
		{-2, -2 * time.Second},
		{1e12, maxD},
		{math.Inf(1), maxD},
		{-1e12, minD},
		{math.Inf(-1), minD},
		{math.NaN(), 0},
		{float64(maxD) / 1e9, maxD},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Seconds(tt.s), "%v s", tt.s)
	}
}
