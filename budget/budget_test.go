package budget

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is one instant in a budget's life: record deposits, then ask for
// withdrawals, and expect how many were granted.
type step struct {
	at        time.Duration // offset from t0
	deposits  int
	withdraws int
	granted   int
}

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func runSteps(t *testing.T, b *Budget, steps []step) {
	t.Helper()
	for i, s := range steps {
		now := t0.Add(s.at)
		for range s.deposits {
			b.depositAt(now)
		}
		granted := 0
		for range s.withdraws {
			if b.withdrawAt(now) {
				granted++
			}
		}
		require.Equal(t, s.granted, granted, "step %d at %v", i, s.at)
	}
}

func TestBudgetSteps(t *testing.T) {
	// Ratio .2, floor 10 over 1 s: 10 extras with no traffic, +1 per 5
	// firsts, in every span of the last second.
	floor10 := Config{Ratio: 0.2, MinPerSecond: 10, Window: time.Second}
	ms := time.Millisecond
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"100 deposits allow exactly 20+10 extras", floor10, []step{
			{0, 100, 31, 30},
			{500 * ms, 0, 1, 0},
		}},
		{"floor alone with no traffic", floor10, []step{
			{0, 0, 11, 10},
		}},
		{"each 5 deposits earn one extra", floor10, []step{
			{0, 0, 10, 10},
			{0, 4, 1, 0},
			{0, 1, 2, 1},
			{0, 5, 2, 1},
		}},
		{"denied withdrawals cost nothing", floor10, []step{
			{0, 0, 15, 10},
			{0, 5, 1, 1},
		}},
		{"extras count for at least a window", floor10, []step{
			{0, 0, 10, 10},
			{1000 * ms, 0, 1, 0},
			{1050 * ms, 0, 11, 10},
		}},
		// Finagle's 10 s window granted all 210 at 900 ms: allowance earned
		// a second ago, spent in a burst.
		{"no burst: firsts fund the spans they are in", floor10, []step{
			{0, 1000, 0, 0},
			{900 * ms, 0, 300, 10},
			{950 * ms, 0, 10, 0},
			{1050 * ms, 0, 10, 0}, // the 10 at 900 ms are still within a second
		}},
		{"steady traffic gets the ratio, span after span", floor10, []step{
			{0, 50, 20, 20},
			{50 * ms, 50, 20, 10},
			{100 * ms, 50, 20, 10},
			{150 * ms, 50, 20, 10},
		}},
		{"gap longer than the window resets", floor10, []step{
			{0, 100, 30, 30},
			{time.Hour, 0, 11, 10},
		}},
		{"clock stepping back keeps counts", floor10, []step{
			{time.Hour, 100, 30, 30},
			{0, 0, 1, 0},
			{1000 * ms, 0, 1, 0},
			{1050 * ms, 0, 11, 10},
		}},
		{"ratio rounding does not deny (0.29 × 100 = 28.999…)", Config{Ratio: 0.29, MinPerSecond: 1e-12}, []step{
			{0, 100, 30, 29},
		}},
		{"tiny floor behaves as zero", Config{Ratio: 0.1, MinPerSecond: 1e-9}, []step{
			{0, 0, 1, 0},
			{0, 30, 4, 3},
		}},
		{"ratio one doubles the load", Config{Ratio: 1, MinPerSecond: 1e-9}, []step{
			{0, 7, 8, 7},
		}},
		{"zero config: 20% plus 10 per second", Config{}, []step{
			{0, 0, 11, 10},
			{0, 1000, 201, 200},
			{1050 * ms, 0, 11, 10},
		}},
		{"a 10 s window banks the floor for 10 s", Config{Window: 10 * time.Second}, []step{
			{0, 0, 101, 100},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, New(tt.cfg), tt.steps)
		})
	}
}

// gateStep is one instant of the failure gate: record outcomes, then ask
// for withdrawals with plenty of deposits behind them.
type gateStep struct {
	failures, successes int
	withdraws, granted  int
}

