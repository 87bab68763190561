#!/bin/sh
# fuzz/make_corpus.sh — writes the seed inputs of every harness into SEEDS/HARNESS/ (made anew):
# small valid files of each format written by hand here, the project's own writers' files
# (make_seeds, beside the harnesses) and, when python3 has numpy, numpy's own .npz files.
# Usage: sh fuzz/make_corpus.sh BUILD-FUZZ-DIR SEEDS-DIR. Nothing is downloaded.
set -eu
build=$1
seeds=$2
src=$(cd "$(dirname "$0")/.." && pwd)
sep='
--8<--
'
rm -rf "$seeds"
for h in lua_values spikes_csv spike_table csv_table edges_csv idx cell_file netload npz checkpoint; do
    mkdir -p "$seeds/fuzz_$h"
done
put() { printf '%s' "$2" > "$1"; }  # put FILE TEXT

# ---- spike files (io/csv.c), plain and gzip
d=$seeds/fuzz_spikes_csv
put "$d/plain.csv" 't_ms,neuron
0.1,0
0.2,17
0.2,3
# a comment

5.5,9007199254740991
'
put "$d/swapped.csv" 'neuron,t_ms
3, 1.5
1 ,2e1
'
put "$d/torn.csv" 't_ms,neuron
1,2
3,'
put "$d/crlf.csv" "$(printf 't_ms,neuron\r\n1.0,2\r\n')"
gzip -n -c "$d/plain.csv" > "$d/plain.csv.gz"
gzip -n -c "$d/torn.csv" | head -c 30 > "$d/cut.csv.gz"

# ---- the spike table: spikes.csv, run.json, populations.csv (as io/runinfo.c and sim/ write them)
d=$seeds/fuzz_spike_table
json='{
  "nsim_version": "0.1.0",
  "script": "cuba.lua",
  "status": "ok",
  "simulated_ms": 10,
  "records": {
    "spikes.csv": {"network": 1, "populations": "populations.csv", "simulated_ms": 12.5}
  },
  "derived": {}
}'
pops='population,model,first,last,size
E,lif,0,7,8
I,lif,8,9,2
'
put "$d/full" "t_ms,neuron
0.1,0
2.5,9
1.0,4
${sep}${json}${sep}${pops}"
put "$d/no_json" "t_ms,neuron
3,1
${sep}${sep}${pops}"
put "$d/spikes_only" 't_ms,neuron
1,5
'
put "$d/torn_pops" "t_ms,neuron
1,1
${sep}{
  \"simulated_ms\": 4,
  \"records\": {
    \"spikes.csv\": {\"network\": 2, \"populations\": \"populations_2.csv\", \"simulated_ms\": 4}
  }
}${sep}population,model,first,last,size
A,lif,0,3,4
B,lif,4"

# ---- numeric tables: weight records (matrix and samples), state records
d=$seeds/fuzz_csv_table
put "$d/matrix.csv" 'synapse,pre,post,weight
0,0,1,0.5
1,1,0,-0.25
'
put "$d/samples.csv" 't_ms,synapse,pre,post,weight
10,0,0,1,0.5
10,1,1,0,0.25
20,0,0,1,0.75
20,1,1,0,0.125
'
put "$d/state.csv" 't_ms,neuron,v
0.1,0,-65
0.1,1,-64.5
0.2,0,-64
0.2,1,-63.5
'
put "$d/plain_numbers.csv" '1,2,3
4,5,6
7,8'

# ---- edge lists and S2-Net adjacency
d=$seeds/fuzz_edges_csv
put "$d/edges.csv" 'source,target,weight,delay_ms
0,1,0.5,1.0
15,7,-2,0.1
# comment
3,3,1e-3,6553.5
'
put "$d/phase.csv" 'source,target,weight,delay_ms,phase_delay_ms
0,1,0.5,1.0,2.0
1,0,0.25,0.1,0.1
1,0,0.25,0.1,0.1
'

# ---- IDX: labels, then images (3 images of 2 x 2, and plain vectors), plain and gzip
d=$seeds/fuzz_idx
printf '\000\000\010\001\000\000\000\003\001\000\011' > "$d/labels"
printf '\000\000\010\003\000\000\000\003\000\000\000\002\000\000\000\002\000\377\200\001\002\003\004\005\006\007\010\011' > "$d/images"
printf '\000\000\010\002\000\000\000\003\000\000\000\002\001\002\003\004\005\006' > "$d/vectors"
{ cat "$d/labels"; printf '%s' "$sep"; cat "$d/images"; } > "$d/pair"
{ cat "$d/labels"; printf '%s' "$sep"; cat "$d/vectors"; } > "$d/pair_vectors"
{ gzip -n -c "$d/labels"; printf '%s' "$sep"; gzip -n -c "$d/images"; } > "$d/pair_gz"
rm "$d/labels" "$d/images" "$d/vectors"

