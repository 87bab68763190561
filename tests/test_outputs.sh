#!/bin/bash
# tests/test_outputs.sh — nothing a run recorded is lost or mixed with another run's: an earlier
# run in the output folder is moved aside whole (DIR.N), an error once the run has simulated keeps
# its records and says so in run.json, a mistyped --set is refused before anything runs, and
# SIGINT/SIGTERM stop a run at its next window with whole records and run.json "interrupted".
set -u
. "$(dirname "$0")/lib.sh"
test_workdir out
sums() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum); } # a folder's fingerprint
spikes_match_json() { # the lines of spikes.csv (less its header) are run.json's spike count
    local n
    n=$(grep -o '"spikes": [0-9]*' "$1/run.json" | grep -o '[0-9]*$')
    [ -n "$n" ] && [ "$(($(wc -l <"$1/spikes.csv") - 1))" -eq "$n" ]
}
whole_lines() { # every line of a spikes.csv after its header is "time,neuron", the last one ended
    [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] &&
        awk -F, 'NR > 1 && !($1 ~ /^[0-9.]+$/ && $2 ~ /^[0-9]+$/ && NF == 2) { bad = 1 } END { exit bad }' "$1"
}
cuba="$ROOT/examples/cuba.lua"

# --- a second run into the folder of a first: the first is moved aside whole, byte for byte ---
"$NSIM" run "$cuba" --set t_ms=200 --out "$work/c" --quiet >/dev/null 2>&1
sums "$work/c" >"$work/first.sums"
"$NSIM" run "$cuba" --set t_ms=300 --seed 2 --out "$work/c" --quiet >/dev/null 2>"$work/err"
st=$?
check "second run: status 0 ($(cat "$work/err"))" [ $st -eq 0 ]
check "the first run is whole in c.1" cmp -s "$work/first.sums" <(sums "$work/c.1")
check "run.json names where the earlier run went" grep -qF "\"previous_run\": \"$work/c.1\"" "$work/c/run.json"
check "the second run's records are its own (300 ms, seed 2)" grep -q '"simulated_ms": 300,' "$work/c/run.json"
check "the second run's spikes.csv agrees with its run.json" spikes_match_json "$work/c"
"$NSIM" run "$cuba" --set t_ms=200 --out "$work/c" >/dev/null 2>"$work/err"
check "a third run goes on to c.2 and says so" grep -qF "is kept in $work/c.2" "$work/err"

# --- input refused before the run leaves the earlier run in place, untouched ---
sums "$work/c" >"$work/before.sums"
sed 's/local E = net:population("lif"/local E = net:population("lfi"/' "$cuba" >"$work/badmodel.lua"
"$NSIM" run "$work/badmodel.lua" --set t_ms=200 --out "$work/c" >/dev/null 2>"$work/err"
st=$?
check "bad model: status 2 ($(cat "$work/err"))" [ $st -eq 2 ]
check "bad model: the earlier run is in place, byte for byte" cmp -s "$work/before.sums" <(sums "$work/c")
check "bad model: no c.3" [ ! -e "$work/c.3" ]
# a record opened, then bad input before any simulation: the earlier run comes back
sed '17s/{bin = 1}/{bins = 1}/' "$cuba" >"$work/badrate.lua"
grep -q 'record_rate({E, I}, {bins = 1})' "$work/badrate.lua" && {
    "$NSIM" run "$work/badrate.lua" --set t_ms=200 --out "$work/c" >/dev/null 2>"$work/err"
    check "bad record_rate option: status 2" [ $? -eq 2 ]
    check "bad record_rate option: the earlier run is back, byte for byte" cmp -s "$work/before.sums" <(sums "$work/c")
    check "bad record_rate option: no c.3" [ ! -e "$work/c.3" ]
}

