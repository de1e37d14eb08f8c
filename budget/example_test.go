package budget_test

import (
	"fmt"

	"github.com/tailguard/tailguard/budget"
)

// One budget shared by a hedge stage and a retry stage: together they may add
// 20% to the traffic plus the floor, however the extras split between them.
func Example() {
	b := budget.New(budget.Config{MinPerSecond: 5}) // floor: 5 extras per second

	for range 100 { // 100 logical requests, one Deposit each
		b.Deposit()
	}

	hedges := 0
	for range 15 { // the hedge stage fires 15 hedges
		if b.Withdraw() {
			hedges++
		}
	}
	retries := 0
	for range 20 { // the retry stage wants 20 retries
		if b.Withdraw() {
			retries++
		}
	}

	fmt.Println("hedges:", hedges, "retries:", retries)
	fmt.Printf("%+v\n", b.Stats())
	// Output:
	// hedges: 15 retries: 10
	// {Deposits:100 Withdrawals:25 Denied:10 Gated:0 Successes:0 Failures:0}
}

// The floor lets a quiet client retry: with no traffic at all, MinPerSecond ×
// Window extras are still allowed in every window.
func ExampleConfig_floor() {
	b := budget.New(budget.Config{}) // 10 per second over the default 1 s window

	granted := 0
	for range 15 {
		if b.Withdraw() {
			granted++
		}
	}
	fmt.Println("granted without traffic:", granted)
	// Output:
	// granted without traffic: 10
}

// The failure gate stops a quiet client from retrying into a dead upstream:
// after 5 failures (10 tokens, 1 per failure) nothing more is granted,
// though the floor alone would allow it; successes earn the tokens back.
func ExampleBudget_RecordFailure() {
	b := budget.New(budget.Config{})
	for range 5 {
		b.RecordFailure()
	}
	fmt.Println("after 5 failures:", b.Withdraw())
	b.RecordSuccess() // and one back
	fmt.Println("after a success:", b.Withdraw())
	// Output:
	// after 5 failures: false
	// after a success: true
}

// The zero Config: Finagle's and Linkerd's ratio and floor, over one second,
// and gRPC's 10 tokens.
func ExampleNew() {
	b := budget.New(budget.Config{})
	fmt.Println(b)
	// Output:
	// budget{ratio=0.2 floor=10/1s tokens=10/10 deposits=0 withdrawals=0 denied=0 gated=0}
}
