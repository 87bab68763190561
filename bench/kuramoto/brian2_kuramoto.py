#!/usr/bin/python3
"""bench/kuramoto/brian2_kuramoto.py — Brian2's side of bench/kuramoto/run.sh: the same N Kuramoto
oscillators as bench/kuramoto/a2a.lua (quantile Lorentzian frequencies, all phases 0 at t = 0, K/N
all to all, self included), in Brian2's C++ standalone mode, single thread.

  /usr/bin/python3 brian2_kuramoto.py --mode syn|mf --n N --t-ms T --dir PROJECT --r R.csv

mode syn: the coupling sums sum_j sin theta_j and sum_j cos theta_j are summed variables of an all-to-
  all Synapses object (N^2 synapses), as nsim's dense projection sums N^2 terms;
mode mf: the mean field: the same sums into a group of one unit (N synapses), linked back to all N;
theta is integrated by Heun's method (a custom explicit updater; Brian2's own 'heun' is Euler in
the drift); in these two modes the sums are taken from theta at the start of each step and held
over it (Brian2's way);
mode mfx: the mean field with nsim's scheme for a delay of one step (docs/models.md): no coupling in
the first step, then the sums of the step before at the step's start and this step's at its end,
linearly in between (the first coupled step uses this step's at both ends). A check that the two
programs compute the same numbers, not a timing. The project
is kept in PROJECT (compiled once; bench/kuramoto/run.sh times PROJECT/main again). Prints one line
`brian2 key=value ...` with the code generation + compilation seconds, the binary's wall seconds
and the simulation seconds the binary reports itself (results/last_run_info.txt). Writes R.csv
(t_ms,R), R = |mean exp(i theta)| every ms.
"""
import argparse, math, os, time
import numpy as np
from brian2 import (NeuronGroup, Synapses, StateMonitor, ExplicitStateUpdater, linked_var, run, ms,
                    second, prefs, set_device, device, defaultclock)

ap = argparse.ArgumentParser()
ap.add_argument("--mode", choices=["syn", "mf", "mfx"], default="syn")
ap.add_argument("--n", type=int, default=1000)
ap.add_argument("--t-ms", type=float, default=50.0)
ap.add_argument("--delta", type=float, default=0.1, help="rad/ms")
ap.add_argument("--k", type=float, default=0.4, help="rad/ms")
ap.add_argument("--omega0", type=float, default=2 * math.pi * 0.01, help="rad/ms")
ap.add_argument("--dt", type=float, default=0.1, help="ms")
ap.add_argument("--dir", required=True)
ap.add_argument("--r", required=True)
a = ap.parse_args()

set_device("cpp_standalone", directory=a.dir, build_on_run=False)
prefs.devices.cpp_standalone.openmp_threads = 0
defaultclock.dt = a.dt * ms
N = a.n
Kn = a.k / ms / N                          # K/N in 1/s: the sums below are plain sums
heun = ExplicitStateUpdater("""
    k1 = dt * f(x, t)
    k2 = dt * f(x + k1, t + dt)
    x_new = x + (k1 + k2) / 2
    """)
flag = "(linked)" if a.mode != "syn" else ""
if a.mode == "mfx":   # on: 0 in the first step; Sl, Cl: the sums at the step's start
    pull = "on * Kn * (Sx * cos(theta) - Cx * sin(theta))"
    extra = """on = int(t0 > 0.5 * dt) : 1
Sl = S + (Sp - S) * int(t0 > 1.5 * dt) : 1
Cl = C + (Cp - C) * int(t0 > 1.5 * dt) : 1
Sx = Sl + (S - Sl) * (t - t0) / dt : 1
Cx = Cl + (C - Cl) * (t - t0) / dt : 1
Sp : 1 (linked)
Cp : 1 (linked)
t0 : second (shared)"""
else:
    pull, extra = "Kn * (S * cos(theta) - C * sin(theta))", ""
eqs = f"""
dtheta/dt = omega + {pull} : 1
omega : 1/second (constant)
s : 1
c : 1
S : 1 {flag}
C : 1 {flag}
{extra}
"""
P = NeuronGroup(N, eqs, method=heun, namespace={"Kn": Kn})
if a.mode == "mfx":
    P.run_regularly("t0 = t", when="before_groups")
i = np.arange(N)
P.omega = (a.omega0 + a.delta * np.tan(np.pi * (i + 0.5) / N - np.pi / 2)) / ms
P.theta = 0
P.s = 0
P.c = 1
P.run_regularly("s = sin(theta)\nc = cos(theta)", when="after_groups")
# the mean field: sum_j sin theta_j and sum_j cos theta_j into one unit (R is read from it in both modes)
M = NeuronGroup(1, "Sm : 1\nCm : 1\nSmp : 1\nCmp : 1")
SM = Synapses(P, M, "Sm_post = s_pre : 1 (summed)\nCm_post = c_pre : 1 (summed)")
SM.connect()
if a.mode != "syn":
    zero = np.zeros(N, dtype=int)
    P.S = linked_var(M, "Sm", index=zero)
    P.C = linked_var(M, "Cm", index=zero)
if a.mode == "mfx":   # the step before's sums, kept after each step
    M.run_regularly("Smp = Sm\nCmp = Cm", when="after_groups")
    P.Sp = linked_var(M, "Smp", index=zero)
    P.Cp = linked_var(M, "Cmp", index=zero)
if a.mode == "syn":
    A = Synapses(P, P, "S_post = s_pre : 1 (summed)\nC_post = c_pre : 1 (summed)")
    A.connect()
mon = StateMonitor(M, ["Sm", "Cm"], record=0, dt=1 * ms, when="end")
run(a.t_ms * ms)
t0 = time.time()
device.build(directory=a.dir, compile=True, run=False)
compile_s = time.time() - t0
t0 = time.time()
device.run(a.dir, False, [])
binary_s = time.time() - t0
with open(os.path.join(a.dir, "results", "last_run_info.txt")) as f:
    sim_s = float(f.read().split()[0])
R = np.hypot(mon.Sm[0], mon.Cm[0]) / N
with open(a.r, "w") as f:
    f.write("t_ms,R\n")
    for t, r in zip(mon.t / ms, R):
        f.write(f"{t:g},{r:.12f}\n")
print(f"brian2 mode={a.mode} n={N} t_ms={a.t_ms:g} compile_s={compile_s:.2f} binary_s={binary_s:.3f} "
      f"simulate_s={sim_s:.3f} R_end={R[-1]:.6f}")
