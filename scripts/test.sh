#!/usr/bin/env bash
# Runs every test in the repository, race detector on, after the docs check
# (internal/cmd/docscheck): the core module, then
# the nested bench module (peer comparison), whose benchmarks run once each
# as a smoke test, then the nested redisstate module against real
# redis-servers (installed first when missing), then the nested
# OpenTelemetry instrumentation module and its Prometheus example (a
# module of its own too). This is the command the README gives and CI
# runs.
#
# Allocation counts are exact only without the race detector (under it
# sync.Pool drops items at random), so the tests that pin them (every
# Test*Allocs) skip under -race; a second pass per module runs them
# without it. A module that gains such a test gains the pass too.
set -euo pipefail
cd "$(dirname "$0")/.."

# The docs first (seconds): every Go snippet in README.md, docs/ and the
# nested modules' READMEs compiles, and every relative link resolves.
go run ./internal/cmd/docscheck

./scripts/redis-server.sh

go test -race ./...
go test -run 'Allocs' ./...

# The bench module's fake-clock labs simulate minutes of traffic each: on
# the 2-core machine at load 15, under -race, they took over 10 minutes and
# hit go test's default 10-minute timeout. A hang would show long before
# 25 minutes; a slow machine is not a failure.
cd bench
go test -race -timeout 25m -bench=. -benchtime=1x ./...

cd ../redisstate
go test -race -bench=. -benchtime=1x ./...

cd ../instrumentation/oteltailguard
go test -race -bench=. -benchtime=1x ./...
go test -run 'Allocs' ./...

cd ../../examples/prometheus
go test -race ./...
