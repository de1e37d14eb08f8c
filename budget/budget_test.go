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
	// Ratio .2, floor 1/s over 10 s: 10 extras with no traffic, +1 per 5 firsts.
	floor1 := Config{Ratio: 0.2, MinPerSecond: 1, Window: 10 * time.Second}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"100 deposits allow exactly 20+10 extras", floor1, []step{
			{0, 100, 31, 30},
			{5 * time.Second, 0, 1, 0},
		}},
		{"floor alone with no traffic", floor1, []step{
			{0, 0, 11, 10},
		}},
		{"each 5 deposits earn one extra", floor1, []step{
			{0, 0, 10, 10},
			{0, 4, 1, 0},
			{0, 1, 2, 1},
			{0, 5, 2, 1},
		}},
		{"denied withdrawals cost nothing", floor1, []step{
			{0, 0, 15, 10},
			{0, 5, 1, 1},
		}},
		{"extras expire with their bucket", floor1, []step{
			{0, 0, 10, 10},
			{9999 * time.Millisecond, 0, 1, 0},
			{10 * time.Second, 0, 11, 10},
		}},
		{"deposits expire with their bucket", floor1, []step{
			{0, 50, 0, 0},
			{5 * time.Second, 50, 31, 30},
			// The t=0 deposits leave: 50 firsts allow 10+10, but 30 extras remain.
			{10 * time.Second, 0, 1, 0},
			// The t=5s bucket leaves too: back to the floor.
			{15 * time.Second, 0, 11, 10},
		}},
		{"deposits in the window keep earning", floor1, []step{
			{0, 50, 20, 20},
			{9 * time.Second, 50, 11, 10},
			// The t=0 deposits and extras leave: 50 firsts and 10 extras remain,
			// so 10 more fit.
			{10 * time.Second, 0, 11, 10},
		}},
		{"gap longer than the window resets", floor1, []step{
			{0, 100, 30, 30},
			{time.Hour, 0, 11, 10},
		}},
		{"clock stepping back keeps counts", floor1, []step{
			{time.Hour, 100, 30, 30},
			{0, 0, 1, 0},
			{9 * time.Second, 0, 1, 0},
			{10 * time.Second, 0, 11, 10},
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
		{"zero config: 20% plus 100 per 10 s", Config{}, []step{
			{0, 0, 101, 100},
			{0, 1000, 201, 200},
			{10 * time.Second, 0, 101, 100},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, New(tt.cfg), tt.steps)
		})
	}
}

func TestBudgetZeroValueUsesDefaults(t *testing.T) {
	var b Budget
	runSteps(t, &b, []step{{0, 0, 101, 100}, {0, 5, 2, 1}})
	assert.Equal(t, Stats{Deposits: 5, Withdrawals: 101, Denied: 2}, b.Stats())
}

func TestBudgetStatsAreCumulative(t *testing.T) {
	b := New(Config{MinPerSecond: 1})
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
	assert.Equal(t, "budget{ratio=0.2 floor=10/10s deposits=1 withdrawals=1 denied=0}", b.String())
	var zero Budget
	assert.True(t, strings.HasPrefix(zero.String(), "budget{ratio=0.2 floor=100/10s "), zero.String())
}

// TestBudgetRecoversAfterWindow drives the public methods on synctest's fake
// clock: time.Sleep advances time.Now exactly and instantly.
func TestBudgetRecoversAfterWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{MinPerSecond: 1}) // floor: 10 extras per 10 s
		drain := func() int {
			n := 0
			for b.Withdraw() {
				n++
			}
			return n
		}

		require.Equal(t, 10, drain(), "floor with no traffic")
		time.Sleep(9 * time.Second)
		require.False(t, b.Withdraw(), "extras still in the window after 9 s")
		for range 50 {
			b.Deposit()
		}
		require.Equal(t, 10, drain(), "50 deposits earn 10 extras")

		time.Sleep(time.Second) // the first 10 extras leave; deposits and the other extras stay
		require.Equal(t, 10, drain())

		time.Sleep(10 * time.Second) // a whole window: back to the floor
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
	b := New(Config{Ratio: 0.2, MinPerSecond: 1})
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