func TestBudgetFailureGate(t *testing.T) {
	cfg := Config{Ratio: 1, MinPerSecond: 1000}
	tests := []struct {
		name  string
		steps []gateStep
	}{
		{"four failures leave the gate open", []gateStep{{4, 0, 1, 1}}},
		{"five close it (10 → 5 tokens, not above half)", []gateStep{{5, 0, 3, 0}}},
		{"one success reopens it", []gateStep{{5, 0, 1, 0}, {0, 1, 1, 1}}},
		{"failures stop at zero tokens: 6 successes reopen it", []gateStep{
			{100, 0, 1, 0},
			{0, 5, 1, 0}, // 5 tokens
			{0, 1, 1, 1},
		}},
		{"successes stop at the top", []gateStep{{0, 100, 1, 1}, {4, 0, 1, 1}, {1, 0, 1, 0}}},
		{"a flaky upstream keeps it open: 1 in 3 failing", []gateStep{
			{1, 2, 1, 1}, {1, 2, 1, 1}, {1, 2, 1, 1}, {1, 2, 1, 1}, {1, 2, 1, 1}, {1, 2, 1, 1},
		}},
		{"failures outnumbering successes close it", []gateStep{
			{2, 1, 1, 1}, {2, 1, 1, 1}, {2, 1, 1, 1}, {2, 1, 1, 1}, {2, 1, 1, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(cfg)
			for range 1000 {
				b.depositAt(t0)
			}
			for i, s := range tt.steps {
				for range s.failures {
					b.RecordFailure()
				}
				for range s.successes {
					b.RecordSuccess()
				}
				granted := 0
				for range s.withdraws {
					if b.withdrawAt(t0) {
						granted++
					}
				}
				require.Equal(t, s.granted, granted, "step %d", i)
			}
		})
	}
}

func TestBudgetFailureGateStats(t *testing.T) {
	b := New(Config{MaxTokens: 4})
	b.RecordFailure()
	b.RecordFailure()
	assert.False(t, b.Withdraw(), "4 − 2 = 2 tokens: not above half")
	b.RecordSuccess()
	assert.True(t, b.Withdraw(), "2 + 1 tokens")
	assert.Equal(t, Stats{Withdrawals: 1, Denied: 1, Gated: 1, Successes: 1, Failures: 2}, b.Stats())
}

func TestBudgetZeroValueUsesDefaults(t *testing.T) {
	var b Budget
	runSteps(t, &b, []step{{0, 0, 11, 10}, {0, 5, 2, 1}})
	assert.Equal(t, Stats{Deposits: 5, Withdrawals: 11, Denied: 2}, b.Stats())
	for range 5 {
		b.RecordFailure()
	}
	assert.False(t, b.Withdraw(), "the zero Budget's gate holds 10 tokens")
}

func TestBudgetStatsAreCumulative(t *testing.T) {
	b := New(Config{MinPerSecond: 10})
	runSteps(t, b, []step{
		{0, 100, 35, 30},
		{time.Hour, 10, 15, 12},
	})
	assert.Equal(t, Stats{Deposits: 110, Withdrawals: 42, Denied: 8}, b.Stats())
}

func TestBudgetString(t *testing.T) {
	b := New(Config{MinPerSecond: 1})
	b.depositAt(t0)
	b.withdrawAt(t0)
	b.RecordFailure()
	assert.Equal(t, "budget{ratio=0.2 floor=1/1s tokens=9/10 deposits=1 withdrawals=1 denied=0 gated=0}", b.String())
	var zero Budget
	assert.True(t, strings.HasPrefix(zero.String(), "budget{ratio=0.2 floor=10/1s tokens=10/10 "), zero.String())
}

// TestBudgetRecoversAfterWindow drives the public methods on synctest's fake
// clock: time.Sleep advances time.Now exactly and instantly.
func TestBudgetRecoversAfterWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{}) // floor: 10 extras per second
		drain := func() int {
			n := 0
			for b.Withdraw() {
				n++
			}
			return n
		}
		require.Equal(t, 10, drain(), "floor with no traffic")
		time.Sleep(900 * time.Millisecond)
		require.False(t, b.Withdraw(), "extras still in the window after 0.9 s")
		for range 50 {
			b.Deposit()
		}
		require.Equal(t, 10, drain(), "50 deposits earn 10 extras")
		time.Sleep(150 * time.Millisecond) // the first 10 extras leave; deposits and the other extras stay
		require.Equal(t, 10, drain())
		time.Sleep(1050 * time.Millisecond) // a window and a bucket: back to the floor
		require.Equal(t, 10, drain())
		assert.Equal(t, Stats{Deposits: 50, Withdrawals: 40, Denied: 5}, b.Stats())
	})
}

// TestBudgetConcurrentAtOneInstant races many goroutines at a fixed instant,
// where the bound is exact.
func TestBudgetConcurrentAtOneInstant(t *testing.T) {
	const (
		goroutines = 32
		perG       = 500
		asksPerDep = 3 // demand well above the 20% budget
	)
	b := New(Config{Ratio: 0.2, MinPerSecond: 10})
	var granted atomic.Uint64
	var over atomic.Uint64 // grants observed beyond the bound at the time
	var deposited atomic.Uint64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range perG {
				b.depositAt(t0)
				deposited.Add(1)
				for range asksPerDep {
					if b.withdrawAt(t0) {
						// Every grant is backed by a deposit already made.
						g := granted.Add(1)
						if float64(g) > 0.2*float64(goroutines*perG)+10 {
							over.Add(1)
						}
					}
				}
			}
		})
	}
	wg.Wait()

	st := b.Stats()
	total := uint64(goroutines * perG)
	assert.Zero(t, over.Load())
	assert.Equal(t, total, st.Deposits)
	assert.Equal(t, granted.Load(), st.Withdrawals)
	assert.Equal(t, total*asksPerDep, st.Withdrawals+st.Denied)
	// Demand exceeds supply and every goroutine asks after its last deposit,
	// so the budget ends exactly full.
	assert.Equal(t, uint64(0.2*float64(total))+10, st.Withdrawals)
}

// TestBudgetConcurrentPublic races the public methods. The window is long
// enough that nothing expires during the test, so grants can never exceed
// Ratio × deposits + floor.
func TestBudgetConcurrentPublic(t *testing.T) {
	const goroutines, perG = 16, 1000
	b := New(Config{Ratio: 0.1, MinPerSecond: 0.01, Window: time.Hour}) // floor 36
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Go(func() {
			for range perG {
				if i%2 == 0 {
					b.Deposit()
				}
				b.Withdraw()
				b.Withdraw()
			}
		})
	}
	wg.Wait()
	st := b.Stats()
	require.Equal(t, uint64(goroutines/2*perG), st.Deposits)
	assert.LessOrEqual(t, float64(st.Withdrawals), 0.1*float64(st.Deposits)+36)
	assert.Equal(t, uint64(goroutines*perG*2), st.Withdrawals+st.Denied)
}
