#!/usr/bin/python3
"""bench/microcircuit/pd14_brian2.py — the Potjans & Diesmann (2014) microcircuit in Brian2 (C++
standalone), the second simulator bench/microcircuit/compare holds examples/microcircuit.lua
against. Its parameters are derived here again from the reference implementation's numbers
(INM-6 microcircuit-PD14-model), independently of the Lua script.

Run with Debian's python (python3-brian):
    /usr/bin/python3 bench/microcircuit/pd14_brian2.py [--scale 0.1] [--t 1] [--warmup 0.1]
        [--seed 1] [--bg poisson|dc] [--spikes FILE]
Prints one line "brian2 key=value ...": neurons, synapses, spikes, build_s (Python-side drawing of
the connections), simulate_s (the generated program's own run time). --spikes writes t_ms,neuron
with global ids in nsim's order (L23E first) and times moved one step later (Brian2 stamps a
spike at the start of its step, nsim and NEST at the end), so the two records compare directly.

The model: LIF with exponential current synapses (tau_syn 0.5 ms for both signs, so one current
I_syn), integrated exactly (linear equations); fixed_total_number as NEST draws it (pairs drawn
uniformly with replacement: multapses and autapses); weights normal, sd 10 %, redrawn on a sign
flip; delays normal, sd 50 %, redrawn under dt / 2; Poisson background as PoissonInput (K_ext
inputs of 8 Hz, a binomial count each step) or DC; K_scaling's weight and DC compensation.
"""
import argparse, os, tempfile, time
import numpy as np
from brian2 import (NeuronGroup, Synapses, SpikeMonitor, PoissonInput, Network, ms, mV, pA, pF, Hz, second,
                    seed, set_device, defaultclock)

ap = argparse.ArgumentParser()
ap.add_argument("--scale", type=float, default=0.1, help="N_scaling (default 0.1)")
ap.add_argument("--k-scale", type=float, default=0.0, help="K_scaling (default: scale)")
ap.add_argument("--t", type=float, default=1.0, help="measured biological seconds after the warm-up")
ap.add_argument("--warmup", type=float, default=0.1, help="warm-up seconds")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--bg", default="poisson", choices=["poisson", "dc"])
ap.add_argument("--spikes", help="write spikes as CSV t_ms,neuron (nsim's ids and stamps)")
a = ap.parse_args()
ks = a.k_scale or a.scale

names = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
full_n = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
p_conn = np.array([[0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
                   [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
                   [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
                   [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
                   [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
                   [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
                   [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
                   [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443]])
K_ext = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
full_rates = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])
v0_mean = [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]
v0_sd = [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]
C_m, tau_m, tau_s, E_L, V_th, V_reset, t_ref = 250.0, 10.0, 0.5, -65.0, -50.0, -65.0, 2.0
dt = 0.1

# PSC amplitude per mV of PSP peak: the peak of the PSP an exponential current makes
t_peak = tau_m * tau_s / (tau_m - tau_s) * np.log(tau_m / tau_s)
psp_per_pa = tau_m * tau_s / (C_m * (tau_m - tau_s)) * (np.exp(-t_peak / tau_m) - np.exp(-t_peak / tau_s))
k_psc = 1.0 / psp_per_pa
prod = np.outer(full_n, full_n).astype(float)
full_syn = np.log(1.0 - p_conn) / np.log((prod - 1.0) / prod)
n_pop = np.round(full_n * a.scale).astype(int)
n_syn = np.round(full_syn * a.scale * ks).astype(int)
psp = np.tile([0.15, -0.6], (8, 4))
psp[0, 2] = 0.3
w_mean = psp * k_psc
w_ext = 0.15 * k_psc
dc = (8.0 * K_ext * w_ext * tau_s * 1e-3) if a.bg == "dc" else np.zeros(8)
w_rec, w_bg = w_mean, w_ext
if ks != 1:
    c = 1e-3 * tau_s * (1 - np.sqrt(ks))
    dc = dc + c * np.sum(w_mean * (full_syn / full_n[:, None]) * full_rates, axis=1)
    if a.bg == "poisson":
        dc = dc + c * w_ext * K_ext * 8.0
    w_rec, w_bg = w_mean / np.sqrt(ks), w_ext / np.sqrt(ks)
k_bg = np.round(K_ext * ks).astype(int)

outdir = tempfile.mkdtemp(prefix="b2pd14")
set_device("cpp_standalone", directory=outdir)
seed(a.seed)
rng = np.random.default_rng(a.seed)
defaultclock.dt = dt * ms
first = np.concatenate([[0], np.cumsum(n_pop)])
N = int(first[-1])
eqs = """
dv/dt = (E_L - v) / tau_m + (I_syn + I_e) / C_m : volt (unless refractory)
dI_syn/dt = -I_syn / tau_s : amp
I_e : amp
"""
ns = {"E_L": E_L * mV, "tau_m": tau_m * ms, "C_m": C_m * pF, "tau_s": tau_s * ms}
G = NeuronGroup(N, eqs, threshold="v > V_th", reset="v = V_reset", refractory=t_ref * ms, method="exact",
                namespace=dict(ns, V_th=V_th * mV, V_reset=V_reset * mV))
v0 = np.concatenate([rng.normal(v0_mean[i], v0_sd[i], n_pop[i]) for i in range(8)])
G.v = v0 * mV
G.I_e = np.concatenate([np.full(n_pop[i], dc[i]) for i in range(8)]) * pA
pops = [G[first[i]:first[i + 1]] for i in range(8)]


def redrawn_normal(mean, sd, lo, hi, n):
    """n draws of N(mean, sd), each outside [lo, hi] drawn again until inside."""
    x = rng.normal(mean, sd, n)
    bad = (x < lo) | (x > hi)
    while bad.any():
        x[bad] = rng.normal(mean, sd, bad.sum())
        bad = (x < lo) | (x > hi)
    return x


t0 = time.time()
pre, post, w, d = [], [], [], []
for i in range(8):          # target
    for j in range(8):      # source
        n = n_syn[i, j]
        if n <= 0:
            continue
        # int32 indices, float32 weights (as nsim stores them) and delays in whole steps: the full
        # model's 0.3 G synapses in float64 and int64 lists would not fit in this machine's memory
        pre.append((first[j] + rng.integers(0, n_pop[j], n)).astype(np.int32))
        post.append((first[i] + rng.integers(0, n_pop[i], n)).astype(np.int32))
        m = w_rec[i, j]
        w.append(redrawn_normal(m, abs(0.1 * m), 0 if m > 0 else -np.inf, np.inf if m > 0 else 0, n).astype(np.float32))
        dm = 1.5 if j % 2 == 0 else 0.75
        # whole steps, at least one, as NEST and nsim
        d.append(np.maximum(np.round(redrawn_normal(dm, 0.5 * dm, 0.5 * dt, np.inf, n) / dt), 1).astype(np.int16))
pre, post = np.concatenate(pre), np.concatenate(post)
S = Synapses(G, G, "w_syn : amp", on_pre="I_syn_post += w_syn")
S.connect(i=pre, j=post)
n_synapses = len(pre)
del pre, post
w = np.concatenate(w)
S.w_syn = w * pA
del w
d = np.concatenate(d)
S.delay = d * dt * ms
del d
build_s = time.time() - t0
bgs = [PoissonInput(pops[i], "I_syn", N=int(k_bg[i]), rate=8.0 * Hz, weight=w_bg * pA)
       for i in range(8)] if a.bg == "poisson" else []
mon = SpikeMonitor(G)
net = Network(G, S, mon, *bgs)   # the inputs live in a list, where run()'s collection would miss them
net.run((a.warmup + a.t) * second, namespace={})
with open(os.path.join(outdir, "results", "last_run_info.txt")) as f:
    sim = float(f.read().split()[0])
print(f"brian2 target=cpp scale={a.scale} k_scale={ks} neurons={N} synapses={n_synapses} spikes={mon.num_spikes} "
      f"build_s={build_s:.3f} simulate_s={sim:.4f} t_s={a.warmup + a.t}")
if a.spikes:
    steps = np.round(np.asarray(mon.t / ms) / dt).astype(np.int64) + 1
    with open(a.spikes, "w") as f:
        f.write("t_ms,neuron\n")
        order = np.lexsort((np.asarray(mon.i), steps))
        for s, i in zip(steps[order], np.asarray(mon.i)[order]):
            f.write(f"{s * dt:.1f},{i}\n")