# ---- cell files, ncps state_dicts and trained networks from nsim's own writers
"$build/fuzz/make_seeds" "$seeds"
cp "$seeds"/fuzz_cell_file/*.txt "$seeds/fuzz_netload/"  # kinds other than snn: refused there
put "$seeds/fuzz_cell_file/hand.txt" '# a comment line
nsim-cell 1 ltc inputs=1 units=2 theta=0.5
W 2 3   # a comment after the sizes
1 2 3
4 5.5e-3 -6
v 1 2
0 1
end
'
put "$seeds/fuzz_netload/bad_kind.txt" 'nsim-cell 1 snn T=1 inputs=2 classes=2 layers=1 theta=1 neuron=lif
end
'

# ---- numpy's own .npz files: dtypes, byte orders, Fortran order, compressed members
py=/usr/bin/python3  # Debian's, whose numpy python3-numpy installs
if [ -x $py ] && $py -c 'import numpy' 2>/dev/null; then
    $py - "$seeds/fuzz_npz" <<'PY'
import sys, numpy as np
d = sys.argv[1]
a = np.arange(6, dtype=np.float64).reshape(2, 3)
np.savez(d + "/dtypes.npz", f8=a, f4=a.astype(np.float32), i1=np.array([-1, 2], np.int8),
         u2=np.array([7], np.uint16), i8=np.array([[1], [-2]], np.int64), b=np.array([True, False]),
         be=a.astype(">f8"), scalar=np.float64(2.5))
np.savez_compressed(d + "/compressed.npz", w=np.asfortranarray(np.arange(12.0).reshape(3, 4)), v=np.ones(5))
np.savez(d + "/empty.npz", e=np.zeros((0, 3)))
PY
fi

# ---- Lua: values and specs as scripts give them (the harness's sandbox: nsim.network, its
# methods, nsim.normal/uniform/cauchy/param/scaffold; sizes kept small)
d=$seeds/fuzz_lua_values
put "$d/network.lua" 'local net = nsim.network{dt = 0.1}
local E = net:population("lif", 8, {tau_m = 20, V_th = nsim.normal(-50, 2, {min = -60, max = -45})},
                         {V_m = nsim.uniform(-70, -55)}, {name = "E", seed = 3})
local I = net:population("lif", 4, {tau_m = 10}, nil, "I")
net:connect(E, I, {rule = "fixed_indegree", K = 2, weight = nsim.normal(0.5, 0.1), delay = 1.5})
net:connect(I, E, {rule = "pairwise_bernoulli", p = 0.5, weight = -1, delay = nsim.uniform(0.5, 2)})
net:poisson(E, {rate = 100, weight = 2})
net:dc(I, {amplitude = 1.5, start = 0.5, stop = 1.5})
E:set{tau_m = 15, I_e = nsim.normal(10, 1)}
E:set_state("V_m", {-70, -69, -68, -67, -66, -65, -64, -63})
local v = E:state("V_m", 2)
net:run(1)
'
put "$d/params.lua" 'local n = nsim.param("n", 4)
local r = nsim.param("rate", 1.5)
local f = nsim.param("flag", false)
local s = nsim.param("name", "x")
local c = nsim.cauchy(0, 1)
local net = nsim.network{dt = 0.05, input = "sparse"}
local P = net:population("adex", n, {a = 4, b = 80.5})
net:step_current(P, {times = {0.1, 0.5}, amplitudes = {100, 0}})
'
put "$d/devices.lua" 'local net = nsim.network()
local S = net:spike_source{times = {{0.1, 0.5}, {}, {1.0}}, name = "S"}
local T = net:spike_source{file = "spikes.csv", n = 4}
local P = net:population("lif", 3)
net:connect(S, P, {rule = "list", pre = {0, 2}, post = {1, 2}, weights = {1, 2}, delays = {1, 1.5}})
net:connect(T, P, {rule = "all_to_all", weight = 0.5, delay = 0.1})
net:record_spikes(P)
net:record_state(P, {vars = {"V_m"}, neurons = {0, 1}, interval = 0.2})
net:run(0.5)
'
put "$d/scaffold.lua" 'local sc = nsim.scaffold{image = {0, 0.5, 1, 0.25}, width = 2, height = 2, neighbours = 4, sigma = 0.3}
local sf = nsim.scaffold{file = "edges.csv", n = 2}
local net = nsim.network{dt = 0.1}
local G = net:population("lif", 4, {}, {}, {grid = {nx = 2, ny = 2, spacing = 10}})
local R = net:population("lif", 4, {}, {}, {positions = "positions.csv"})
'
