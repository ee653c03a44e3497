#!/usr/bin/env bash
# Idempotent installer for everything TinyOdl needs on Debian 12.
# Installs only what is missing, so a second run costs a few dpkg queries.
set -euo pipefail

PACKAGES=(clang-19 lld-19 llvm-19 gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc make)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "toolchain: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