# --- a folder nsim did not make is not mixed with a run ---
mkdir -p "$work/mine" && echo "my notes" >"$work/mine/notes.txt"
"$NSIM" run "$cuba" --set t_ms=100 --out "$work/mine" >/dev/null 2>"$work/err"
check "a non-empty folder without run.json: status 2" [ $? -eq 2 ]
check "... one line naming the folder" grep -qx "nsim: $work/mine: output folder holds files that no nsim run wrote (it has no run.json); give a new or empty folder with --out" "$work/err"
check "... left as it was" [ "$(ls "$work/mine")" = notes.txt ]
mkdir -p "$work/empty"
"$NSIM" run "$cuba" --set t_ms=100 --out "$work/empty" --quiet >/dev/null 2>&1
check "an empty folder is used as it is" [ -s "$work/empty/spikes.csv" ]
check "... and this run's own files are not moved aside as an earlier run" [ ! -e "$work/empty.1" ]
check "... its spikes.csv agrees with its run.json" spikes_match_json "$work/empty"

# --- the issue's case: a Lua error after net:run keeps this run and the earlier one ---
sed '25s/{bin = 1}/{bins = 1}/' "$cuba" >"$work/late.lua"
rm -rf "$work/l" "$work/l.1"
"$NSIM" run "$cuba" --set t_ms=200 --out "$work/l" --quiet >/dev/null 2>&1
sums "$work/l" >"$work/l.sums"
"$NSIM" run "$work/late.lua" --set t_ms=400 --out "$work/l" >/dev/null 2>"$work/err"
check "late error: status 1" [ $? -eq 1 ]
check "late error: the first line names the script's line and says the records are kept" \
    grep -q "^nsim: $work/late.lua:25: nsim.psd: unknown option 'bins'.*what was recorded until then is kept in $work/l/" "$work/err"
check "late error: run.json says failed" grep -q '"status": "failed"' "$work/l/run.json"
check "late error: run.json gives the message" grep -q '"error": ".*late.lua:25: nsim.psd: unknown option' "$work/l/run.json"
check "late error: spikes.csv kept, as many lines as run.json counts" spikes_match_json "$work/l"
check "late error: rate.csv and raster.png kept" [ -s "$work/l/rate.csv" -a -s "$work/l/raster.png" ]
check "late error: the earlier run whole in l.1" cmp -s "$work/l.sums" <(sums "$work/l.1")

# --- nsim analyze and nsim plot replace no file: the run's stats.csv and raster.png stay ---
sums "$work/l" >"$work/l2.sums"
"$NSIM" analyze "$work/l/spikes.csv" --bin 2 >/dev/null 2>"$work/err"
st=$?
check "analyze beside a run's stats.csv: status 2" [ $st -eq 2 ]
check "... one line naming the file" grep -qx "nsim: $work/l/stats.csv exists already: nsim does not replace a file an earlier run or command made; give another --out, or remove it" "$work/err"
"$NSIM" plot raster "$work/l/spikes.csv" --out "$work/l/raster.png" >/dev/null 2>"$work/err"
st=$?
check "plot over a run's raster.png: status 2" [ $st -eq 2 ]
check "... the run's folder unchanged, byte for byte" cmp -s "$work/l2.sums" <(sums "$work/l")
"$NSIM" analyze "$work/l/spikes.csv" --bin 2 --out "$work/l_an" >/dev/null 2>"$work/err"
st=$?
check "analyze into another folder ($(cat "$work/err"))" [ $st -eq 0 -a -s "$work/l_an/stats.csv" -a -s "$work/l_an/psd.csv" ]

# --- a matrix whose last row was cut short: the row is dropped, and the command says so ---
printf '0,1,2\n3,4,5\n6,7' >"$work/torn.csv"
"$NSIM" plot heatmap "$work/torn.csv" --out "$work/torn.png" >/dev/null 2>"$work/err"
st=$?
check "plot heatmap of a torn matrix: status 0 and one warning naming line 3" \
    [ $st -eq 0 -a "$(cat "$work/err")" = "nsim: warning: $work/torn.csv:3: the last line '6,7' has no newline at its end (the file was cut short): dropped" ]

# --- --set: a name no nsim.param call reads is refused before anything runs ---
rm -rf "$work/s"
start=$(date +%s%N)
"$NSIM" run "$cuba" --set N=8000 --set t_ms=100000 --out "$work/s" >/dev/null 2>"$work/err"
st=$?
took=$((($(date +%s%N) - start) / 1000000))
check "--set N: status 2" [ $st -eq 2 ]
check "--set N: one line with the names the script reads" \
    grep -qx "nsim: $cuba:0: --set N=8000: the script reads no parameter 'N' (did you mean 'n'?); it reads t_ms, n" "$work/err"
