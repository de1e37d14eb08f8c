package budget

import (
	"testing"
	"time"
)

// The benchmarks prove the hot path allocates nothing; run them with
// go test -run='^$' -bench=. -benchmem ./budget/

func BenchmarkDeposit(b *testing.B) {
	bg := New(Config{})
	b.ReportAllocs()
	for b.Loop() {
		bg.Deposit()
	}
}

func BenchmarkWithdraw(b *testing.B) {
	bg := New(Config{})
	b.ReportAllocs()
	for b.Loop() {
		bg.Withdraw() // mostly denied once the floor is spent
	}
}

// BenchmarkWithdrawAt is the arithmetic without time.Now, rotating one bucket
// per 50 calls.
func BenchmarkWithdrawAt(b *testing.B) {
	bg := New(Config{})
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Millisecond)
		bg.depositAt(now)
		bg.withdrawAt(now)
	}
}

// BenchmarkParallelMixed is the shared case: every goroutine deposits once and
// asks for one extra, as a retry and a hedge stage sharing one Budget would.
func BenchmarkParallelMixed(b *testing.B) {
	bg := New(Config{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bg.Deposit()
			bg.Withdraw()
		}
	})
}

// BenchmarkRecord is the failure gate's bookkeeping, one success and one
// failure per iteration.
func BenchmarkRecord(b *testing.B) {
	bg := New(Config{})
	b.ReportAllocs()
	for b.Loop() {
		bg.RecordSuccess()
		bg.RecordFailure()
	}
}
