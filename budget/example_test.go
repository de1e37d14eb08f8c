package budget_test

import (
	"fmt"

	"github.com/tailguard/tailguard/budget"
)

// One budget shared by a hedge stage and a retry stage: together they may add
// 20% to the traffic plus the floor, however the extras split between them.
func Example() {
	b := budget.New(budget.Config{MinPerSecond: 0.5}) // floor: 5 extras per 10 s

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
	// {Deposits:100 Withdrawals:25 Denied:10}
}

// The floor lets a quiet client retry: with no traffic at all, MinPerSecond ×
// Window extras are still allowed per window.
func ExampleConfig_floor() {
	b := budget.New(budget.Config{MinPerSecond: 1}) // 1/s over the default 10 s window

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

// The zero Config is Finagle's and Linkerd's budget.
func ExampleNew() {
	b := budget.New(budget.Config{})
	fmt.Println(b)
	// Output:
	// budget{ratio=0.2 floor=100/10s deposits=0 withdrawals=0 denied=0}
}
