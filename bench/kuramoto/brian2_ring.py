#!/usr/bin/python3
"""bench/kuramoto/brian2_ring.py — Brian2's side of the delayed ring in bench/kuramoto/run.sh: the
four rings of bench/kuramoto/ring.lua (N identical units each, omega = 1 rad/ms, K/2 per side with
K = 1 rad/ms, delay tau = 1 ms, ring q started at theta_i = 2 pi q i / N) in C++ standalone mode.

Brian2 delays only the pathways that events trigger (on_pre, on_post); a summed variable, the way
it couples continuously, is taken from the current values every step and has no delay. So each
unit keeps a history of its own sin and cos, d = tau/dt + 1 values shifted every step (d state
variables each), and the summed variables read the slots tau and tau - dt old: the coupling at
the start and at the end of a step, interpolated linearly in between, with Heun's method over the
step (nsim's scheme; the history before t = 0 is 0, nsim's "nothing has arrived"). Cost: 2 d
copies per unit and step and 4 summed variables per synapse.

  /usr/bin/python3 brian2_ring.py --n N --t-ms T --dir PROJECT --out ring.csv
Prints `brian2 key=value ...` (compile, binary and simulation seconds); writes ring.csv
(q,omega_measured,max_dev) as ring.lua does.
"""
import argparse, os, time
import numpy as np
from brian2 import (NeuronGroup, Synapses, StateMonitor, ExplicitStateUpdater, run, ms, prefs,
                    set_device, device, defaultclock)

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=20)
ap.add_argument("--t-ms", type=float, default=100.0)
ap.add_argument("--dt", type=float, default=0.1, help="ms")
ap.add_argument("--dir", required=True)
ap.add_argument("--out", required=True)
a = ap.parse_args()

set_device("cpp_standalone", directory=a.dir, build_on_run=False)
prefs.devices.cpp_standalone.openmp_threads = 0
defaultclock.dt = a.dt * ms
N, G, omega_v, K_v, tau = a.n, 4, 1.0, 1.0, 1.0
d = int(round(tau / a.dt))
heun = ExplicitStateUpdater("""
    k1 = dt * f(x, t)
    k2 = dt * f(x + k1, t + dt)
    x_new = x + (k1 + k2) / 2
    """)
hist = "\n".join(f"hs{m} : 1\nhc{m} : 1" for m in range(d + 1))
eqs = f"""
dtheta/dt = omega + K * (Sx * cos(theta) - Cx * sin(theta)) : 1
Sx = Sa + (Sb - Sa) * (t - t0) / dt : 1
Cx = Ca + (Cb - Ca) * (t - t0) / dt : 1
omega : 1/second (constant)
K : 1/second (constant)
t0 : second (shared)
Sa : 1
Ca : 1
Sb : 1
Cb : 1
{hist}
"""
P = NeuronGroup(G * N, eqs, method=heun)
P.omega = omega_v / ms
P.K = K_v / ms
q = np.repeat(np.arange(G), N)
i = np.tile(np.arange(N), G)
P.theta = 2 * np.pi * q * i / N
setattr(P, "hs0", np.sin(np.asarray(P.theta[:])))
setattr(P, "hc0", np.cos(np.asarray(P.theta[:])))
P.run_regularly("t0 = t", when="before_groups")
shift = "\n".join(f"hs{m} = hs{m - 1}\nhc{m} = hc{m - 1}" for m in range(d, 0, -1))
P.run_regularly(shift + "\nhs0 = sin(theta)\nhc0 = cos(theta)", when="after_groups")
# slot m holds theta(t - m dt) at the start of the step [t, t + dt]: the ends want t - tau and t + dt - tau
S = Synapses(P, P, f"""
Sa_post = 0.5 * hs{d}_pre : 1 (summed)
Ca_post = 0.5 * hc{d}_pre : 1 (summed)
Sb_post = 0.5 * hs{d - 1}_pre : 1 (summed)
Cb_post = 0.5 * hc{d - 1}_pre : 1 (summed)
""")
src = np.concatenate([q * N + (i + 1) % N, q * N + (i + N - 1) % N])
tgt = np.concatenate([q * N + i, q * N + i])
S.connect(i=src, j=tgt)
half = a.t_ms / 2
mon = StateMonitor(P, "theta", record=True, dt=half * ms, when="start")
run((a.t_ms + a.dt) * ms)       # the monitor's samples at 0, T/2 and T (theta at the start of the step)
t0 = time.time()
device.build(directory=a.dir, compile=True, run=False)
compile_s = time.time() - t0
t0 = time.time()
device.run(a.dir, False, [])
binary_s = time.time() - t0
with open(os.path.join(a.dir, "results", "last_run_info.txt")) as f:
    sim_s = float(f.read().split()[0])
th = np.asarray(mon.theta)              # (units, samples)
fr = (th[:, 2] - th[:, 1]) / half
with open(a.out, "w") as f:
    f.write("q,omega_measured,max_dev\n")
    for g in range(G):
        x = fr[g * N:(g + 1) * N]
        f.write(f"{g},{x.mean():.15g},{np.abs(x - x.mean()).max():.3g}\n")
print(f"brian2 mode=ring n={G * N} t_ms={a.t_ms:g} compile_s={compile_s:.2f} binary_s={binary_s:.3f} "
      f"simulate_s={sim_s:.3f} samples_ms={','.join(f'{x:g}' for x in mon.t / ms)}")
