#!/usr/bin/env bash
# Makes sure redis-server (Debian's package) is installed: the redisstate
# module's tests start real ones on free loopback ports. Installs it with
# apt-get when missing. If that is impossible, it fails under CI=true, and
# elsewhere warns and lets the run go on (those tests then skip, saying so).
set -euo pipefail

cannot() {
  echo "redis-server is missing and could not be installed: $1" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
  echo "WARNING: the redisstate tests will be skipped (apt-get install redis-server to run them)" >&2
  exit 0
}

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
echo "== redis-server missing: installing Debian's package"
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || cannot "not root and no sudo"
  sudo=sudo
fi
command -v apt-get >/dev/null 2>&1 || cannot "no apt-get on this system"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || cannot "apt-get update failed"
$sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null || cannot "apt-get install failed"
command -v redis-server >/dev/null 2>&1 || cannot "installed, but not in PATH"
redis-server --version
