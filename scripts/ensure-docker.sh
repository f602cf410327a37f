#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`.
# - Does nothing when one already runs (at DOCKER_HOST, or the local socket).
# - On Debian/Ubuntu as root: installs Debian's docker.io (and debootstrap, which the lab uses to make
#   its base image when no registry answers), starts dockerd, and waits until it answers.
# - Elsewhere: says what to install, and exits 1.
set -euo pipefail

say() { printf 'ensure-docker: %s\n' "$*" >&2; }

engine_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

if engine_answers; then
  say "an engine already answers ($(docker version --format 'Docker {{.Server.Version}}' 2>/dev/null || echo running)); nothing to do"
  exit 0
fi
if [ -n "${DOCKER_HOST:-}" ]; then
  say "DOCKER_HOST=$DOCKER_HOST is set but no engine answers there; not starting a local engine instead."
  say "Fix DOCKER_HOST (or unset it to use a local engine) and try again."
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  say "no engine answers and this is not root. Run as root: sudo bash scripts/ensure-docker.sh"
  say "(or install Docker yourself: https://docs.docker.com/engine/install/)"
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "no engine answers and this is not a Debian/Ubuntu system (no apt-get)."
  say "Install a Docker engine for your system (https://docs.docker.com/engine/install/), start it, and run again."
  exit 1
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from the distribution's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  say "starting docker with systemd"
  systemctl start docker
else
  say "starting dockerd in the background (log: /var/log/failover-lab-dockerd.log)"
  nohup dockerd >/var/log/failover-lab-dockerd.log 2>&1 &
fi

for _ in $(seq 1 120); do
  if engine_answers; then
    say "engine ready: $(docker version --format 'Docker {{.Server.Version}} (API {{.Server.APIVersion}})')"
    exit 0
  fi
  sleep 0.5
done
say "dockerd did not answer within 60 s; last lines of its log:"
tail -n 20 /var/log/failover-lab-dockerd.log >&2 2>/dev/null || true
exit 1
