package lab

import (
	"testing"
	"time"
)

func TestStallFinish(t *testing.T) {
	ms := time.Millisecond
	gc := Stall{Every: 2 * time.Second, For: 200 * ms, At: 500 * ms} // pauses [500, 700), [2500, 2700), ...
	tests := []struct {
		name        string
		s           Stall
		start, work time.Duration
		want        time.Duration
	}{
		{"never stalls", Stall{}, 100 * ms, 10 * ms, 110 * ms},
		{"before the first pause", gc, 100 * ms, 10 * ms, 110 * ms},
		{"ends as the pause begins", gc, 490 * ms, 10 * ms, 500 * ms},
		{"frozen by the pause", gc, 495 * ms, 10 * ms, 705 * ms},
		{"arrives during the pause", gc, 600 * ms, 10 * ms, 710 * ms},
		{"arrives as the pause ends", gc, 700 * ms, 10 * ms, 710 * ms},
		{"between pauses", gc, 1000 * ms, 10 * ms, 1010 * ms},
		{"a later pause", gc, 2600 * ms, 10 * ms, 2710 * ms},
		{"spans two pauses", gc, 400 * ms, 2000 * ms, 2800 * ms},
	}
	for _, tt := range tests {
		if got := tt.s.Finish(tt.start, tt.work); got != tt.want {
			t.Errorf("%s: Finish(%v, %v) = %v, want %v", tt.name, tt.start, tt.work, got, tt.want)
		}
	}
	if s := gc.String(); s != "stalls 200ms every 2s" {
		t.Errorf("String() = %q", s)
	}
}
