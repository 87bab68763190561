#!/bin/bash
# tests/test_cli.sh — the nsim command as a user meets it: the examples run (shortened), the
# subcommands answer, and every kind of bad input gets one line "nsim: FILE:LINE: ...", exit
# status 2 and no output folder; a failure during the run gives status 1 and keeps the records.
set -u
NSIM=${NSIM:-./build/nsim}
ROOT=${NSIM_SOURCE_ROOT:-.}
work=$(mktemp -d "${TMPDIR:-/tmp}/nsim-cli-XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect STATUS PATTERN -- ARGS...: run nsim, check its status, that stderr's first line matches
# PATTERN, and (for status 2) that it printed one line and left no output folder.
expect() {
    local want=$1 pattern=$2
    shift 3
    rm -rf "$work/out"
    "$NSIM" "$@" --out "$work/out" >"$work/stdout" 2>"$work/stderr" </dev/null
    local got=$?
    local first
    first=$(head -n 1 "$work/stderr")
    if [ "$got" -ne "$want" ]; then bad "$*: status $got, want $want ($first)"; return; fi
    if ! grep -qE -- "$pattern" <<<"$first"; then bad "$*: message '$first' does not match '$pattern'"; return; fi
    if [ "$want" -eq 2 ]; then
        [ "$(wc -l <"$work/stderr")" -eq 1 ] || { bad "$*: more than one line on stderr"; return; }
        [ ! -e "$work/out" ] || { bad "$*: left $(ls "$work/out" | tr '\n' ' ')behind"; return; }
    fi
    ok
}

script() { # script NAME BODY: write a script into the work folder
    printf '%s\n' "$2" >"$work/$1"
}

refuse() { # refuse NAME MESSAGE BODY: the script must stop with status 2, one line "NAME:MESSAGE"
    script "$1" "$3"
    expect 2 "$1$2" -- run "$work/$1"
}

# kept NAME MESSAGE BODY: an error once the script has simulated: status 1, the message, and the
# folder keeps what was recorded (populations.csv at least) with run.json saying "failed" and why
kept() {
    script "$1" "$3"
    expect 1 "$1$2" -- run "$work/$1"
    grep -q '"status": "failed"' "$work/out/run.json" 2>/dev/null && grep -qF "$1" "$work/out/run.json" &&
        [ -s "$work/out/populations.csv" ] && ok || bad "$1: records and run.json (failed, with the message) not kept"
}

# --- the examples, shortened ---
if "$NSIM" run "$ROOT/examples/cuba.lua" --set t_ms=300 --out "$work/cuba" --quiet >/dev/null 2>"$work/err"; then
    for f in spikes.csv populations.csv rate.csv raster.png run.json; do
        [ -s "$work/cuba/$f" ] && ok || bad "cuba.lua left no $f"
    done
    grep -q '"spikes": [1-9]' "$work/cuba/run.json" && ok || bad "cuba run.json has no spikes"
    [ "$(head -n 1 "$work/cuba/spikes.csv")" = "t_ms,neuron" ] && ok || bad "spikes.csv header"
else
    bad "examples/cuba.lua failed: $(cat "$work/err")"
fi
if "$NSIM" run "$ROOT/examples/brunel.lua" --set t_ms=100 --set scale=0.1 --out "$work/brunel" --quiet --threads 2 >/dev/null 2>"$work/err"; then
    [ -s "$work/brunel/raster.png" ] && ok || bad "brunel.lua left no raster"
else
    bad "examples/brunel.lua failed: $(cat "$work/err")"
fi

if "$NSIM" run "$ROOT/examples/devices.lua" --set t_ms=300 --out "$work/devices" --quiet >"$work/stdout" 2>"$work/err"; then
    for f in dc_trace.csv fed_trace.csv rate.csv raster.png; do
        [ -s "$work/devices/$f" ] && ok || bad "devices.lua left no $f"
    done
    [ "$(head -n 1 "$work/devices/fed_trace.csv")" = "t_ms,neuron,V_m,I_ex" ] && ok || bad "state record header"
    [ "$(wc -l <"$work/devices/dc_trace.csv")" -eq 601 ] && ok || bad "dc_trace.csv: 600 samples of 0.5 ms"
    grep -qE '^dc +[1-9][0-9]* spikes' "$work/stdout" && ok || bad "the DC-driven neurons fire"
else
    bad "examples/devices.lua failed: $(cat "$work/err")"
fi

if "$NSIM" run "$ROOT/tests/lua/analysis.lua" --out "$work/analysis" --quiet >"$work/stdout" 2>"$work/err"; then
    ok
    for f in stats.csv psd.csv summary.png psd.png rate_hist.png isi_hist.png; do
        [ -s "$work/analysis/$f" ] && ok || bad "analysis.lua left no $f"
    done
else
    bad "tests/lua/analysis.lua: $(cat "$work/err")"
fi

if "$NSIM" run "$ROOT/tests/lua/graded.lua" --out "$work/graded" --quiet >"$work/stdout" 2>"$work/err"; then
    [ "$(grep -cE '^graded (cfc|ltc): identity exact' "$work/stdout")" -eq 2 ] && ok || bad "graded.lua: $(cat "$work/stdout")"
else
    bad "tests/lua/graded.lua: $(cat "$work/err")"
fi

# --- analysis from the command line ---
"$NSIM" analyze "$work/cuba/spikes.csv" --out "$work" >/dev/null 2>"$work/err" && ok || bad "nsim analyze: $(cat "$work/err")"
"$NSIM" analyze "$work/cuba/spikes.csv" --stats --out "$work/made/here" >/dev/null 2>"$work/err" && [ -s "$work/made/here/stats.csv" ] \
    && ok || bad "nsim analyze --out makes its folder: $(cat "$work/err")"
[ "$(head -n 1 "$work/stats.csv")" = "population,neurons,spikes,rate_hz,rate_sd_hz,cv_isi_mean,cv_neurons,fano,fano_neurons,fano_pop,corr_mean,pairs,bin_ms,cv_sd,duration_ms,duration_from,neurons_from" ] && ok || bad "stats.csv header"
[ "$(head -n 1 "$work/psd.csv")" = "f_hz,E,I" ] && ok || bad "psd.csv header"
for kind in summary psd rate_hist isi_hist; do
    "$NSIM" plot $kind "$work/cuba/spikes.csv" --out "$work/$kind.png" >/dev/null 2>"$work/err" && [ -s "$work/$kind.png" ] && ok || bad "nsim plot $kind: $(cat "$work/err")"
done
"$NSIM" plot psd "$work/psd.csv" --out "$work/psd_table.png" >/dev/null 2>"$work/err" && ok || bad "nsim plot psd of psd.csv: $(cat "$work/err")"
printf '1,2,3\n4,5,6\n' >"$work/matrix.csv"
"$NSIM" plot heatmap "$work/matrix.csv" --out "$work/heat.png" >/dev/null 2>"$work/err" && ok || bad "nsim plot heatmap: $(cat "$work/err")"
awk 'BEGIN { pi = atan2(0, -1); for (t = 0; t < 100; t++) { l = ""; for (x = 0; x < 8; x++) for (y = 0; y < 8; y++) l = l (l == "" ? "" : ",") sprintf("%.6f", cos(2 * pi * (x / 8 - 40 * t / 1000))); print l } }' >"$work/movie.csv"
"$NSIM" plot spacetime "$work/movie.csv" --nx 8 --ny 8 --dt 1 --dx 100 --out "$work/st.png" >/dev/null 2>"$work/err" && [ -s "$work/st.png" ] && ok || bad "nsim plot spacetime: $(cat "$work/err")"
# two networks in one script: a record is analysed with the populations and the duration of
# the network that wrote it (the second network's populations are populations_2.csv; both
# networks write the default spikes.csv, so it holds the second one's spikes)
script twonets.lua 'local layout = {{"A", 10, "B", 5, 100}, {"C", 20, "D", 5, 300}}
for k, l in ipairs(layout) do
  local net = nsim.network{dt = 0.1}
  local p = net:population("lif", l[2], nil, nil, l[1])
  local q = net:population("lif", l[4], nil, nil, l[3])
  net:dc({p, q}, {amplitude = 500})
  net:record_spikes({p, q}, {file = "net" .. k .. ".csv"})
  net:record_spikes({p, q})
  net:run(l[5])
end'
# check_groups RECORD "NAME NEURONS ..." SECONDS: stats.csv of nsim analyze RECORD has these
# populations, and each rate is its spikes over its neurons and the network's simulated time
check_groups() {
    local rec=$1 want=$2 secs=$3
    rm -f "$work/twonets/stats.csv"
    "$NSIM" analyze "$work/twonets/$rec" --stats >/dev/null 2>"$work/err" || { bad "nsim analyze $rec: $(cat "$work/err")"; return; }
    local got
    got=$(awk -F, 'NR > 1 { printf "%s%s %s", (NR > 2 ? " " : ""), $1, $2 }' "$work/twonets/stats.csv")
    [ "$got" = "$want" ] || { bad "nsim analyze $rec: populations '$got', want '$want'"; return; }
    awk -F, -v s="$secs" 'NR > 1 && ($3 == 0 || (($4 - $3 / ($2 * s)) ^ 2) > 1e-12 * $4 ^ 2) { exit 1 }' \
        "$work/twonets/stats.csv" && ok || bad "nsim analyze $rec: rates are not spikes / (neurons x $secs s): $(cat "$work/twonets/stats.csv")"
}
if "$NSIM" run "$work/twonets.lua" --out "$work/twonets" --quiet >/dev/null 2>"$work/err"; then
    check_groups net1.csv "A 10 B 5" 0.1
    check_groups net2.csv "C 20 D 5" 0.3
    check_groups spikes.csv "C 20 D 5" 0.3
    "$NSIM" plot summary "$work/twonets/net2.csv" --out "$work/twonets/summary.png" >/dev/null 2>"$work/err" \
        && ok || bad "nsim plot summary of a second network's record: $(cat "$work/err")"
else
    bad "twonets.lua: $(cat "$work/err")"
fi
# bad input: one line naming the file, status 2, no output
cli_bad() { # cli_bad PATTERN OUTPUT -- ARGS
    local pattern=$1 out=$2
    shift 3
    rm -f "$out"
    "$NSIM" "$@" >/dev/null 2>"$work/err" </dev/null
    local st=$?
    if [ $st -ne 2 ]; then bad "$*: status $st, want 2"; return; fi
    [ "$(wc -l <"$work/err")" -eq 1 ] || { bad "$*: more than one line"; return; }
    grep -qE -- "$pattern" "$work/err" || { bad "$*: '$(cat "$work/err")' does not match '$pattern'"; return; }
    [ ! -e "$out" ] || { bad "$*: left $out behind"; return; }
    ok
}
printf 't_ms,neuron\n' >"$work/empty.csv"
cli_bad "empty.csv: no spikes to analyse" "$work/x.png" -- plot summary "$work/empty.csv" --out "$work/x.png"
: >"$work/blank.csv"
cli_bad "blank.csv:1: empty file" "$work/x.png" -- plot raster "$work/blank.csv" --out "$work/x.png"
cli_bad "cuba/spikes.csv: .*segment of 100000 samples is longer than the signal" "$work/none" -- analyze "$work/cuba/spikes.csv" --psd --segment 100000 --out "$work/none"
# stats and spectra together: a spectrum that fails late takes the stats.csv made before it along
cli_bad "cuba/spikes.csv: .*segment of 100000 samples is longer than the signal" "$work/both/stats.csv" -- analyze "$work/cuba/spikes.csv" --segment 100000 --out "$work/both"
[ ! -e "$work/both" ] && ok || bad "analyze: a failed run left $(ls "$work/both" 2>&1)"
cli_bad "--bin takes a positive" "$work/x.png" -- plot psd "$work/cuba/spikes.csv" --bin -1 --out "$work/x.png"
cli_bad "no_such.csv: cannot read" "$work/x.png" -- plot psd "$work/no_such.csv" --out "$work/x.png"
printf 't_ms,neuron\n1.0,3\nabc,4\n' >"$work/garbled.csv"
cli_bad "garbled.csv:3: expected a time" "$work/x.png" -- plot summary "$work/garbled.csv" --out "$work/x.png"
cli_bad "movie.csv: 64 columns of 100 frames, expected nx\*ny = 63" "$work/x.png" -- plot spacetime "$work/movie.csv" --nx 9 --ny 7 --dt 1 --dx 100 --out "$work/x.png"
printf '1,2\n3\n' >"$work/ragged.csv"
cli_bad "ragged.csv:2: expected 2 numbers" "$work/x.png" -- plot heatmap "$work/ragged.csv" --out "$work/x.png"

if "$NSIM" run "$ROOT/examples/brunel_states.lua" --set t_ms=200 --set scale=0.1 --out "$work/states" --quiet >"$work/stdout" 2>"$work/err"; then
    [ "$(wc -l <"$work/states/states.csv")" -eq 5 ] && ok || bad "states.csv has four states"
    [ -s "$work/states/spectra.png" ] && [ -s "$work/states/summary_AI.png" ] && ok || bad "brunel_states.lua figures"
    [ -s "$work/states/populations_4.csv" ] && ok || bad "a populations file per network"
else
    bad "examples/brunel_states.lua failed: $(cat "$work/err")"
fi

if "$NSIM" run "$ROOT/examples/cfc_vs_ltc.lua" --set t_ms=200 --set units=8 --out "$work/cfc" --quiet >"$work/stdout" 2>"$work/err"; then
    [ "$(wc -l <"$work/cfc/timing.csv")" -eq 5 ] && ok || bad "timing.csv has four runs"
    [ -s "$work/cfc/traces.png" ] && ok || bad "cfc_vs_ltc.lua draws traces.png"
    grep -q '"ltc_cvode_1e-10": {"solver": "cvode_bdf"' "$work/cfc/run.json" && ok || bad "CVODE counters in run.json"
else
    bad "examples/cfc_vs_ltc.lua failed: $(cat "$work/err")"
fi

if "$NSIM" run "$ROOT/examples/cfc_onward.lua" --set t_ms=300 --out "$work/onward" --quiet --threads 2 >"$work/stdout" 2>"$work/err"; then
    [ -s "$work/onward/raster.png" ] && [ "$(wc -l <"$work/onward/state.csv")" -eq 1201 ] && ok || bad "cfc_onward.lua outputs"
    grep -qE '^[1-9][0-9]* spikes from 40 lif_delta neurons' "$work/stdout" && ok || bad "cfc_onward.lua: no spikes from the CfC's drive"
else
    bad "examples/cfc_onward.lua failed: $(cat "$work/err")"
fi

if [ -d /usr/share/datasets/fashion-mnist ]; then
    if "$NSIM" run "$ROOT/examples/compare_fmnist.lua" --set epochs=1 --set limit=600 --out "$work/cmp" --quiet >"$work/stdout" 2>"$work/err"; then
        [ "$(wc -l <"$work/cmp/compare.csv")" -eq 11 ] && ok || bad "compare.csv has ten configurations"
        [ -s "$work/cmp/accuracy.png" ] && [ -s "$work/cmp/raster_ultralif_T10.png" ] && ok || bad "compare figures"
    else
        bad "examples/compare_fmnist.lua failed: $(cat "$work/err")"
    fi
fi
if "$NSIM" run "$ROOT/examples/compare_randman.lua" --set epochs=1 --set limit=300 --out "$work/cmr" --quiet >"$work/stdout" 2>"$work/err"; then
    [ "$(wc -l <"$work/cmr/compare.csv")" -eq 6 ] && ok || bad "compare_randman.lua: compare.csv has five configurations"
    [ -s "$work/cmr/accuracy.png" ] && [ -s "$work/cmr/raster_ultradlif.png" ] && ok || bad "compare_randman.lua figures"
    [ "$(grep -c ' test [0-9.]* %  rate ' "$work/stdout")" -eq 5 ] && ok || bad "compare_randman.lua prints five results: $(cat "$work/stdout")"
else
    bad "examples/compare_randman.lua failed: $(cat "$work/err")"
fi
if "$NSIM" run "$ROOT/examples/trained_in_sim.lua" --set epochs=1 --set limit=300 --out "$work/tis" --quiet >"$work/stdout" 2>"$work/err"; then
    [ -s "$work/tis/ultralif_randman.txt" ] && [ -s "$work/tis/raster.png" ] && ok || bad "trained_in_sim.lua outputs"
    grep -q '^simulated: ' "$work/stdout" && ok || bad "trained_in_sim.lua prints the simulated class"
    # the saved network loaded into a network with an input of the wrong size is refused
    cp "$work/tis/ultralif_randman.txt" "$work/net.txt"
    script badload.lua "local net = nsim.network{dt = 1}
local input = net:spike_source{times = {{1}}, n = 99}
net:load_network(\"net.txt\", input)"
    expect 2 "badload.lua:3: .*net.txt: the network takes 100 inputs, population spike_source0 has 99" -- run "$work/badload.lua"
else
    bad "examples/trained_in_sim.lua failed: $(cat "$work/err")"
fi
# training data: a missing folder, and a malformed IDX file (status 2, one line, no output)
refuse nodata.lua ":1: training data: .*no_such_folder: no training images-idx3 file \(looked for train-images-idx3-ubyte, train-images.idx3-ubyte, each also .gz\)" "nsim.train{data = \"$work/no_such_folder\", epochs = 1}"
mkdir -p "$work/badidx"
printf 'garbage!' >"$work/badidx/train-labels-idx1-ubyte.gz"
printf 'garbage!' >"$work/badidx/train-images-idx3-ubyte.gz"
refuse badidx.lua ":1: training data: .*train-labels-idx1-ubyte.gz: bad magic" "nsim.train{data = \"$work/badidx\", epochs = 1}"
refuse badsave.lua ":1: training: save: 'sub/net.txt' must be a plain file name" "nsim.train{data = \"randman\", epochs = 1, limit = 50, save = \"sub/net.txt\"}"
refuse badtrain.lua ":1: training: unknown neuron 'lfi'" "nsim.train{neuron = \"lfi\", epochs = 1}"
refuse badsched.lua ":1: training: lr_schedule is constant or cosine, not 'cosinus'" "nsim.train{lr_schedule = \"cosinus\", epochs = 1}"
refuse badsyn.lua ":1: training: syn_alpha \\(a lif's synaptic decay per step\\) is in \\[0, 1\\), for neuron lif only" "nsim.train{neuron = \"ultralif\", syn_alpha = 0.5, epochs = 1}"
refuse badslope.lua ":1: training: surrogate_param must be positive" "nsim.train{neuron = \"lif\", surrogate_param = 0, epochs = 1}"
script badconfig.lua 'nsim.compare{configs = {"lif"}, data = "randman", epochs = 1, limit = 50}'
expect 2 "badconfig.lua:1: nsim.compare: configuration 1 is not a table" -- run "$work/badconfig.lua"

# --- figures describe themselves: PNG text chunks (key NUL value) ---
png_has() { tr '\0' '=' <"$1" | grep -qaF -- "$2"; }
ver=$("$NSIM" version | cut -d' ' -f2)
for kv in "Software=nsim $ver" "Script=$ROOT/examples/cuba.lua" "Seed=1" "dt_ms=0.1" "Parameters=t_ms=300"; do
    png_has "$work/cuba/raster.png" "$kv" && ok || bad "cuba raster.png has no text $kv"
done
for kv in "Software=nsim $ver" "Source=$work/cuba/spikes.csv"; do
    png_has "$work/summary.png" "$kv" && ok || bad "nsim plot summary: no text $kv"
done
script figtext.lua 'local n = nsim.param("n", 20)
nsim.compare{configs = {{name = "a"}}, data = "randman", encoding = "spikes", T = 20, hidden = n, epochs = 1, limit = 60}'
if "$NSIM" run "$work/figtext.lua" --seed 7 --set n=16 --out "$work/figtext" --quiet >/dev/null 2>"$work/err"; then
    for f in accuracy.png raster_a.png; do
        for kv in "Software=nsim $ver" "Script=$work/figtext.lua" "Seed=7" "Parameters=n=16"; do
            png_has "$work/figtext/$f" "$kv" && ok || bad "nsim.compare $f has no text $kv"
        done
    done
else
    bad "figtext.lua: $(cat "$work/err")"
fi

# --- subcommands ---
"$NSIM" version | grep -qE '^nsim [0-9]+\.[0-9]+' && ok || bad "nsim version"
"$NSIM" --help | grep -q 'nsim run SCRIPT.lua' && ok || bad "nsim --help"
"$NSIM" models | grep -q '^lif ' && ok || bad "nsim models lists lif"
"$NSIM" models lif | grep -qE 'tau_m +ms +10 ' && ok || bad "nsim models lif shows tau_m with unit and default"
"$NSIM" models nope >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "nsim models nope: status 2"
"$NSIM" plot raster "$work/cuba/spikes.csv" --out "$work/replot.png" >/dev/null && [ -s "$work/replot.png" ] && ok || bad "nsim plot raster"

# --- bad input: one line, status 2, nothing left behind ---
head='local net = nsim.network{dt = 0.1}'
# connect_refused NAME MESSAGE N OPTIONS: net:connect(p, p, {OPTIONS}) between the N lif units
# of one population is refused at line 3 with MESSAGE
connect_refused() {
    refuse "$1" ":3: $2" "$head
local p = net:population(\"lif\", $3)
net:connect(p, p, {$4})"
}
refuse unknown_model.lua ":2: unknown model 'lfi'" "$head
local p = net:population(\"lfi\", 10)"
refuse unknown_param.lua ":2: .*no parameter 'tau_x'" "$head
local p = net:population(\"lif\", 10, {tau_x = 3})"
# messages with numbers in them (C's conversions, not Lua's: nsim.uniform(2, 1) once printed
# "invalid option '%g'" with no file or line)
refuse bad_uniform.lua ":2: nsim.uniform\\(2, 1\\): need finite low <= high" "$head
local p = net:population(\"lif\", 3, {}, {V_m = nsim.uniform(2, 1)})"
refuse bad_normal.lua ":2: nsim.normal\\(0, -1.5\\): need a finite mean and sd >= 0" "$head
local d = nsim.normal(0, -1.5)"
refuse bad_dc.lua ":3: dc: stop \\(20 ms\\) is before start \\(50 ms\\)" "$head
local p = net:population(\"lif\", 3)
net:dc(p, {amplitude = 100, start = 50, stop = 20})"
# a reader that stops early (| head) does not cut the run short: its records and run.json are whole
script chatty.lua "$head
local p = net:population(\"lif\", 10, {I_e = 400})
local s = net:record_spikes{p}
for k = 1, 20000 do print(k) end
net:run(200)"
"$NSIM" run "$work/chatty.lua" --out "$work/chatty" | head -n 1 >/dev/null
[ -s "$work/chatty/run.json" ] && [ -s "$work/chatty/spikes.csv" ] && ok || bad "nsim run | head: the run was cut short"
# limits that once dropped the rest without a word
refuse state_vars.lua ":3: record_state: at most 32 vars" "$head
local p = net:population(\"lif\", 2)
local vars = {} for k = 1, 33 do vars[k] = \"V_m\" end net:record_state(p, {vars = vars})"
kept many_pops.lua ":5: nsim.stats: a record of at most 64 populations, this one has 65" "$head
local ps = {} for k = 1, 65 do ps[k] = net:population(\"lif\", 1) end
local s = net:record_spikes(ps)
net:run(1)
nsim.stats(s)"
# a bad configuration after the data are loaded: one line, and (under the sanitizers) no leak
script compare_second.lua "nsim.compare{data = \"randman\", encoding = \"spikes\", limit = 50, epochs = 1, configs = {{name = \"a\"}, {name = \"b\", neuron = \"lfi\"}}}"
expect 2 "compare_second.lua:1: training: unknown neuron 'lfi'" -- run "$work/compare_second.lua" --quiet  # quiet: no epoch lines on stderr
# per-unit parameters: a list of one value per unit, or a distribution; each unit on its closed form
script per_unit.lua "$head
local taus = {10, 20, 30}
local p = net:population(\"lif\", 3, {E_L = -70, V_th = 1000, V_reset = -70, C_m = 250, tau_m = taus, I_e = {100, 200, 300}})
local q = net:population(\"lif\", 50, {tau_m = nsim.uniform(10, 30), E_L = nsim.normal(-65, 2)})
net:run(50)
local worst = 0
for i = 0, 2 do
  local want = -70 + 100 * (i + 1) * taus[i + 1] / 250 * (1 - math.exp(-50 / taus[i + 1]))
  worst = math.max(worst, math.abs(p:state(\"V_m\", i) - want))
end
local distinct = {}
for i = 0, 49 do distinct[q:state(\"V_m\", i)] = true end
local nd = 0
for _ in pairs(distinct) do nd = nd + 1 end
print(string.format(\"worst %.3g distinct %d\", worst, nd))"
if "$NSIM" run "$work/per_unit.lua" --out "$work/pu" --quiet >"$work/stdout" 2>"$work/stderr" &&
    awk '{ exit !($2 < 1e-9 && $4 >= 45) }' "$work/stdout"; then ok; else bad "per-unit parameters: $(cat "$work/stdout" "$work/stderr")"; fi
refuse per_unit_len.lua ":2: parameter lif.tau_m: a list of 3 values \\(one per unit\\), got 2" "$head
local p = net:population(\"lif\", 3, {tau_m = {10, 20}})"
refuse per_unit_range.lua ":2: population lif0, unit 1: lif.tau_m = -20 ms is outside" "$head
local p = net:population(\"lif\", 3, {tau_m = {10, -20, 30}})"
refuse per_unit_ode.lua ":2: population adex0: model adex takes its parameters per population" "$head
local p = net:population(\"adex\", 3, {a = {1, 2, 3}})"
refuse range.lua ":2: lif.tau_m = -20 ms is outside its range" "$head
local p = net:population(\"lif\", 10, {tau_m = -20})"
refuse nan.lua ":2: lif.C_m must be a finite number" "$head
local p = net:population(\"lif\", 10, {C_m = 0/0})"
connect_refused delay.lua "delay 0.05 ms is shorter than dt" 10 "rule = \"all_to_all\", weight = 1, delay = 0.05"
connect_refused prob.lua "connection probability p = 1.2 is outside \[0, 1\]" 10 "rule = \"bernoulli\", p = 1.2, weight = 1"
# connection lists: the pairs given, each with its own weight and delay
script list.lua "$head
local src = net:spike_source{times = {{1.0}, {}, {2.0}}}
local p = net:population(\"lif_delta\", 4, {tau_m = 1e12, V_th = 1e9, t_ref = 0})
net:connect(src, p, {rule = \"list\", pre = {0, 0, 2, 2}, post = {1, 3, 3, 0}, weights = {5, 7, 11, 13}, delays = {0.3, 0.5, 0.1, 1.0}})
net:run(10)
print(string.format(\"%.6f %.6f %.6f %.6f\", p:state(\"V_m\", 0), p:state(\"V_m\", 1), p:state(\"V_m\", 2), p:state(\"V_m\", 3)))"
if "$NSIM" run "$work/list.lua" --out "$work/lst" --quiet >"$work/stdout" 2>"$work/stderr" &&
    [ "$(cat "$work/stdout")" = "13.000000 5.000000 0.000000 18.000000" ]; then ok; else bad "list rule: $(cat "$work/stdout" "$work/stderr")"; fi
connect_refused list_range.lua "connection 1: post 4 is outside lif0 \\(4 units\\)" 4 "rule = \"list\", pre = {0, 1}, post = {3, 4}"
connect_refused list_len.lua "connect: pre has 2 units, post 1: one of each per connection" 4 "rule = \"list\", pre = {0, 1}, post = {3}"
connect_refused list_delay.lua "connection 1: delay 0.05 ms is shorter than dt" 4 "rule = \"list\", pre = {0, 1}, post = {3, 2}, delays = {0.5, 0.05}"
connect_refused list_index.lua "connect: pre item 2 \\(1.5\\) is not a unit index \\(0-based\\)" 4 "rule = \"list\", pre = {0, 1.5}, post = {3, 2}"
connect_refused list_stray.lua "connect: pre belongs to rule list" 4 "rule = \"bernoulli\", p = 0.1, pre = {0}"
connect_refused typo.lua "connect: unknown option 'prob'" 10 "rule = \"bernoulli\", prob = 0.1"
# promises of README and docs/guide.md with no test before: p below 0, a list's weight, a spike
# source before dt, the model's own check of a whole set, a refused :set, an option an analysis
# function does not know, per-unit values in a cell or after the first run, a late population
connect_refused prob_neg.lua "connection probability p = -0.1 is outside \[0, 1\]" 10 "rule = \"bernoulli\", p = -0.1, weight = 1"
connect_refused list_weight.lua "connection 1: weight is not a finite number" 4 "rule = \"list\", pre = {0, 1}, post = {3, 2}, weights = {1, 0/0}"
refuse early_spike.lua ":2: spike time 0.05 ms is before dt \(0.1 ms\): nsim stamps a spike at the end of the step that emits it \(as NEST does\); add dt to times stamped at the step.s start \(as Brian2.s are\)" "$head
local s = net:spike_source{times = {{0.05}}}"
refuse model_check.lua ":2: lif: V_reset \(-40 mV\) must be below V_th \(-55 mV\)" "$head
local p = net:population(\"lif\", 3, {V_reset = -40})"
refuse bad_set.lua ":3: lif: V_reset \(0 mV\) must be below V_th \(-55 mV\)" "$head
local p = net:population(\"lif\", 3)
p:set{V_reset = 0}"
kept stats_typo.lua ":6: nsim.stats: unknown option 'bins'" "$head
local p = net:population(\"lif\", 10)
net:dc(p, {amplitude = 500})
local r = net:record_spikes(p)
net:run(100)
nsim.stats(r, {bins = 5})"
refuse per_unit_cell.lua ":2: population cfc0: model cfc takes its parameters per population" "$head
local p = net:population(\"cfc\", 3, {inputs = {1, 2, 3}})"
kept per_unit_late.lua ":4: population lif0: per-unit tau_m must be set before the first run" "$head
local p = net:population(\"lif\", 3)
net:run(10)
p:set{tau_m = {10, 20, 30}}"
kept late_pop.lua ":4: cannot add a population after the first run" "$head
local p = net:population(\"lif\", 10)
net:run(10)
local q = net:population(\"lif\", 10)"
# graded projections: the weights' shape and values, and what may project where (the engine's word)
graded="$head
local C = net:population(\"cfc\", 3, nil, nil, \"C\")
local S = net:population(\"integrator\", 2, nil, nil, \"S\")"
refuse graded_rows.lua ":4: connect_graded: weights must have 2 rows \(one per unit of S\), got 1$" "$graded
net:connect_graded(C, S, {weights = {{1, 0, 0}}})"
refuse graded_cols.lua ":4: connect_graded: weights row 2 must have 3 values \(one per unit of C\), got 2$" "$graded
net:connect_graded(C, S, {weights = {{1, 0, 0}, {0, 1}}})"
printf '1,0,0\n' >"$work/W1.csv"
refuse graded_file.lua ":4: connect_graded: .*W1.csv must be a 2 x 3 matrix \(units of S x units of C\), got 1 x 3$" "$graded
net:connect_graded(C, S, {file = \"$work/W1.csv\"})"
refuse graded_nan.lua ":4: connect_graded: weights row 2, column 2 is not a finite number$" "$graded
net:connect_graded(C, S, {weights = {{1, 0, 0}, {0, 0/0, 1}}})"
refuse graded_src.lua ":4: population S \(integrator\) has no output for a graded projection$" "$graded
net:connect_graded(S, S, {weights = 1})"
refuse graded_typo.lua ":4: connect_graded: unknown option 'weight' \(known: weights, file, delay, rule, pre, post, delays, component\)$" "$graded
net:connect_graded(C, S, {weight = 1})"
refuse graded_spikes.lua ":4: population C \(cfc\) emits no spikes: its output projects through a graded projection$" "$graded
net:connect(C, S, {weight = 1})"
# a string option outside its list: the names it may take, an alias (rectangular) not repeated
script badinput.lua 'local net = nsim.network{dt = 0.1, input = "dens"}'
expect 2 "badinput.lua:1: nsim.network: input must be auto, dense or sparse, not 'dens'" -- run "$work/badinput.lua"
script badsplit.lua 'local net = nsim.network{dt = 0.1, split = "pops"}'
expect 2 "badsplit.lua:1: nsim.network: split must be units or populations, not 'pops'" -- run "$work/badsplit.lua"
kept badwindow.lua ":6: nsim.psd: window must be hann, hamming or rect, not 'hanning'" "$head
local p = net:population(\"lif\", 10)
net:dc(p, {amplitude = 500})
local r = net:record_spikes(p)
net:run(100)
nsim.psd(r, {window = \"hanning\"})"
script badreset.lua 'nsim.train{reset = "none", epochs = 1}'
expect 2 "badreset.lua:1: training: reset is zero or subtract, not 'none'" -- run "$work/badreset.lua"
refuse missing.lua ":2: no_such_file.csv: cannot read" "$head
local s = net:spike_source{file = \"no_such_file.csv\"}"
printf 't_ms,neuron\n1.0,0\n2.0,x\n' >"$work/broken.csv"
refuse broken.lua ":2: .*broken.csv:3: expected a time" "$head
local s = net:spike_source{file = \"broken.csv\"}"
refuse syntax.lua ":2: unexpected symbol" "$head
local p = = 3"
kept runtime.lua ":5: attempt to index a nil value" "$head
local p = net:population(\"lif\", 10)
net:run(10)
local x = nil
x.field = 1"
script param.lua "local t = nsim.param(\"t_ms\", 100)
local net = nsim.network{dt = 0.1}
local p = net:population(\"lif\", 10)
net:record_spikes(p)
net:run(t)"
expect 2 "param.lua:0: --set t_sm=5: the script reads no parameter 't_sm' \(did you mean 't_ms'\?\); it reads t_ms$" -- run "$work/param.lua" --set t_sm=5
expect 2 "param.lua:1: --set t_ms=abc: not a whole number" -- run "$work/param.lua" --set t_ms=abc
expect 2 "param.lua:1: --set t_ms=2.5: not a whole number" -- run "$work/param.lua" --set t_ms=2.5
script boolparam.lua 'local big = nsim.param("big", false)'
expect 2 "boolparam.lua:1: --set big=maybe: not true or false" -- run "$work/boolparam.lua" --set big=maybe
expect 2 "no_such_script.lua: cannot read the script" -- run "$work/no_such_script.lua"
: >"$work/plainfile"
rm -rf "$work/out"
"$NSIM" run "$work/param.lua" --out "$work/plainfile/sub" >/dev/null 2>"$work/stderr"
[ $? -eq 2 ] && grep -q "plainfile/sub: output folder" "$work/stderr" && ok || bad "unwritable output folder: $(cat "$work/stderr")"

# --- an output folder without write permission: one line naming it, status 2, nothing written ---
# Permissions do not bite root, so as root nsim runs as nobody (setpriv, util-linux) against
# folders root owns; otherwise the folders are simply the test's own, made read-only.
as_user=()
if [ "$(id -u)" -eq 0 ]; then
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chmod -R a+rX "$work"
    command -v setpriv >/dev/null && "${as_user[@]}" "$NSIM" version >/dev/null 2>&1 || as_user=(skip)
fi
# denied PATTERN DIR -- ARGS: nsim ARGS fails with status 2 and one line matching PATTERN, and
# DIR is empty or absent
denied() {
    local pattern=$1 dir=$2
    shift 3
    "${as_user[@]}" "$NSIM" "$@" >/dev/null 2>"$work/err" </dev/null
    local st=$?
    if [ $st -ne 2 ]; then bad "$*: status $st, want 2 ($(cat "$work/err"))"; return; fi
    [ "$(wc -l <"$work/err")" -eq 1 ] || { bad "$*: more than one line: $(cat "$work/err")"; return; }
    grep -qE -- "$pattern" "$work/err" || { bad "$*: '$(cat "$work/err")' does not match '$pattern'"; return; }
    [ -z "$(ls -A "$dir" 2>/dev/null)" ] || { bad "$*: left $(ls -A "$dir" | tr '\n' ' ')in $dir"; return; }
    ok
}
if [ "${as_user[*]}" = skip ]; then
    echo "SKIP: unwritable output folders (running as root, and nobody cannot run $NSIM through setpriv)"
else
    mkdir "$work/ro" "$work/nosearch"
    chmod 0555 "$work/ro"
    chmod 0666 "$work/nosearch" # writable but not searchable: no file can be made in it
    denied "nsim: $work/ro: output folder is not writable" "$work/ro" -- run "$work/param.lua" --out "$work/ro"
    denied "nsim: $work/ro/sub: output folder cannot be made \($work/ro is not writable\)" "$work/ro" -- \
        run "$work/param.lua" --out "$work/ro/sub"
    denied "nsim: $work/nosearch: output folder is not writable" "$work/nosearch" -- \
        run "$work/param.lua" --out "$work/nosearch"
    denied "nsim: $work/ro: output folder is not writable" "$work/ro" -- analyze "$work/cuba/spikes.csv" --out "$work/ro"
    denied "nsim: $work/nosearch: output folder is not writable" "$work/nosearch" -- \
        analyze "$work/cuba/spikes.csv" --out "$work/nosearch"
    denied "nsim: cannot write '$work/ro/x.png'" "$work/ro" -- plot raster "$work/cuba/spikes.csv" --out "$work/ro/x.png"
    chmod 0755 "$work/ro" "$work/nosearch"
fi
expect 2 "usage|--threads takes" -- run "$work/param.lua" --threads 0
expect 0 "" -- run "$work/param.lua" --set t_ms=200 --quiet
grep -q '"t_ms": "200"' "$work/out/run.json" && ok || bad "run.json records --set t_ms=200"

# --- an ODE population that blows up: status 1, the population and the time named, records kept ---
script blowup.lua "local net = nsim.network{dt = 0.1}
local src = net:spike_source{times = {1.0}}
local a = net:population(\"adex\", 1, {tau_ex = 1e-6}, nil, {name = \"fragile\", solver = \"rk4\"})
net:connect(src, a, {weight = 100, delay = 1})
net:record_spikes(src)
net:run(50)"
rm -rf "$work/out"
"$NSIM" run "$work/blowup.lua" --out "$work/out" >/dev/null 2>"$work/stderr"
st=$?
[ $st -eq 1 ] && grep -q "blowup.lua:6: at t = .*population fragile" "$work/stderr" && ok || bad "ODE blow-up: status $st, $(cat "$work/stderr")"
grep -qE "population fragile: (.* in variable [0-9]|unit 0: V_m = .* mV, beyond the bound)" "$work/stderr" && ok || bad "ODE blow-up: the message names no variable (docs/guide.md): $(cat "$work/stderr")"
grep -q '"status": "failed"' "$work/out/run.json" 2>/dev/null && [ -s "$work/out/spikes.csv" ] && ok || bad "ODE blow-up: records and run.json kept"
refuse badsolver.lua ":2: unknown solver 'rk5'" "local net = nsim.network{dt = 0.1}
local a = net:population(\"adex\", 1, nil, nil, {solver = \"rk5\"})"

# --- a failure during the run: status 1, records kept ---
# A full disk, as a file-size limit of 16 KiB: with SIGXFSZ ignored (inherited through exec) the
# write that passes it fails with EFBIG, as on a full disk.
script spiky.lua "local net = nsim.network{dt = 0.1}
local p = net:population(\"lif\", 200, {I_e = 1000})
net:record_spikes(p)
net:run(1000)"
rm -rf "$work/out"
( trap '' XFSZ; ulimit -f 16; exec "$NSIM" run "$work/spiky.lua" --out "$work/out" ) >/dev/null 2>"$work/stderr"
st=$?
[ $st -eq 1 ] && grep -q "write failed\|File too large" "$work/stderr" && ok || bad "disk full during the run: status $st, $(cat "$work/stderr")"
[ -e "$work/out/populations.csv" ] && grep -q '"status": "failed"' "$work/out/run.json" && ok ||
    bad "disk full: records before the failure, or run.json, were removed"

# --- the UltraLIF definitions: nsim.train's options, and the saved file names its definition ---
refuse baddef.lua ":1: training: definition is library or ablation, not 'paper'" "nsim.train{neuron = \"ultraplif\", definition = \"paper\", epochs = 1}"
refuse badtau.lua ":1: training: tau \\(the decay per step, or the learned one's start\\) is 1.5, must be in \\(0, 1\\)" "nsim.train{neuron = \"ultraplif\", tau = 1.5, epochs = 1}"
refuse badeps.lua ":1: training: eps \\(the max-plus temperature, or its learned start\\) is 0, must be positive" "nsim.train{eps = 0, epochs = 1}"
refuse badper.lua ":1: training: tau_per is layer or neuron, not 'unit'" "nsim.train{neuron = \"ultraplif\", tau_per = \"unit\", epochs = 1}"
refuse liftau.lua ":1: training: tau is an option of the Ultra neurons \\(ultralif, ultraplif, ultradlif, ultradplif\\), not of lif" "nsim.train{neuron = \"lif\", tau = 0.5, epochs = 1}"
# a network saved under each definition: the header says which, with its threshold, and the
# learned decay is one value repeated over the layer's units (one per layer)
script defs.lua 'for _, d in ipairs{"library", "ablation"} do
  nsim.train{data = "randman", encoding = "spikes", neuron = "ultradplif", definition = d, T = 20, hidden = 8,
             epochs = 1, limit = 60, save = d .. ".txt"}
end'
rm -rf "$work/out"
if "$NSIM" run "$work/defs.lua" --out "$work/out" --quiet >/dev/null 2>"$work/stderr"; then
    head -n 1 "$work/out/library.txt" | grep -q "neuron=ultradplif theta=0 .*definition=library" && ok ||
        bad "library network header: $(head -n 1 "$work/out/library.txt")"
    head -n 1 "$work/out/ablation.txt" | grep -q "neuron=ultradplif theta=1 .*definition=ablation" && ok ||
        bad "ablation network header: $(head -n 1 "$work/out/ablation.txt")"
    for d in library ablation; do
        awk '/^decay0 /{getline; n = split($0, v, " "); for (i = 2; i <= n; i++) if (v[i] != v[1]) exit 1; found = 1}
             END {exit !found}' "$work/out/$d.txt" && ok || bad "$d: decay0 is not one value per layer"
    done
else
    bad "defs.lua failed: $(cat "$work/stderr")"
fi

# --- a state beyond its model's bound stops the run (issue 11, item 3) ---
# AdEx driven by 2e5 pA from t = 5 ms runs away within a millisecond: the run stops at the next
# check (6 ms) with one line naming the population, the unit, the variable and the time; status
# 1; run.json says "failed"; the state record up to then is kept (V at rest, E_L = -70.6 mV,
# within 1e-3 mV: the exponential term moves it by about 1e-5 mV/ms)
script adex_blowup.lua 'local net = nsim.network{dt = 0.1}
local a = net:population("adex", 2, nil, nil, "A")
net:dc(a, {amplitude = 2e5, start = 5})
net:record_state(a, {vars = {"V_m"}, interval = 1})
net:record_spikes(a)
net:run(100)'
rm -rf "$work/out"
"$NSIM" run "$work/adex_blowup.lua" --out "$work/out" >/dev/null 2>"$work/stderr"
st=$?
line=$(cat "$work/stderr")
v=$(sed -nE 's/^nsim: .*adex_blowup\.lua:6: at t = 10 ms: population A: unit 0: V_m = ([-+0-9.e]+) mV, beyond the bound \|V_m\| <= 10000 mV that adex declares; what was recorded until then is kept in .*out. \(run.json says "failed"\)$/\1/p' "$work/stderr")
[ $st -eq 1 ] && [ "$(wc -l <"$work/stderr")" -eq 1 ] && [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v > 1e4 || v < -1e4) }' \
    && ok || bad "AdEx blow-up: status $st, $line"
grep -q '"status": "failed"' "$work/out/run.json" 2>/dev/null && grep -q '"error": ".*population A: unit 0: V_m = .* that adex declares"' "$work/out/run.json" &&
    ok || bad "AdEx blow-up: run.json does not say failed, with the message"
# the state is checked every 5 ms: the samples up to 5 ms sit at E_L, those of 6 to 9 ms (the
# windows before the failing check) are kept as they were, far past the bound
awk -F, 'NR == 1 { ok = $0 == "t_ms,neuron,V_m"; next } { n++; d = $3 + 70.6; if (d < 0) d = -d; if ($1 != int((NR - 2) / 2) + 1) ok = 0
    if ($1 <= 5 && d > 1e-3) ok = 0; if ($1 > 5 && $3 < 1e4) ok = 0 }
    END { exit !(ok && n == 18) }' "$work/out/state.csv" && ok || bad "AdEx blow-up: state.csv up to 9 ms not kept: $(cat "$work/out/state.csv")"

# --- --set takes a whole number written in any form (issue 11, item 10) ---
# param.lua reads t_ms = 100 (a whole-number default): 1e3 and 1000.0 are 1000 ms, as the run
# length in run.json and the last spike time of a neuron driven to fire all along show
script wholeparam.lua 'local t = nsim.param("t_ms", 100)
local net = nsim.network{dt = 0.1}
local p = net:population("lif", 1, {I_e = 1000})
net:record_spikes(p)
net:run(t)
assert(math.type(t) == "integer")'
for v in 1e3 1000.0; do
    rm -rf "$work/out"
    "$NSIM" run "$work/wholeparam.lua" --set t_ms=$v --out "$work/out" --quiet >/dev/null 2>"$work/err" \
        && grep -q '"simulated_ms": 1000,' "$work/out/run.json" && grep -q '"t_ms": "1000"' "$work/out/run.json" \
        && awk -F, 'NR > 1 { t = $1 } END { exit !(t > 990 && t <= 1000) }' "$work/out/spikes.csv" \
        && ok || bad "--set t_ms=$v: $(cat "$work/err")"
done
expect 2 "wholeparam.lua:1: --set t_ms=1.5: not a whole number within \[-2\^53, 2\^53\] \(the script's default, 100, is one\)" \
    -- run "$work/wholeparam.lua" --set t_ms=1.5

# --- record_state takes a list of populations, as record_spikes does (issue 11, item 10) ---
# two populations (lif, then adex) resting without input: V_m is each model's E_L, and each
# sample has a row per recorded unit with its global id, in the order of the ids
script statelist.lua 'local net = nsim.network{dt = 0.1}
local l = net:population("lif", 3, nil, nil, "L")
local a = net:population("adex", 2, nil, nil, "A")
net:record_state({a, l}, {vars = {"V_m"}, neurons = {1, 0}, interval = 1})
net:record_state(l, {vars = "V_m", interval = 1, file = "one.csv"})
net:run(3)'
rm -rf "$work/out"
"$NSIM" run "$work/statelist.lua" --out "$work/out" --quiet >/dev/null 2>"$work/err" || bad "statelist.lua: $(cat "$work/err")"
awk -F, 'NR == 1 { ok = $0 == "t_ms,neuron,V_m"; next }
    { k = (NR - 2) % 4; want_id = k == 0 ? 1 : k == 1 ? 0 : k == 2 ? 4 : 3; el = k < 2 ? -70 : -70.6
      d = $3 - el; if (d < 0) d = -d; if ($2 != want_id || $1 != int((NR - 2) / 4) + 1 || d > 1e-3) ok = 0; n++ }
    END { exit !(ok && n == 12) }' "$work/out/state.csv" && ok || bad "record_state over a list: $(cat "$work/out/state.csv")"
[ "$(wc -l <"$work/out/one.csv")" -eq 10 ] && ok || bad "record_state of one population: $(cat "$work/out/one.csv")"

# --- a training limit says that it also cuts the test set (issue 11, item 10) ---
# randman with limit 50: 50 training samples and 50 / 5 + 1 = 11 test samples, logged; the test
# accuracy the epoch line shows is a whole number of the 11
script limit.lua 'nsim.train{data = "randman", encoding = "spikes", epochs = 1, limit = 50}'
rm -rf "$work/out"
"$NSIM" run "$work/limit.lua" --out "$work/out" >/dev/null 2>"$work/err"
grep -qx "limit 50: 50 training samples, 11 test samples (limit / 5 + 1 of the test set)" "$work/err" \
    && sed -nE 's/.* test ([0-9.]+) %.*/\1/p' "$work/err" | awk '{ k = $1 * 11 / 100; d = k - int(k + 0.5); if (d < 0) d = -d; exit !(d < 0.01) }' \
    && ok || bad "limit: $(cat "$work/err")"
# --- nsim models: every column lines up (widths from the content; a UTF-8 unit is one column) ---
models_aligned() (
    export LC_ALL=C.UTF-8  # ${#s} and ${s:i:1} count characters, not bytes
    # the list: the kind and the description start in one column on every line
    kcol=-1 dcol=-1
    while IFS= read -r line; do
        rest=${line#*[! ]* }; rest=${rest#"${rest%%[! ]*}"}       # after the name and its spaces
        k=$((${#line} - ${#rest}))
        after=${rest#*[! ]* }; after=${after#"${after%%[! ]*}"}  # after the kind and its spaces
        d=$((${#line} - ${#after}))
        [ $kcol -lt 0 ] && kcol=$k dcol=$d
        [ $k -eq $kcol ] && [ $d -eq $dcol ] || { echo "list: '$line'"; return 1; }
    done < <("$NSIM" models)
    for m in $("$NSIM" models | cut -d' ' -f1); do
        head=$("$NSIM" models "$m" | grep -m1 '^  name ')
        [ -n "$head" ] || continue
        pre=${head%%unit*}; u=${#pre}
        pre=${head%%default*}; d=$((${#pre} + 7))
        pre=${head%%range*}; r=${#pre}
        pre=${head%%meaning*}; mn=${#pre}
        table=0
        while IFS= read -r line; do
            case $line in
            "  name "*) table=1; continue ;;
            "state variables:") table=2; continue ;;
            "") table=0; continue ;;
            esac
            [ $table -eq 0 ] && continue
            [ "${line:u-1:1}" = " " ] && [ "${line:u:1}" != " " ] || { echo "$m unit: '$line'"; return 1; }
            [ $table -eq 2 ] && continue
            [ "${line:d-1:1}" != " " ] && [ "${line:d:1}" = " " ] || { echo "$m default: '$line'"; return 1; }
            [ "${line:r-1:1}" = " " ] && [ "${line:r:1}" = "[" ] || { echo "$m range: '$line'"; return 1; }
            [ "${line:mn-1:1}" = " " ] && [ "${line:mn:1}" != " " ] || { echo "$m meaning: '$line'"; return 1; }
        done < <("$NSIM" models "$m")
    done
)
msg=$(models_aligned) && ok || bad "nsim models: a column out of line: $msg"

# --- shapes: geometry and the rules that use it (issue 13, item 2) ---
# examples/lattice_rules.lua: spikes.csv byte-identical for 1 and 2 threads; positions.csv holds
# every unit's place, recomputed here (E: a 30 x 30 grid of 50 µm, I: 15 x 15 of 100 µm, the
# ring: radius 200 µm, unit k at angle 2 pi k / 80)
for th in 1 2; do
    "$NSIM" run "$ROOT/examples/lattice_rules.lua" --set t_ms=100 --threads $th --out "$work/lattice$th" --quiet \
        >/dev/null 2>"$work/err" || bad "lattice_rules.lua ($th threads): $(cat "$work/err")"
done
[ -s "$work/lattice1/spikes.csv" ] && cmp -s "$work/lattice1/spikes.csv" "$work/lattice2/spikes.csv" && ok ||
    bad "lattice_rules.lua: spikes.csv differs between 1 and 2 threads"
[ -s "$work/lattice1/raster.png" ] && ok || bad "lattice_rules.lua drew no raster"
awk -F, 'function near(a, b) { d = a - b; if (d < 0) d = -d; return d < 1e-6 }
    NR == 1 { ok = $0 == "neuron,x_um,y_um,z_um"; next }
    { id = $1; n++
      if (id < 900) { x = (id % 30 + 0.5) * 50; y = (int(id / 30) + 0.5) * 50 }
      else if (id < 1125) { k = id - 900; x = (k % 15 + 0.5) * 100; y = (int(k / 15) + 0.5) * 100 }
      else { k = id - 1125; a = 6.283185307179586 * k / 80; x = 200 * cos(a); y = 200 * sin(a) }
      if (id != NR - 2 || !near($2, x) || !near($3, y) || $4 != 0) ok = 0 }
    END { exit !(ok && n == 1205) }' "$work/lattice1/positions.csv" && ok ||
    bad "lattice_rules.lua: positions.csv does not hold the units' places"
# pop:positions() and a positions file, read back
printf 'x_um,y_um\n0,0\n10,0\n0,10\n' >"$work/three.csv"
script positions.lua "$head
local p = net:population(\"lif\", 3, nil, nil, {name = \"P\", positions = \"three.csv\"})
local q = net:population(\"lif\", 4, nil, nil, {name = \"Q\", grid = {nx = 2, ny = 2, spacing = 10}})
local xy = p:positions()
assert(xy.x[2] == 10 and xy.y[3] == 10 and xy.z[1] == 0, \"positions\")
assert(q:positions().x[2] == 15 and q:positions().y[3] == 15, \"grid positions\")
net:connect(q, p, {rule = \"site\"})
net:connect(p, p, {rule = \"fixed_total\", N = 4, multapses = false, autapses = false})
net:connect(p, p, {rule = \"fixed_indegree\", K = 2, multapses = false, autapses = false})
assert(net.synapses == 3 + 4 + 6, net.synapses)"
rm -rf "$work/out"
"$NSIM" run "$work/positions.lua" --out "$work/out" --quiet >/dev/null 2>"$work/err" && ok || bad "positions.lua: $(cat "$work/err")"
# every bad option: one line naming the value and its range, at the script's line
grid_refused() { # grid_refused NAME MESSAGE OPTIONS: a population of 16 with OPTIONS, refused at line 2
    refuse "$1" ":2: $2" "$head
local p = net:population(\"lif\", 16, nil, nil, {$3})"
}
grid_refused grid_size.lua "grid: nx \\* ny = 5 x 3 = 15 units, but population lif0 has 16" "grid = {nx = 5, ny = 3}"
grid_refused grid_nx.lua "grid: nx = 2.5 is not a whole number in \\[1, 4294967295\\]" "grid = {nx = 2.5, ny = 3}"
grid_refused grid_spacing.lua "grid spacing = -5 µm is outside \\(0, 1e12\\]" "grid = {nx = 4, ny = 4, spacing = -5}"
grid_refused grid_key.lua "grid: unknown option 'spaceing' \\(known: nx, ny, spacing, periodic\\)" "grid = {nx = 4, ny = 4, spaceing = 5}"
grid_refused grid_periodic.lua "grid: periodic must be true or false" "grid = {nx = 4, ny = 4, periodic = 1}"
grid_refused two_shapes.lua "population options: give one of ring, grid and positions, not ring and grid" "ring = true, grid = {nx = 4, ny = 4}"
grid_refused ring_radius.lua "ring: radius = 0 µm is outside \\(0, inf\\)" "ring = {radius = 0}"
grid_refused pos_missing.lua ".*nothere.csv: cannot read the positions file" "positions = \"nothere.csv\""
printf '1,2\n3\n' >"$work/badpos.csv"
grid_refused pos_bad.lua ".*badpos.csv:2: expected 2 or 3 numbers \\(x_um,y_um\\[,z_um\\]\\) \\('3'\\)" "positions = \"badpos.csv\""
grid_refused pos_count.lua ".*badpos.csv:2: expected 2 or 3 numbers" "positions = \"badpos.csv\""
printf '1,2\n3,4\n' >"$work/twopos.csv"
grid_refused pos_rows.lua ".*twopos.csv: 2 positions for the 16 units of the population \\(one line each\\)" "positions = \"twopos.csv\""
# shape_refused NAME MESSAGE OPTIONS: net:connect(p, p, {OPTIONS}) on a 4 x 4 periodic grid, refused at line 3
shape_refused() {
    refuse "$1" ":3: $2" "$head
local p = net:population(\"lif\", 16, nil, nil, {grid = {nx = 4, ny = 4, spacing = 10, periodic = true}})
net:connect(p, p, {$3})"
}
shape_refused nb6.lua "connect: lattice neighbours = 6 is not 2 \\(ring\\), 4 or 8 \\(grid\\)" 'rule = "lattice", neighbours = 6'
shape_refused nb_ring.lua "lattice neighbours = 2 joins two rings of one size" 'rule = "lattice", neighbours = 2'
shape_refused nb_none.lua "connect: rule lattice needs neighbours \\(2, 4 or 8\\) or radius \\(µm\\), one of them" 'rule = "lattice"'
shape_refused radius.lua "lattice radius = -3 µm is outside \\(0, inf\\)" 'rule = "lattice", radius = -3'
shape_refused p0.lua "distance p0 = 1.2 is outside \\[0, 1\\]" 'rule = "distance", sigma = 10, p0 = 1.2'
shape_refused sigma.lua "distance sigma = 0 µm is outside \\(0, inf\\)" 'rule = "distance", sigma = 0'
shape_refused lambda.lua "connect: kernel gaussian takes sigma \\(µm\\), not lambda" 'rule = "distance", lambda = 10'
shape_refused nosigma.lua "connect: kernel exponential needs lambda \\(µm\\)" 'rule = "distance", kernel = "exponential"'
shape_refused kernel.lua "connect: kernel is gaussian or exponential, not 'box'" 'rule = "distance", kernel = "box", sigma = 5'
shape_refused cutoff.lua "connect: distance cutoff = 0 µm is outside \\(0, inf\\)" 'rule = "distance", sigma = 5, cutoff = 0'
shape_refused sites.lua "connect: sites is pre or post, not 'both'" 'rule = "site", sites = "both"'
shape_refused total.lua "connect: fixed_total N = 1.5 is not a whole number in \\[0, 4294967295\\]" 'rule = "fixed_total", N = 1.5'
shape_refused total_none.lua "connect: rule fixed_total needs N \\(synapses in all\\)" 'rule = "fixed_total"'
shape_refused total_many.lua "fixed_total N = 300 without multapses is outside \\[0, 240\\], the distinct pairs from lif0 to lif0 \\(autapses off\\)" 'rule = "fixed_total", N = 300, multapses = false, autapses = false'
shape_refused indeg.lua "fixed_indegree K = 17 without multapses is outside \\[0, 16\\]: each target has 16 distinct sources in lif0" 'rule = "fixed_indegree", K = 17, multapses = false'
shape_refused multapses.lua "connect: multapses must be true or false" 'rule = "fixed_indegree", K = 2, multapses = 0'
shape_refused wrong_rule.lua "connect: sigma belongs to rule distance, not bernoulli" 'rule = "bernoulli", p = 0.1, sigma = 5'
shape_refused multapses_rule.lua "connect: multapses belongs to rule fixed_indegree, fixed_outdegree and fixed_total, not bernoulli" 'rule = "bernoulli", p = 0.1, multapses = false'
refuse no_shape.lua ":3: rule distance needs a geometry \\(ring, grid or positions\\) on lif0" "$head
local p = net:population(\"lif\", 16)
net:connect(p, p, {rule = \"distance\", sigma = 5})"
refuse ring_grid.lua ":4: R \\(ring\\) and G \\(grid\\) share no space: a ring meets only a ring" "$head
local r = net:population(\"lif\", 16, nil, nil, {name = \"R\", ring = true})
local g = net:population(\"lif\", 16, nil, nil, {name = \"G\", grid = {nx = 4, ny = 4}})
net:connect(r, g, {rule = \"distance\", sigma = 5})"
refuse site_out.lua ":4: rule site: unit 1 of P at \\(45, 5\\) µm lies outside the grid G, \\[0, 40\\) x \\[0, 40\\) µm" "$head
local g = net:population(\"lif\", 16, nil, nil, {name = \"G\", grid = {nx = 4, ny = 4, spacing = 10}})
local p = net:population(\"lif\", 2, nil, nil, {name = \"P\", positions = {{5, 5}, {45, 5}}})
net:connect(g, p, {rule = \"site\"})"
refuse no_positions.lua ":3: population lif0 has no geometry \\(ring, grid or positions\\)" "$head
local p = net:population(\"lif\", 16)
p:positions()"
# graded edges (rule list): lists and a CSV file against the closed form, 1 and 2 threads alike;
# each bad file line refused with its file, line and what is wrong
for t in 1 2; do
    if "$NSIM" run "$ROOT/tests/lua/graded_edges.lua" --out "$work/edges$t" --quiet --threads $t >"$work/edges$t.txt" 2>"$work/err"; then
        grep -q '^graded edges within' "$work/edges$t.txt" && ok || bad "graded_edges.lua: $(cat "$work/edges$t.txt")"
    else
        bad "tests/lua/graded_edges.lua ($t threads): $(cat "$work/err")"
    fi
done
cmp -s "$work/edges1.txt" "$work/edges2.txt" && ok || bad "graded edges: 1 and 2 threads differ"
edges_bad() { # edges_bad NAME LINE MESSAGE: a file whose line LINE is wrong, refused naming it
    printf 'source,target,weight,delay_ms\n0,1,0.5,0.1\n%s\n' "$2" >"$work/$1.csv"
    refuse "$1.lua" ":4: .*$1.csv:3: $3$" "$graded
net:connect_graded(C, S, {rule = \"list\", file = \"$work/$1.csv\"})"
}
edges_bad e_src "3,0,1,0.1" "source 3 is not a unit index in \[0, 2\]"
edges_bad e_tgt "0,2,1,0.1" "target 2 is not a unit index in \[0, 1\]"
edges_bad e_frac "0.5,0,1,0.1" "source 0.5 is not a unit index in \[0, 2\]"
edges_bad e_w "0,0,x,0.1" "weight 'x' is not a finite number"
edges_bad e_nan "0,0,nan,0.1" "weight 'nan' is not a finite number"
edges_bad e_d "0,0,1,0.05" "delay_ms '0.05' is outside \[0.1, 6553.5\] ms \(dt to 65535 steps\)"
edges_bad e_fields "0,0,1" "expected 4 fields source,target,weight,delay_ms, got 3"
printf 'pre,post,w,d\n0,0,1,1\n' >"$work/e_head.csv"
refuse e_head.lua ":4: .*e_head.csv:1: the header must be source,target,weight,delay_ms, got 'pre,post,w,d'$" "$graded
net:connect_graded(C, S, {rule = \"list\", file = \"$work/e_head.csv\"})"
refuse e_list.lua ":4: connection 1: post 5 is outside S \(2 units\)$" "$graded
net:connect_graded(C, S, {rule = \"list\", pre = {0, 1}, post = {0, 5}, weights = {1, 2}})"
refuse e_len.lua ":4: connect_graded: delays has 1 values for 2 connections$" "$graded
net:connect_graded(C, S, {rule = \"list\", pre = {0, 1}, post = {0, 1}, delays = {1}})"
refuse e_comp.lua ":4: connect_graded: the output of C has no component 'cos' \(components: none named; give a 0-based index\)$" "$graded
net:connect_graded(C, S, {weights = 1, component = \"cos\"})"
refuse e_comp1.lua ":4: component 1 of C's output h is outside \[0, 0\]$" "$graded
net:connect_graded(C, S, {weights = 1, component = 1})"

# ei_lattice: its regime in run.json's solvers entry and on the log line, and in nsim models
script eil.lua 'local net = nsim.network{dt = 0.05}
net:population("ei_lattice", 8 * 4, {nx = 8, a_EI = -0.5, a_IE = 0.5, b_EI = 0.32, h = 50}, nil, {name = "F"})
net:run(1)'
if "$NSIM" run "$work/eil.lua" --out "$work/eil" >"$work/eil.txt" 2>&1; then
    grep -q '"F": {"solver": "rk4", "steps": 20, .*"regime": "KG field", "m_rad_per_ms": 0.5, "c_um_per_ms": 20, "nx": 8, "ny": 4}' "$work/eil/run.json" \
        && ok || bad "ei_lattice in run.json: $(grep '"F"' "$work/eil/run.json")"
    grep -q '^population F: ei_lattice 8 x 4, h 50 um, rk4: regime KG field, m 0.5 rad/ms, c 20 um/ms' "$work/eil.txt" \
        && ok || bad "ei_lattice's log line: $(cat "$work/eil.txt")"
else
    bad "eil.lua: $(cat "$work/eil.txt")"
fi
"$NSIM" models ei_lattice | grep -q '^with the defaults: on a 2-D lattice, regime KG field, m 0.2 rad/ms, c 31.6228 um/ms' \
    && ok || bad "nsim models ei_lattice: no regime line"

# lattice records and figures (issue 14 point 4): a kg_field's state record read as a lattice
cat >"$work/kgfig.lua" <<'LUA'
local net = nsim.network{dt = 0.2}
local kg = net:population("kg_field", 6 * 4, {nx = 6, ny = 4, h = 10, c = 5, m = 0.3, gamma = 0.01, sigma = 1})
net:record_state(kg, {vars = "phi", interval = 1.0, file = "phi.csv"})
net:run(64)
local rec = {file = "phi.csv", var = "phi", nx = 6, ny = 4, h = 10}
nsim.lattice_snapshot(rec, 3, "snap.png")
print("frames " .. nsim.lattice_frames(rec, {every = 16}))
nsim.lattice_sheet(rec, {frames = {0, 10, 20, 30}}, "sheet.png")
nsim.spacetime(rec, {m = 0.3, c = 5}, "st.png")
nsim.lattice_psd(rec, {m = 0.3, c = 5, band = {60, 150}, segment = 32, csv = "site_psd.csv"}, "psd.png")
nsim.lattice_movie(rec, "movie.csv")
LUA
if "$NSIM" run "$work/kgfig.lua" --out "$work/kgfig" --quiet >"$work/kgfig.txt" 2>&1; then
    grep -q '^frames 4$' "$work/kgfig.txt" && ok || bad "lattice_frames: $(cat "$work/kgfig.txt")"
    for f in snap sheet st psd frame_0000 frame_0003; do
        [ -s "$work/kgfig/$f.png" ] && ok || bad "lattice figure $f.png missing"
    done
    # the movie: frame j, column k is phi of neuron k at the j-th sample of the state record
    awk -F, 'NR == FNR { if (FNR > 1) { if (!($1 in row)) { row[$1] = ++n } v[row[$1] "," $2 + 1] = $3 } next }
             { for (k = 1; k <= NF; k++) if (($k - v[FNR "," k]) ^ 2 > 1e-16 * (1 + $k ^ 2)) { bad++ } ; frames++ }
             END { exit !(bad == 0 && frames == n && n == 64) }' "$work/kgfig/phi.csv" "$work/kgfig/movie.csv" \
        && ok || bad "lattice_movie differs from the state record"
    # the DOS prediction: zero below the mass gap (0.3 rad/ms = 47.7 Hz) less a bin
    awk -F, 'NR > 1 && $1 < 47.7 - 31.25 && $3 != 0 { bad++ } END { exit bad > 0 }' "$work/kgfig/site_psd.csv" \
        && ok || bad "site_psd.csv: prediction below the gap"
    "$NSIM" plot spacetime "$work/kgfig/movie.csv" --nx 6 --ny 4 --dt 1 --dx 10 --m 0.3 --c 5 --out "$work/kgst.png" \
        >/dev/null 2>"$work/err" && [ -s "$work/kgst.png" ] && ok || bad "plot spacetime --m --c: $(cat "$work/err")"
else
    bad "kgfig.lua: $(cat "$work/kgfig.txt")"
fi
cli_bad "--row 4 is not a row of the lattice: 0 to 3" "$work/x.png" -- plot spacetime "$work/kgfig/movie.csv" --nx 6 --ny 4 --dt 1 --dx 10 --row 4 --out "$work/x.png"
# fields and neurons: rule site both ways between a kg_field and lif neurons on a finer grid (the
# field's grid is the sites by default: one synapse per neuron each way), and the refusals
kgn='local net = nsim.network{dt = 0.1}
local K = net:population("kg_field", 64, {nx = 8, ny = 8, h = 100, c = 10, m = 0.1}, nil, {name = "K", grid = {nx = 8, ny = 8, spacing = 100}})'
script kgn.lua "$kgn
local N = net:population(\"lif\", 256, {}, nil, {name = \"N\", grid = {nx = 16, ny = 16, spacing = 50}})
net:connect(N, K, {rule = \"site\", weight = 2})
net:connect_graded(K, N, {rule = \"site\", weight = 3})
net:run(1)
print(\"synapses \" .. net.synapses)"
"$NSIM" run "$work/kgn.lua" --out "$work/kgn" >"$work/kgn.txt" 2>&1 && grep -q '^synapses 512$' "$work/kgn.txt" \
    && ok || bad "kgn.lua: $(cat "$work/kgn.txt")"
refuse kgn_out.lua ":4: rule site: unit 1 of N at \(900, 10\) µm lies outside the grid K, \[0, 800\) x \[0, 800\) µm$" "$kgn
local N = net:population(\"lif\", 2, {}, nil, {name = \"N\", positions = {{50, 50}, {900, 10}}})
net:connect_graded(K, N, {rule = \"site\", weight = 2})"
refuse kgn_nogrid.lua ":4: rule site needs a geometry \(ring, grid or positions\) on K$" 'local net = nsim.network{dt = 0.1}
local K = net:population("kg_field", 64, {nx = 8, ny = 8, h = 100, c = 10, m = 0.1}, nil, {name = "K"})
local N = net:population("lif", 4, {}, nil, {name = "N", grid = {nx = 2, ny = 2, spacing = 100}})
net:connect(N, K, {rule = "site", weight = 2})'
refuse kgn_keys.lua ":4: connect_graded: unknown option 'weights' \(known: rule, weight, delay, sites, component\)$" "$kgn
local N = net:population(\"lif\", 4, {}, nil, {name = \"N\", grid = {nx = 2, ny = 2, spacing = 100}})
net:connect_graded(K, N, {rule = \"site\", weights = 2})"

# per-unit initial state from a list and from a function f(i, x, y, z): each value recomputed here
# from the unit's place (grid cell centres, a ring of circumference n spacing centred at 0, a field's
# cells (i % nx + 0.5) h, (i // nx + 0.5) h without a geometry), to 1e-12
if "$NSIM" run "$ROOT/tests/lua/init_state.lua" --out "$work/init_state" --quiet >"$work/init_state.txt" 2>"$work/err"; then
    awk -F, 'BEGIN { pi = 3.141592653589793 }
        { i = $2; v = $3; n[$1]++ }
        $1 == "list.V_m" { split("-70 -65.5 -60.25 -55", l, " "); t = l[i + 1] }
        $1 == "grid.V_m" { x = (i % 3 + 0.5) * 20; y = (int(i / 3) + 0.5) * 20; t = -70 + 0.01 * x + 0.001 * y + i }
        $1 == "ring.V_m" { r = 50 / (2 * pi); a = 2 * pi * i / 5; t = -60 + r * cos(a) + 2 * r * sin(a) }
        $1 == "none.V_m" { t = -50 - 10 - i }
        $1 == "field.phi" { x = (i % 5 + 0.5) * 40; y = (int(i / 5) + 0.5) * 40; t = exp(-((x - 100) ^ 2) / 1e4) * cos(y / 50) }
        $1 == "field.phi_prev" { t = 0.5 * i }
        $1 == "ei.u" { x = (i % 4 + 0.5) * 30; y = (int(i / 4) + 0.5) * 30; t = x + y / 1000 }
        { if (!((v - t) ^ 2 <= 1e-24 * (1 + t * t))) { print "init_state:", $0, "want", t; bad++ } }
        END { exit !(bad == 0 && n["list.V_m"] == 4 && n["grid.V_m"] == 6 && n["ring.V_m"] == 5 && n["none.V_m"] == 3 &&
                     n["field.phi"] == 15 && n["field.phi_prev"] == 15 && n["ei.u"] == 8) }' "$work/init_state.txt" \
        && ok || bad "init_state.lua: a unit's initial value differs from its recomputation"
else
    bad "init_state.lua: $(cat "$work/err")"
fi
init_pop='local net = nsim.network{dt = 0.1}
local P = net:population("lif", 4, {}, '
refuse init_len.lua ":2: initial V_m of P: a list of 3 values for its 4 units \(one per unit\)$" "$init_pop{V_m = {-70, -65, -60}}, \"P\")"
refuse init_str.lua ":2: initial V_m of P: unit 2 \(item 3\) is 'x' \(a string\), not a finite number$" "$init_pop{V_m = {-70, -65, \"x\", 1}}, \"P\")"
refuse init_nan.lua ":2: initial V_m of P: unit 1 \(item 2\) is nan, not a finite number$" "$init_pop{V_m = {-70, 0/0, 1, 1}}, \"P\")"
refuse init_inf.lua ":2: initial V_m of P: the function gave -inf for unit 3, not a finite number$" "$init_pop{V_m = function(i) return i == 3 and -1/0 or -70 end}, \"P\")"
refuse init_nil.lua ":2: initial V_m of P: the function gave nil for unit 0, not a finite number$" "$init_pop{V_m = function(i) end}, \"P\")"
refuse init_tab.lua ":2: initial V_m of P: the function gave a table for unit 0, not a finite number$" "$init_pop{V_m = function(i) return {} end}, \"P\")"

# lattice figures read their record once: frames, a sheet and a spectrum from one phi.csv open it
# once; after another net:run (the record grew) it is read again and the new frames are there
script latcache.lua 'local net = nsim.network{dt = 1}
local K = net:population("kg_field", 24, {nx = 6, ny = 4, h = 10, c = 5, m = 0.3},
                         {phi = function(i, x, y) return math.sin(x / 10) + y / 40 end}, {name = "K"})
net:record_state(K, {vars = "phi", interval = 1, file = "phi.csv"})
net:run(16)
local rec = {file = "phi.csv", var = "phi", nx = 6, ny = 4, h = 10}
local a = nsim.lattice_frames(rec, {every = 4})
nsim.lattice_sheet(rec, {frames = 4}, "sheet.png")
nsim.spacetime(rec, {m = 0.3, c = 5}, "st.png")
net:run(8)
local b = nsim.lattice_frames(rec, {every = 4, prefix = "late_"})
nsim.spacetime(rec, {m = 0.3, c = 5}, "st2.png")
print("frames " .. a .. " " .. b)'
if "$NSIM" run "$work/latcache.lua" --out "$work/latcache" --quiet >"$work/latcache.txt" 2>&1 &&
    grep -q '^frames 4 6$' "$work/latcache.txt" && [ -s "$work/latcache/late_0005.png" ]; then
    ok
else
    bad "latcache.lua: a grown record's frames not read again: $(cat "$work/latcache.txt")"
fi
if command -v strace >/dev/null && strace -f -e trace=openat -o "$work/strace.txt" "$NSIM" run "$work/latcache.lua" \
    --out "$work/latcache2" --quiet >/dev/null 2>&1; then
    [ "$(grep -c 'latcache2/phi.csv", O_RDONLY' "$work/strace.txt")" -eq 2 ] && ok ||
        bad "latcache.lua: phi.csv opened $(grep -c 'latcache2/phi.csv", O_RDONLY' "$work/strace.txt") times for reading, want 2"
else
    echo "latcache.lua: no working strace here: the count of reads is not checked"
fi

# --- team_min: a small team population stepped whole by one thread gives the same field as split ---
script teammin.lua 'local net = nsim.network{dt = 0.1, team_min = nsim.param("tm", 16384)}
local K = net:population("kg_field", 32 * 24, {nx = 32, ny = 24, h = 10, c = 5, m = 0.3, sigma = 0.5, boundary = 2},
                         {phi = function(i, x, y) return math.sin(x / 30) * math.cos(y / 20) end}, {name = "K", seed = 3})
net:record_state(K, {vars = {"phi", "phi_prev"}, interval = 0.7, file = "phi.csv"})
net:run(20)'
for tm in 0 100000; do
    "$NSIM" run "$work/teammin.lua" --threads 2 --set tm=$tm --out "$work/teammin_$tm" --quiet >/dev/null 2>&1 ||
        bad "teammin.lua tm=$tm failed"
done
"$NSIM" run "$work/teammin.lua" --threads 1 --out "$work/teammin_1t" --quiet >/dev/null 2>&1 || bad "teammin.lua 1 thread failed"
[ "$(wc -l <"$work/teammin_0/phi.csv")" -gt 1000 ] && cmp -s "$work/teammin_0/phi.csv" "$work/teammin_100000/phi.csv" &&
    cmp -s "$work/teammin_0/phi.csv" "$work/teammin_1t/phi.csv" && ok ||
    bad "team_min: split, whole and one-thread runs of one noisy field differ"
cli_bad "team_min -1: a whole number of units, 0 or more" "$work/tmbad" -- run "$work/teammin.lua" --set tm=-1 --out "$work/tmbad"

# --- lif_cond_exp and examples/coba.lua: the printed rate is the spike record's; bad parameters ---
if "$NSIM" run "$ROOT/examples/coba.lua" --set t_ms=200 --out "$work/coba" >"$work/coba.txt" 2>"$work/err"; then
    got=$(sed -n 's/^COBA: 4000 neurons, .* synapses, \([0-9.]*\) Hz mean rate over 200 ms$/\1/p' "$work/coba.txt")
    want=$(awk -F, 'NR > 1 { n++ } END { printf "%.2f", n / 4000 / 0.2 }' "$work/coba/spikes.csv")
    [ -n "$got" ] && [ "$got" = "$want" ] && awk -v r="$want" 'BEGIN { exit !(r > 1) }' && ok ||
        bad "coba.lua: printed rate '$got' Hz, the spike record's $want Hz (want over 1 Hz)"
else
    bad "examples/coba.lua failed: $(cat "$work/err")"
fi
refuse condbad.lua ":2: lif_cond_exp: V_reset \(-50 mV\) must be below V_th \(-55 mV\)" 'local net = nsim.network{dt = 0.1}
net:population("lif_cond_exp", 1, {V_reset = -50})
net:run(1)'
"$NSIM" models lif_cond_exp >"$work/cond_models.txt" 2>&1 && grep -qE '^  tau_syn_ex +ms +0.2 ' "$work/cond_models.txt" &&
    grep -qE '^  g_L +nS +16.6667 ' "$work/cond_models.txt" && grep -q 'spike weights in nS' "$work/cond_models.txt" && ok ||
    bad "nsim models lif_cond_exp: $(head -c 300 "$work/cond_models.txt")"

# --- run.json stays JSON when a population's name holds a quote or a backslash (sums, solvers) ---
script quoted.lua 'local net = nsim.network{dt = 0.1}
local K = net:population("kg_field", 16, {nx = 4, ny = 4}, {}, {name = "K\"q\\b"})
local E = net:population("ei_lattice", 8, {units = 0, nx = 8}, {}, {name = "E\"l", solver = "rk4"})
net:record_sum(K, "energy", {interval = 1})
net:run(2)'
if "$NSIM" run "$work/quoted.lua" --out "$work/quoted" --quiet >/dev/null 2>"$work/quoted.err"; then
    grep -qF '"K\"q\\b.energy": {' "$work/quoted/run.json" && grep -qF '"E\"l": {"solver"' "$work/quoted/run.json" && ok ||
        bad "run.json: quoted population names not escaped: $(grep -n 'energy\|solver' "$work/quoted/run.json")"
else
    bad "quoted.lua: $(cat "$work/quoted.err")"
fi

# --- issue 18: net:ac, net:noise and neurons = subsets; aeif_cond_exp and lif_alpha: bad input ---
dev_head='local net = nsim.network{dt = 0.1}
local p = net:population("lif", 3)'
refuse noise_key.lua ":3: noise: unknown option 'sigma' \(known: mean, std, dt, start, stop, neurons\)" "$dev_head
net:noise(p, {std = 2, sigma = 3})"
refuse noise_std.lua ":3: noise: std -2 pA must be finite and >= 0" "$dev_head
net:noise(p, {std = -2})"
refuse noise_dt.lua ":3: noise: dt 0.25 ms must be a whole multiple of the network's dt \(0.1 ms\)" "$dev_head
net:noise(p, {std = 2, dt = 0.25})"
refuse ac_freq.lua ":3: ac: frequency -3 Hz must be finite and >= 0" "$dev_head
net:ac(p, {amplitude = 1, frequency = -3})"
refuse ac_key.lua ":3: ac: unknown option 'freq'" "$dev_head
net:ac(p, {amplitude = 1, freq = 3})"
refuse dc_neurons.lua ":3: current: neurons: index 3 \(item 2\) is outside population lif0 \(0 .. 2\)" "$dev_head
net:dc(p, {amplitude = 1, neurons = {0, 3}})"
refuse poisson_twice.lua ":3: poisson: neurons: index 1 is listed twice" "$dev_head
net:poisson(p, {rate = 10, neurons = {1, 1}})"
refuse step_neurons.lua ":3: step_current: neurons item 1 \(0.5\) is not a unit index \(0-based\)" "$dev_head
net:step_current(p, {times = {1}, amplitudes = {2}, neurons = {0.5}})"
refuse noise_neurons.lua ":3: noise: neurons: index 7 \(item 1\) is outside population lif0 \(0 .. 2\)" "$dev_head
net:noise(p, {std = 1, neurons = {7}})"
refuse aeif_reset.lua ":2: aeif_cond_exp: V_reset \(5 mV\) must be below V_peak \(0 mV\)" 'local net = nsim.network{dt = 0.1}
net:population("aeif_cond_exp", 1, {V_reset = 5})'
refuse alpha_reset.lua ":2: lif_alpha: V_reset \(-50 mV\) must be below V_th \(-55 mV\)" 'local net = nsim.network{dt = 0.1}
net:population("lif_alpha", 1, {V_reset = -50})'
# the devices from a script: an ac on units 0 and 2 of a leak-free probe, recorded; V_m of unit 0
# at t is the sum of (dt / C) I(s dt) over the steps before, I the closed-form sinusoid; unit 1 stays 0
script ac_rec.lua 'local net = nsim.network{dt = 0.1}
local p = net:population("lif", 3, {C_m = 100, tau_m = 1e12, E_L = 0, V_th = 1e9, V_reset = -1}, {V_m = 0})
net:ac(p, {amplitude = 50, offset = 5, frequency = 100, phase = 90, stop = 8, neurons = {0, 2}})
net:noise(p, {mean = 0, std = 10, dt = 0.5, start = 20})
net:record_state(p, {vars = {"V_m"}, interval = 0.1, file = "v.csv"})
net:run(10)'
if "$NSIM" run "$work/ac_rec.lua" --out "$work/ac_rec" --quiet >/dev/null 2>"$work/err"; then
    awk -F, 'NR > 1 { t = $1 + 0; if ($2 == 0) v0[t] = $3; if ($2 == 1) v1 += ($3 < 0 ? -$3 : $3) }
        END { pi = atan2(0, -1); s = 0; bad = 0
              for (k = 1; k <= 100; k++) { tt = (k - 1) * 0.1; if (tt < 8 - 1e-9) s += 0.1 / 100 * (5 + 50 * sin(2 * pi * 100 * tt / 1000 + pi / 2))
                  t = k * 0.1; key = sprintf("%.1f", t) + 0; d = v0[key] - s; if (d < 0) d = -d; if (d > 1e-6 * (s < 0 ? -s : s) + 1e-9) bad++ }
              exit !(bad == 0 && v1 == 0) }' "$work/ac_rec/v.csv" && ok ||
        bad "ac_rec.lua: V_m of unit 0 is not the integral of the sinusoid, or unit 1 moved"
else
    bad "ac_rec.lua failed: $(cat "$work/err")"
fi
for m in aeif_cond_exp lif_alpha; do
    "$NSIM" models "$m" >"$work/m.txt" 2>&1 && grep -q "^$m (spiking)" "$work/m.txt" && ok || bad "nsim models $m: $(head -c 200 "$work/m.txt")"
done

# --- training on 1, 2 and 3 threads saves the same network byte for byte (issue 19) ---
# randman, 300 samples: 3 batches of 128, 128, 44 (shards 32, 32, 32, 32 and 32, 12), 2 epochs
for th in 1 2 3; do
    script "threads$th.lua" "local r = nsim.train{data = \"randman\", encoding = \"spikes\", T = 20, hidden = 40,
  epochs = 2, limit = 300, threads = $th, save = \"net.txt\"}
print(string.format(\"%.17g %.17g\", r.epochs[2].loss, r.test_acc))"
    "$NSIM" run "$work/threads$th.lua" --out "$work/threads$th" --quiet >"$work/threads$th.txt" 2>"$work/err" ||
        bad "threads $th: $(cat "$work/err")"
done
cmp -s "$work/threads1/net.txt" "$work/threads2/net.txt" && cmp -s "$work/threads1/net.txt" "$work/threads3/net.txt" &&
    cmp -s "$work/threads1.txt" "$work/threads2.txt" && cmp -s "$work/threads1.txt" "$work/threads3.txt" &&
    [ -s "$work/threads1.txt" ] && ok || bad "threads 1, 2, 3: different networks or figures: $(cat "$work"/threads?.txt)"
refuse threads0.lua ":1: training: threads is 0, must be a whole number in 1\\.\\.64 \\(the weights are the same for any\\)" \
    'nsim.train{data = "randman", threads = 0}'
# numbers that must be whole: refused in one line, never cast out of range (UBSan's float-cast-overflow)
refuse hidfrac.lua ":1: training: hidden = 64\\.5 is not a whole number in \\[1, 1048576\\]" 'nsim.train{data = "randman", hidden = 64.5}'
refuse hidlist.lua ":1: training: hidden\\[2\\] is not a whole number of units in \\[1, 1048576\\]" 'nsim.train{data = "randman", hidden = {32, 0}}'
refuse hidbool.lua ":1: training: hidden is a number of units or a list of them, one per layer" 'nsim.train{data = "randman", hidden = true}'
refuse epochsbig.lua ":1: training: epochs = 1e\\+20 is not a whole number in \\[1, 1000000\\]" 'nsim.train{data = "randman", epochs = 1e20}'
refuse seedneg.lua ":1: training: seed = -1 is not a whole number in \\[0, 9007199254740992\\]" 'nsim.train{data = "randman", seed = -1}'
refuse limitfrac.lua ":1: nsim.compare: limit = 0\\.5 is not a whole number in \\[0, 1000000000000\\]" \
    'nsim.compare{data = "randman", limit = 0.5, configs = {{name = "a", neuron = "lif"}}}'
refuse pairsfrac.lua ":1: nsim.stats: pairs = 1\\.5 is not a whole number in \\[0, 1000000000000\\]" 'nsim.stats(nil, {pairs = 1.5})'

# --- projection handles: p:connections() gives the synapses made, p:set_weights() changes them ---
script projrw.lua 'local net = nsim.network{dt = 0.1}
local S = net:spike_source{times = {{1.0}, {1.0}, {1.0}}, name = "S"}
local T = net:population("lif", 4, {tau_ex = 5, tau_in = 5, V_th = 1e6}, nil, "T")
local given = {pre = {2, 0, 0, 1, 0}, post = {1, 3, 0, 1, 3}, weights = {5, 6, -7, 8.5, 6.5}, delays = {0.1, 1.0, 2.5, 0.3, 0.2}}
local p = net:connect(S, T, {rule = "list", pre = given.pre, post = given.post, weights = given.weights, delays = given.delays})
local c = p:connections()
for s = 1, #c.pre do print(string.format("list %d %d %.6f %.6f", c.pre[s], c.post[s], c.weight[s], c.delay[s])) end
local q = net:connect(S, T, {rule = "bernoulli", p = 0.7, weight = nsim.uniform(1, 2), delay = nsim.uniform(0.1, 3)})
local d = q:connections()
print("count", #d.pre, q.synapses)
for s = 1, #d.pre do print(string.format("bern %d %d %.9g %.9g", d.pre[s], d.post[s], d.weight[s], d.delay[s])) end
local U = net:population("lif", 3, {tau_ex = 5, tau_in = 5, V_th = 1e6}, nil, "U")
local r = net:connect(S, U, {rule = "one_to_one", weight = 3, delay = 1.0})
r:set_weights({40, -20, 10})
local e = r:connections()
print(string.format("set %g %g %g", e.weight[1], e.weight[2], e.weight[3]))
print("wrong", select(2, pcall(function() r:set_weights({1, 2}) end)))
local z = net:connect(S, U, {rule = "one_to_one", weight = 1, synapse = nsim.stdp{Wmax = 10}})
print("plastic", select(2, pcall(function() z:set_weights({1, 2, 3}) end)))
net:run(5)
print(string.format("currents %.9g %.9g %.9g %.9g", U:state("I_ex", 0), U:state("I_in", 1), U:state("I_ex", 2), U:state("I_ex", 1)))'
if "$NSIM" run "$work/projrw.lua" --out "$work/projrw" --quiet >"$work/projrw.txt" 2>"$work/projrw.err"; then
    # the list as given, sorted by pre, then post (one pair's synapses by delay: rows are kept so)
    want=$(printf '2 1 5 0.1\n0 3 6 1.0\n0 0 -7 2.5\n1 1 8.5 0.3\n0 3 6.5 0.2\n' | awk '{ printf "list %d %d %.6f %.6f\n", $1, $2, $3, $4 }' |
        sort -k2,2n -k3,3n -k5,5n)
    [ "$(grep '^list' "$work/projrw.txt")" = "$want" ] && ok || bad "connections() of a list: $(grep '^list' "$work/projrw.txt")"
    # a drawn projection: every synapse listed once, sorted, weights in [1, 2), delays whole steps in [0.1, 3]
    awk '$1 == "count" { n = $2; m = $3 } $1 == "bern" { k++; if ($4 < 1 || $4 >= 2 || $5 < 0.1 - 1e-9 || $5 > 3 + 1e-9) b++;
         s = $5 / 0.1; if (s - int(s + 0.5) > 1e-6 || int(s + 0.5) - s > 1e-6) b++;
         key = $2 * 100 + $3; if (key < last) b++; last = key }
         END { exit !(k == n && n == m && n > 3 && !b) }' "$work/projrw.txt" && ok ||
        bad "connections() of a bernoulli projection: $(grep -c '^bern' "$work/projrw.txt") lines, $(grep '^count' "$work/projrw.txt")"
    grep -qx 'set 40 -20 10' "$work/projrw.txt" && ok || bad "set_weights then connections(): $(grep '^set' "$work/projrw.txt")"
    # the spike at 1 ms arrives at 2 ms; at 5 ms each current is its weight decayed by exp(-3/5), plus the
    # plastic projection's weight 1 (delay 0.1 ms) decayed by exp(-3.9/5) on the excitatory ones
    awk '$1 == "currents" { f = exp(-3 / 5); g = exp(-3.9 / 5)
         exit !(($2 - 40 * f - g) ^ 2 < 1e-8 && ($3 + 20 * f) ^ 2 < 1e-8 && ($4 - 10 * f - g) ^ 2 < 1e-8 && ($5 - g) ^ 2 < 1e-8) }' \
        "$work/projrw.txt" && ok || bad "set_weights: the spike did not carry the new weights: $(grep '^currents' "$work/projrw.txt")"
    grep -q '^wrong.*set_weights: 2 weights for the 3 synapses of S to U' "$work/projrw.txt" && ok ||
        bad "set_weights with a wrong count: $(grep '^wrong' "$work/projrw.txt")"
    grep -q '^plastic.*set_weights: the projection of S to U is plastic' "$work/projrw.txt" && ok ||
        bad "set_weights on a plastic projection: $(grep '^plastic' "$work/projrw.txt")"
else
    bad "projrw.lua: $(cat "$work/projrw.err")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