check "--set N: refused at once (${took} ms), nothing written" [ $took -lt 2000 -a ! -e "$work/s" ]
# a script that computes its parameter names is checked after it ends: the records are kept
cat >"$work/dynamic.lua" <<'LUA'
local names = {"t_ms"}
local t = nsim.param(names[1], 50)
local net = nsim.network{dt = 0.1}
local p = net:population("lif", 20, {I_e = 1000})
net:record_spikes(p)
net:run(t)
LUA
"$NSIM" run "$work/dynamic.lua" --set t_ms=60 --set tau=3 --out "$work/dyn" >/dev/null 2>"$work/err"
check "late --set: status 1" [ $? -eq 1 ]
check "late --set: named" grep -q "dynamic.lua:0: --set tau=3: the script never reads parameter 'tau'" "$work/err"
check "late --set: records kept, run.json failed" grep -q '"status": "failed"' "$work/dyn/run.json"
check "late --set: spikes.csv agrees with run.json" spikes_match_json "$work/dyn"

# --- SIGINT and SIGTERM: stop at the next window, whole records, run.json "interrupted" ---
for sig in INT TERM; do
    rm -rf "$work/sig"
    "$NSIM" run "$cuba" --set t_ms=1000000 --out "$work/sig" --quiet >/dev/null 2>"$work/err" &
    pid=$!
    for _ in $(seq 100); do # until the run is simulating (run.json says so), at most 10 s
        grep -q '"status": "running"' "$work/sig/run.json" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.5
    kill -$sig $pid
    wait $pid
    st=$?
    want=130
    [ $sig = TERM ] && want=143
    check "SIG$sig: status $st, want $want" [ $st -eq $want ]
    check "SIG$sig: one line naming the time" grep -qx "nsim: $cuba:18: interrupted at t = [0-9.]* ms of 1e+06 ms; what was recorded until then is kept in $work/sig/ (run.json says \"interrupted\")" "$work/err"
    check "SIG$sig: run.json says interrupted" grep -q '"status": "interrupted"' "$work/sig/run.json"
    check "SIG$sig: spikes.csv in whole lines" whole_lines "$work/sig/spikes.csv"
    check "SIG$sig: spikes.csv agrees with run.json" spikes_match_json "$work/sig"
    t_end=$(grep -o '"simulated_ms": [0-9.e+]*' "$work/sig/run.json" | head -n 1 | grep -o '[0-9.e+]*$')
    check "SIG$sig: no spike after the time run.json gives ($t_end ms)" \
        awk -F, -v t="$t_end" 'NR > 1 && $1 > t { bad = 1 } END { exit bad }' "$work/sig/spikes.csv"
    "$NSIM" analyze "$work/sig/spikes.csv" --out "$work/sig_an_$sig" >/dev/null 2>"$work/err"
    st=$?
    check "SIG$sig: nsim analyze reads the record ($(cat "$work/err"))" [ $st -eq 0 ]
done
# a stop while the script is busy in Lua, before any simulation: nothing written
cat >"$work/busy.lua" <<'LUA'
local net = nsim.network{dt = 0.1}
local p = net:population("lif", 10)
net:record_spikes(p)
local x = 0
print("busy") io.stdout:flush()
for k = 1, 1e12 do x = x + k end
net:run(10)
LUA
rm -rf "$work/busy"
"$NSIM" run "$work/busy.lua" --out "$work/busy" >"$work/busy.out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do # until the script is in its loop (the handler is in place by then), at most 10 s
    grep -q busy "$work/busy.out" 2>/dev/null && break
    sleep 0.1
done
sleep 0.2
kill -INT $pid
wait $pid
st=$?
check "SIGINT in a Lua loop: status 130 ($st)" [ $st -eq 130 ]
check "SIGINT in a Lua loop: one line" grep -qx "nsim: $work/busy.lua:6: interrupted; nothing was simulated, nothing written" "$work/err"
check "SIGINT in a Lua loop: no folder left" [ ! -e "$work/busy" ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
