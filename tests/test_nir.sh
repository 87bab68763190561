#!/bin/bash
# tests/test_nir.sh — NIR export and import through the nsim command (no Python needed): a small
# network trained for one epoch (LIF with the mean and the leaky readout, CubaLIF, the Ultra
# neurons as nsim extension nodes) is saved both ways, loaded both ways into two networks fed the
# same input spikes, and the two must agree: every layer's spike count, every logit, to the bit.
# (load_network's run is itself checked against the trainer's forward pass by test_netload.)
# Then refusals that need no HDF5 writer: a file that is not HDF5, a subtractive reset on export.
set -u
. "${NSIM_SOURCE_ROOT:-.}/tests/lib.sh"
test_workdir nir

cat >"$work/rt.lua" <<'LUA'
local neuron = nsim.param("neuron", "lif")
local readout = nsim.param("readout", "mean")
local syn = nsim.param("syn_alpha", 0.0)
local definition = nsim.param("definition", "library")
local recurrent = nsim.param("recurrent", 0)
local T = 30
local opts = {data = "randman", encoding = "spikes", neuron = neuron, T = T, hidden = {16, 12}, epochs = 1,
              lr = 2e-3, seed = 1, limit = 200, save = "net.txt", nir = "net.nir", readout = readout,
              recurrent = recurrent == 1}
if neuron == "lif" then opts.syn_alpha = syn else opts.definition = definition end
local res = nsim.train(opts)
local function build(load)
  local net = nsim.network{dt = 1.0}
  local times = {}
  math.randomseed(7)
  for i = 1, 100 do times[i] = {math.random(1, 10), math.random(11, 20), math.random(21, T)} end
  local input = net:spike_source{times = times, name = "input"}
  local tr = load(net, input)
  net:run(tr.steps)
  return tr
end
local a = build(function(net, input) return net:load_network(res.file, input) end)
local b = build(function(net, input) return net:load_nir(res.nir, input) end)
local la, lb = a.logits(), b.logits()
local same = #la == #lb and #la == 10
for c = 1, #la do same = same and la[c] == lb[c] end
print(string.format("steps %d %d", a.steps, b.steps))
print(string.format("spikes %d %d %d %d", a.layers[1].spikes, b.layers[1].spikes, a.layers[2].spikes, b.layers[2].spikes))
print("logits " .. (same and "equal" or "differ"))
print("kind " .. b.readout_kind .. " " .. b.layers[1].model)
LUA

roundtrip() { # roundtrip NAME MODEL KIND SET...: the two loads agree and the layers spiked
    local name=$1 model=$2 kind=$3
    shift 3
    local sets=()
    for s in "$@"; do sets+=(--set "$s"); done
    if ! "$NSIM" run "$work/rt.lua" --out "$work/$name" --quiet "${sets[@]}" >"$work/$name.txt" 2>"$work/$name.err"; then
        fail=$((fail + 1)); echo "FAIL: $name: $(cat "$work/$name.err")"; return
    fi
    local out
    out=$(cat "$work/$name.txt")
    check "$name: steps equal" grep -qE '^steps ([0-9]+) \1$' <<<"$out"
    check "$name: spike counts equal and nonzero ($(grep spikes <<<"$out"))" \
        grep -qE '^spikes ([1-9][0-9]*) \1 ([1-9][0-9]*) \2$' <<<"$out"
    check "$name: logits equal" grep -qx 'logits equal' <<<"$out"
    check "$name: readout $kind, layer model $model" grep -qx "kind $kind $model" <<<"$out"
}
roundtrip lif lif_bptt mean
roundtrip lif_leaky lif_bptt max readout=leaky
roundtrip cubalif lif_bptt mean syn_alpha=0.6
roundtrip cubalif_cubali lif_bptt max syn_alpha=0.6 readout=leaky
roundtrip lif_recurrent lif_bptt mean recurrent=1
roundtrip ultralif ultralif mean neuron=ultralif
roundtrip ultralif_ablation ultralif_ablation mean neuron=ultralif definition=ablation
roundtrip ultradlif ultradlif max neuron=ultradlif readout=leaky
roundtrip ultradlif_ablation ultradlif_ablation mean neuron=ultradlif definition=ablation

# the NIR file nsim wrote is the network: it names the NIR node types, its own nodes 'nsim.'
check "lif export holds LIF nodes" grep -qa 'LIF' "$work/lif/net.nir"
check "ultralif export holds nsim.UltraLIF nodes" grep -qa 'nsim.UltraLIF' "$work/ultralif/net.nir"
check "no temporary files left" test -z "$(find "$work" -name '*.tmp' -o -name '*.snn')"

# the example: trained, written as NIR, run from the file
run_example trained_nir epochs=1 limit=300
check "trained_nir.lua wrote the NIR file and the raster" test -s "$work/trained_nir/lif_randman.nir" -a -s "$work/trained_nir/raster.png"
check "trained_nir.lua ran the network from NIR" grep -q '^simulated from NIR: [0-9]* hidden spikes, class [0-9] (max readout' "$work/trained_nir.log"

# refusals: status 2, one line "nsim: SCRIPT:LINE: FILE: what", no output folder
refuse() { # refuse NAME PATTERN LUA
    printf '%s\n' "$3" >"$work/$1.lua"
    rm -rf "$work/out"
    "$NSIM" run "$work/$1.lua" --out "$work/out" --quiet >/dev/null 2>"$work/$1.err"
    local rc=$?
    check "$1: status 2 (got $rc)" test "$rc" -eq 2
    check "$1: one line" test "$(wc -l <"$work/$1.err")" -eq 1
    check "$1: message ($(head -c 300 "$work/$1.err"))" grep -qE "$2" "$work/$1.err"
    check "$1: nothing written" test ! -e "$work/out"
}
printf 'not an hdf5 file\n' >"$work/plain.nir"
refuse not_hdf5 "^nsim: .*not_hdf5.lua:3: .*plain.nir: not an HDF5 file" "local net = nsim.network{dt = 1}
local input = net:spike_source{times = {{1}}, n = 4}
net:load_nir(\"plain.nir\", input)"
refuse missing_file "^nsim: .*missing_file.lua:3: .*nothere.nir: cannot read the file" "local net = nsim.network{dt = 1}
local input = net:spike_source{times = {{1}}, n = 4}
net:load_nir(\"nothere.nir\", input)"
refuse wrong_input "^nsim: .*wrong_input.lua:3: .*net.nir: the graph takes 100 inputs \(node input\), population spike_source0 has 99" \
"local net = nsim.network{dt = 1}
local input = net:spike_source{times = {{1}}, n = 99}
net:load_nir(\"$work/lif/net.nir\", input)"
refuse subtract "^nsim: .*subtract.lua:1: training: nir: .*reset = subtract has no NIR node" \
'nsim.train{data = "randman", neuron = "lif", reset = "subtract", T = 5, hidden = 4, epochs = 1, limit = 20, nir = "x.nir"}'
refuse bad_T "^nsim: .*bad_T.lua:3: load_nir: T = 2.5 is not a whole number" "local net = nsim.network{dt = 1}
local input = net:spike_source{times = {{1}}, n = 100}
net:load_nir(\"$work/lif/net.nir\", input, {T = 2.5})"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
