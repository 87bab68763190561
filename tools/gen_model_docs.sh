#!/bin/sh
# tools/gen_model_docs.sh — refresh the generated tables of docs/models.md: every block between
# "<!-- nsim models --markdown NAME begin -->" and "... NAME end -->" becomes what
# `nsim models --markdown NAME` prints; the prose around the blocks is kept as it is.
# usage: tools/gen_model_docs.sh [NSIM [MODELS.md]]   (defaults: build/nsim, docs/models.md)
# tests/test_registry.c fails when a block differs from the command's output, or a model has none.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
nsim=${1:-$root/build/nsim}
doc=${2:-$root/docs/models.md}
[ -x "$nsim" ] || { echo "gen_model_docs: $nsim is not an executable nsim (build it first: make build)" >&2; exit 2; }
[ -f "$doc" ] || { echo "gen_model_docs: $doc: no such file" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the tables of every model named by a begin marker, each in a file of its own
for name in $(sed -n 's/^<!-- nsim models --markdown \([A-Za-z0-9_]*\) begin -->$/\1/p' "$doc"); do
    "$nsim" models --markdown "$name" > "$tmp/$name.md" || { echo "gen_model_docs: $doc: no model '$name'" >&2; exit 2; }
done
awk -v dir="$tmp" -v doc="$doc" '
    function fail(msg) { printf "gen_model_docs: %s:%d: %s\n", doc, NR, msg > "/dev/stderr"; bad = 1; exit 2 }
    /^<!-- nsim models --markdown [A-Za-z0-9_]+ begin -->$/ {
        if (name != "") fail("a begin marker inside the block of " name)
        name = $5; print
        file = dir "/" name ".md"
        while ((getline line < file) > 0) print line
        close(file)
        next
    }
    /^<!-- nsim models --markdown [A-Za-z0-9_]+ end -->$/ {
        if ($5 != name) fail("end marker of " $5 " without its begin marker")
        name = ""; print; next
    }
    name == "" { print }
    END { if (!bad && name != "") fail("the block of " name " has no end marker") }
' "$doc" > "$tmp/out.md"
for name in $("$nsim" models | awk '{print $1}'); do
    grep -qx "<!-- nsim models --markdown $name begin -->" "$doc" ||
        echo "gen_model_docs: note: model $name has no block in $doc (the tests require one)" >&2
done
if cmp -s "$tmp/out.md" "$doc"; then
    echo "gen_model_docs: $doc is up to date"
else
    cat "$tmp/out.md" > "$doc"
    echo "gen_model_docs: refreshed the tables in $doc"
fi
