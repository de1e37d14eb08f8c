package main

import (
	"bytes"
	"strings"
	"testing"
)

const input = `goos: linux
BenchmarkGet/upstream=stub/client=bare-2         	    2000	       600 ns/op	     472 B/op	       8 allocs/op
BenchmarkGet/upstream=stub/client=bare-2         	    2000	       620 ns/op	     472 B/op	       8 allocs/op
BenchmarkGet/upstream=stub/client=bare-2         	    2000	       900 ns/op	     472 B/op	       8 allocs/op
BenchmarkGet/upstream=stub/client=tailguard-pipeline-2   2000	      1240 ns/op	    1658 B/op	      15 allocs/op
BenchmarkPut64K/upstream=loopback/client=bare-2    2000	    132542 ns/op	 494.45 MB/s	   38738 B/op	      77 allocs/op
BenchmarkPut64K/upstream=loopback/client=tailguard-retry-2  2000	    143671 ns/op	 456.15 MB/s	   39134 B/op	      79 allocs/op
PASS
`

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(strings.NewReader(input), &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"Get/upstream=stub (medians of 3 runs)",
		"| bare | 620 ns | 1.00× | 472 | +0 | 8 | +0 |",
		"| tailguard-pipeline | 1.2 µs | 2.00× | 1658 | +1186 | 15 | +7 |",
		"Put64K/upstream=loopback",
		"| tailguard-retry | 143.7 µs | 1.08× | 39134 | +396 | 79 | +2 |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if err := run(strings.NewReader("nothing"), &out); err == nil {
		t.Error("no error on input without benchmarks")
	}
}
