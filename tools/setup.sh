#!/bin/sh
# tools/setup.sh — install, when missing, the Debian packages that nsim's build and tests use.
# `make` runs it every time: when nothing is missing it prints nothing and takes a few
# milliseconds (one dpkg-query). Otherwise it runs apt-get update and apt-get install, as root,
# through sudo when not root, or says what to install and exits 1.
set -eu

# What meson.build uses today (python3-dev: the Python module's headers). build-essential brings the C compiler, the C library headers and
# make; meson brings python3; fonts-dejavu-core is the face cairo draws figure text with.
PACKAGES="build-essential meson ninja-build pkg-config
  liblua5.4-dev librandom123-dev libcairo2-dev libpng-dev fonts-dejavu-core libfftw3-dev
  libsundials-dev libgsl-dev libopenblas-dev zlib1g-dev dataset-fashion-mnist python3-numpy
  libopenmpi-dev openmpi-bin clang libclang-rt-14-dev python3-dev"

# What the tests compare against, never what the build needs: pandas for the readers' DataFrames,
# PyNN with its Brian2 backend and Neo for the pyNN.nsim backend's side-by-side checks. Without
# them those tests skip, say why and count it.
PACKAGES="$PACKAGES python3-pandas python3-pynn python3-neo python3-brian"

# dataset-fashion-mnist is data, not a library: the training examples and tests read it
# (train/dataset.c) from its Debian location.

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "setup: no dpkg-query (not Debian?): make sure these, or your system's equivalents, are installed:" >&2
    echo "  $(echo $PACKAGES)" >&2
    exit 0
fi

# One dpkg-query for all of them; a package it has never heard of prints nothing on stdout.
# shellcheck disable=SC2086
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $PACKAGES 2>/dev/null || true)
missing=$(for p in $PACKAGES; do
    printf '%s\n' "$installed" | grep -qx "$p install ok installed" || printf '%s ' "$p"
done)
[ -z "$missing" ] && exit 0

echo "setup: installing missing Debian packages: $missing"
if [ "$(id -u)" = 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "setup: not root and no sudo: as root, run" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends $missing" >&2
    exit 1
fi
# shellcheck disable=SC2086
$as_root apt-get update -q
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
