module github.com/tailguard/tailguard

go 1.25
