#!/usr/bin/env bash
# Make sure qemu is installed when the engine's kernel has no IPVS: the LVS scenarios then run in the
# qemu guest engine (lab/runtime/guest/: Debian's kernel under TCG with a Docker engine inside).
# - Does nothing when qemu-system-x86_64, qemu-img, cpio and debootstrap are all there.
# - Does nothing when the kernel has IPVS (/proc/net/ip_vs, or ip_vs built in or loadable): the
#   engine itself runs the LVS scenarios.
# - On Debian/Ubuntu as root: installs qemu-system-x86 qemu-utils cpio debootstrap (no recommends).
# - Elsewhere: says what to do and exits 0 — the LVS scenarios then skip, naming the reason.
set -euo pipefail

say() { printf 'ensure-qemu: %s\n' "$*" >&2; }
PATH="$PATH:/usr/sbin:/sbin"

missing=()
for tool in qemu-system-x86_64 qemu-img cpio debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -eq 0 ]; then
  say "qemu present: $(qemu-system-x86_64 --version | head -n 1)"
  exit 0
fi
if [ -e /proc/net/ip_vs ] || grep -qs '^CONFIG_IP_VS=[ym]' "/boot/config-$(uname -r)" || { [ -r /proc/config.gz ] && zcat /proc/config.gz | grep -q '^CONFIG_IP_VS=[ym]'; }; then
  say "this kernel has IPVS: the engine runs the LVS scenarios itself; qemu is not needed (missing: ${missing[*]})"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "the kernel has no IPVS and ${missing[*]} is missing; this is not Debian/Ubuntu as root, so nothing is installed."
  say "Install qemu-system-x86 qemu-utils cpio debootstrap, or point FAILOVER_LAB_IPVS_ENGINE at an engine with IPVS;"
  say "until then the LVS scenarios are skipped, with that reason."
  exit 0
fi
say "the kernel has no IPVS: installing qemu for the LVS scenarios' guest engine (${missing[*]} missing)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends qemu-system-x86 qemu-utils cpio debootstrap >/dev/null
say "qemu installed: $(qemu-system-x86_64 --version | head -n 1)"
