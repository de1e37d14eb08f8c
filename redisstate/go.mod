module github.com/tailguard/tailguard/redisstate

go 1.26.0

replace github.com/tailguard/tailguard => ../

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/tailguard/tailguard v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
	golang.org/x/time v0.15.0
)

require (
	github.com/cenkalti/backoff/v4 v4.3.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
