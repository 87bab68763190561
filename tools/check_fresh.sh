#!/usr/bin/env bash
# tools/check_fresh.sh [--keep] [--head] [DIR] — the honest test of the README's two commands:
# `make demo` and `make test`, as root, in a bare Debian bookworm (a debootstrap minbase chroot:
# no compiler, no make, no sudo) holding a copy of this tree. Prints each command's exit status,
# its last lines and how long it took; exits 0 only if both passed. Needs root (debootstrap,
# chroot, mount).
#
#   DIR     where the chroot lives, default /var/tmp/nsim-fresh. DIR/base is the bare system,
#           made once and reused; each run works in DIR/root, a new copy of it, so every run
#           starts bare; logs go to DIR/logs.
#   --keep  reuse DIR/root as the last run left it (packages installed: a quick rerun).
#   --head  copy `git archive HEAD` instead of the working tree (tracked files plus untracked,
#           not ignored ones, less build*/ and out/).
# The Debian mirror is the one the host's apt uses (NSIM_MIRROR overrides it).
set -euo pipefail

keep=0 head=0 dir=/var/tmp/nsim-fresh
for a in "$@"; do
    case $a in
        --keep) keep=1 ;;
        --head) head=1 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        -*) echo "check_fresh: unknown option $a" >&2; exit 2 ;;
        *) dir=$a ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "check_fresh: needs root (debootstrap, chroot, mount)" >&2; exit 2; }
dir=$(realpath -m "$dir")
case $dir in /|/*/*) [ "$dir" != / ] ;; *) false ;; esac ||
    { echo "check_fresh: refusing DIR=$dir: give a folder at least two levels deep" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
base=$dir/base root=$dir/root logs=$dir/logs
mkdir -p "$dir" "$logs"

# The mirror the host's apt uses for bookworm: one-line sources (deb [opts] URI SUITE ...) and
# deb822 stanzas (Types/URIs/Suites).
host_mirror() {
    {
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while (i <= NF && $i !~ /\]$/) i++;
                               if ($2 ~ /^\[/) i++; if ($(i + 1) == "bookworm") print $i }'
        cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
            awk 'BEGIN { RS = ""; FS = "\n" }
                 { types = uris = suites = ""; on = 1
                   for (i = 1; i <= NF; i++) {
                       if ($i ~ /^#/) continue
                       split($i, kv, ":"); k = tolower(kv[1]); v = substr($i, length(kv[1]) + 2)
                       if (k == "types") types = v; else if (k == "uris") uris = v
                       else if (k == "suites") suites = v
                       else if (k == "enabled" && v ~ /no/) on = 0 }
                   if (on && types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ /[ \t]bookworm[ \t]/) {
                       n = split(uris, u, /[ \t]+/); for (j = 1; j <= n; j++) if (u[j] != "") { print u[j]; exit } } }'
    } | head -n 1
}

# Unmount whatever is mounted under $root; never remove a tree with something mounted in it.
unmount_all() {
    local m
    for m in $(awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m"
    done
}
safe_rm() {  # safe_rm FOLDER (inside $dir)
    if awk -v r="$1" '$2 == r || index($2, r "/") == 1 { found = 1 } END { exit !found }' /proc/mounts; then
        echo "check_fresh: $1 still has mounts under it: not removing it" >&2; exit 1
    fi
    rm -rf --one-file-system "$1"
}
trap unmount_all EXIT

# 1. The bare system, made once.
if [ ! -f "$base/.nsim-base-ok" ]; then
    if ! command -v debootstrap >/dev/null; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
    fi
    mirror=${NSIM_MIRROR:-$(host_mirror)}
    [ -n "$mirror" ] || { echo "check_fresh: no bookworm mirror in the host's apt sources: set NSIM_MIRROR" >&2; exit 1; }
    echo "check_fresh: debootstrap --variant=minbase bookworm from $mirror (once, into $base)"
    safe_rm "$base"
    t=$SECONDS
    debootstrap --variant=minbase bookworm "$base" "$mirror" >"$logs/debootstrap.log" 2>&1 ||
        { tail -n 20 "$logs/debootstrap.log"; echo "check_fresh: debootstrap failed" >&2; exit 1; }
    touch "$base/.nsim-base-ok"
    echo "check_fresh: bare system made in $((SECONDS - t)) s"
fi

# 2. A fresh copy of it (unless --keep), the tree, and what the chroot needs to run.
unmount_all
if [ "$keep" = 0 ] || [ ! -d "$root" ]; then
    safe_rm "$root"
    cp -a "$base" "$root"
fi
safe_rm "$root/root/nsim"
mkdir -p "$root/root/nsim"
if [ "$head" = 1 ]; then
    git -C "$repo" archive HEAD | tar -x -C "$root/root/nsim"
else
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do
            case $f in build/*|build-*/*|out/*) continue ;; esac  # even if not ignored
            [ -e "$f" ] && printf '%s\0' "$f"
        done |
        tar --null -T - -c) | tar -x -C "$root/root/nsim"
fi
rm -f "$root/etc/resolv.conf"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"

# 3. The commands, as root, with no stdin and a plain environment.
rc_setup=- rc_demo=- rc_test=- time_setup=0
in_chroot() {  # in_chroot NAME COMMAND: run it, log it, time it; sets rc_NAME and time_NAME
    local t=$SECONDS rc=0
    echo "check_fresh: [chroot] $2"
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 CI=true \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "cd /root/nsim && $2" </dev/null >"$logs/$1.log" 2>&1 || rc=$?
    printf -v "rc_$1" %s "$rc"
    printf -v "time_$1" %s "$((SECONDS - t))"
}
if ! chroot "$root" /bin/sh -c 'command -v make' >/dev/null; then
    echo "check_fresh: a bare Debian has no make: running tools/setup.sh first (it installs make)"
    in_chroot setup "sh tools/setup.sh"
    echo "  exit $rc_setup after ${time_setup} s; log $logs/setup.log"
fi
in_chroot demo "make demo"
in_chroot test "make test"
for s in demo test; do
    rc=rc_$s t=time_$s
    echo "== make $s: exit ${!rc} after ${!t} s (log $logs/$s.log); last lines:"
    tail -n 8 "$logs/$s.log" | sed 's/^/   | /'
done
[ "$rc_demo" = 0 ] && [ "$rc_test" = 0 ]
