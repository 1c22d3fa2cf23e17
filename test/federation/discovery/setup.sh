#!/usr/bin/env bash
# Sets up what the server-discovery tests run for real: dnsmasq (a DNS server
# the tests start on a loopback port with a generated zone) and the openssl
# CLI (a test CA and server certificate for HTTPS servers on 127.0.0.x).
# Idempotent: does nothing when both are installed. Installs with apt-get
# (as root, or with sudo) when one is missing; dnsmasq-base is the binary
# alone, without a system service that would take port 53.
# Prints one line on success; on failure, what went wrong.
set -euo pipefail

dnsmasq_bin() { command -v dnsmasq 2>/dev/null || { [ -x /usr/sbin/dnsmasq ] && echo /usr/sbin/dnsmasq; }; }
missing=()
dnsmasq_bin >/dev/null || missing+=(dnsmasq-base)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "Discovery test tools: up to date ($("$(dnsmasq_bin)" --version | head -1 | cut -d' ' -f1-3); $(openssl version | cut -d' ' -f1-2))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Discovery test tools: missing ${missing[*]}, and there is no apt-get: install them with the system's package manager" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "Discovery test tools: missing ${missing[*]}; run as root (or with sudo) to install them" >&2
    exit 1
  fi
fi

echo "Discovery test tools: installing ${missing[*]} with apt-get"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { "${sudo[@]}" apt-get update -qq >>"$log" 2>&1 &&
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; }; then
  echo "Discovery test tools: apt-get install ${missing[*]} failed" >&2
  cat "$log" >&2
  exit 1
fi
echo "Discovery test tools: installed ${missing[*]}"
