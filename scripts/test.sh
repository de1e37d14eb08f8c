#!/usr/bin/env bash
# Runs every test in the repository, race detector on: the core module, then
# the nested bench module (peer comparison), whose benchmarks run once each
# as a smoke test, then the nested redisstate module against real
# redis-servers (installed first when missing), then the nested
# OpenTelemetry instrumentation module and its Prometheus example (a
# module of its own too). This is the command the README gives and CI
# runs.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/redis-server.sh

go test -race ./...

cd bench
go test -race -bench=. -benchtime=1x ./...

cd ../redisstate
go test -race -bench=. -benchtime=1x ./...

cd ../instrumentation/oteltailguard
go test -race -bench=. -benchtime=1x ./...

cd ../../examples/prometheus
go test -race ./...
