#!/usr/bin/env bash
# Fetches the UCI handwritten digits data set (digits.csv.gz, 57 KB) from Debian's python3-sklearn package,
# without installing Python: apt-get download + dpkg-deb -x. Usage: fetch-digits.sh DEST_DIR
set -euo pipefail
dest=${1:?usage: fetch-digits.sh DEST_DIR}
[ -s "$dest/digits.csv.gz" ] && exit 0
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
if ! apt-get download python3-sklearn >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  apt-get download python3-sklearn >/dev/null
fi
dpkg-deb -x python3-sklearn_*.deb extracted
cp extracted/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz "$dest/digits.csv.gz.part"
mv "$dest/digits.csv.gz.part" "$dest/digits.csv.gz"
echo "data: fetched digits.csv.gz from python3-sklearn" >&2
