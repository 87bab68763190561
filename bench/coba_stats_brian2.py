#!/usr/bin/python3
"""bench/coba_stats_brian2.py — COBA (Brette et al. 2007, benchmark 1) in Brian2, the reference
bench/coba_stats runs beside examples/coba.lua; written after Brian's documented COBA example.

Run with Debian's python (python3-brian):
    /usr/bin/python3 bench/coba_stats_brian2.py [--n 4000] [--t 10] [--seed 1] [--method euler] [--dt 0.1]
                                                [--spikes FILE]
Prints one line: n, synapses, spikes, mean rate, method and simulate_s (the C++ standalone
program's own run time, without code generation and compilation).
Conductances are in units of g_L (10 nS), as in Brian's example: weights 0.6 (6 nS) and 6.7
(67 nS); the kick-start draws g_ex ~ N(4, 1.5), g_in ~ N(20, 12) and V uniform in [V_r, V_t].
Integration: forward Euler, which Brian2 picks by default for these equations (g times v makes
them nonlinear, so its "exact" method does not apply); dt 0.1 ms unless --dt says otherwise.
"""
import argparse, os, tempfile, time
from brian2 import (NeuronGroup, Synapses, SpikeMonitor, run, ms, mV, second, seed, set_device,
                    defaultclock)

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=4000)
ap.add_argument("--t", type=float, default=10.0, help="biological seconds")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--method", default="euler")
ap.add_argument("--dt", type=float, default=0.1, help="ms")
ap.add_argument("--spikes", help="write spikes as CSV t_ms,neuron")
a = ap.parse_args()

outdir = tempfile.mkdtemp(prefix="b2coba")
set_device("cpp_standalone", directory=outdir)
seed(a.seed)
defaultclock.dt = a.dt * ms
taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
Vt, Vr, El, Ee, Ei = -50 * mV, -60 * mV, -60 * mV, 0 * mV, -80 * mV
eqs = """
dv/dt  = (ge*(Ee-v) + gi*(Ei-v) - (v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : 1
dgi/dt = -gi/taui : 1
"""
P = NeuronGroup(a.n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method=a.method)
P.v = "Vr + rand() * (Vt - Vr)"
P.ge = "(randn() * 1.5 + 4)"
P.gi = "(randn() * 12 + 20)"
we, wi = 6.0 / 10.0, 67.0 / 10.0
ne = int(0.8 * a.n)
p = 0.02 * 4000 / a.n          # about 80 inputs per neuron when n changes
Ce = Synapses(P, P, on_pre="ge += we"); Ce.connect("i<ne", p=p)
Ci = Synapses(P, P, on_pre="gi += wi"); Ci.connect("i>=ne", p=p)
mon = SpikeMonitor(P)
t0 = time.time()
run(a.t * second)
with open(os.path.join(outdir, "results", "last_run_info.txt")) as f:
    sim = float(f.read().split()[0])
n_syn = len(Ce) + len(Ci)
print(f"brian2 target=cpp n={a.n} t_s={a.t} synapses={n_syn} spikes={mon.num_spikes} "
      f"rate_hz={mon.num_spikes / a.n / a.t:.3f} method={a.method} simulate_s={sim:.4f}")
if a.spikes:
    with open(a.spikes, "w") as f:
        f.write("t_ms,neuron\n")
        for t, i in zip(mon.t / ms, mon.i):
            f.write(f"{t:.1f},{i}\n")
