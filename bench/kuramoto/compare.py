# bench/kuramoto/compare.py — the analysis of bench/kuramoto/run.sh: the order parameter R(t) of nsim
# (dense projection and mean field K_mf) and of Brian2 (both variants) against each other and against the Ott-Antonsen curve of the
# Lorentzian, the rings' frequencies against Omega = omega - K sin(Omega tau) cos(2 pi q / N), and
# the timing tables (medians over the repeats).
#   /usr/bin/python3 bench/kuramoto/compare.py TMPDIR T_MS RING_N N...
# The constants are bench/kuramoto/a2a.lua's and ring.lua's defaults.
import math, os, statistics, sys
import numpy as np

tmp, T = sys.argv[1], float(sys.argv[2])
ring_n, sizes = int(sys.argv[3]), [int(x) for x in sys.argv[4:]]
Delta, K = 0.1, 0.4                  # rad/ms; K_c = 2 Delta
a, b = K / 2 - Delta, K / 2


def r_oa(t):
    """R(t) on the Ott-Antonsen manifold from R(0) = 1: dR/dt = (K/2 - Delta) R - (K/2) R^3."""
    return np.sqrt(a / (b - Delta * np.exp(-2 * a * t)))


def read_r(path):
    d = np.loadtxt(path, delimiter=",", skiprows=1)
    return dict(zip(np.round(d[:, 0], 6), d[:, 1]))


def times():
    w, c = {}, {}
    with open(os.path.join(tmp, "times.txt")) as f:
        for line in f:
            k, wall, user, sys_ = line.split()
            w.setdefault(k, []).append(float(wall))
            c.setdefault(k, []).append(float(user) + float(sys_))
    return w, c


def kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            out.setdefault(parts[0], []).append(parts[1:])
    return out


wall, cpu = times()
b2sim = {k: [float(v[0]) for v in vs] for k, vs in kv(os.path.join(tmp, "b2sim.txt")).items()}
b2build = {k: dict(x.split("=", 1) for x in vs[0][1:]) for k, vs in kv(os.path.join(tmp, "b2build.txt")).items()}
med = statistics.median
t0 = 0.6 * T
r_inf = math.sqrt(1 - 2 * Delta / K)

print(f"== all to all, no delay: Delta = {Delta} rad/ms, K = {K} rad/ms = 2 K_c, dt = 0.1 ms, {T:g} ms, R(0) = 1 ==")
print(f"stationary R: the mean over [{t0:g}, {T - 1:g}] ms (one sample a ms); theory: sqrt(1 - K_c/K) = {r_inf:.4f}, "
      f"and the Ott-Antonsen R(t) averaged over the same samples")
print("| N | max abs R nsim - R Brian2 syn | nsim - Brian2 mf | syn - mf | nsim - Brian2 mfx (nsim's scheme) | R nsim | "
      "R Brian2 syn | R Brian2 mf | R OA (window) | max abs R - R_OA, nsim | Brian2 syn |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
mf_rows = []
for n in sizes:
    ns, syn, mf, mfx = (read_r(os.path.join(tmp, p))
                        for p in (f"ns_{n}/R.csv", f"b2syn_{n}.csv", f"b2mf_{n}.csv", f"b2mfx_{n}.csv"))
    nsmf = read_r(os.path.join(tmp, f"nsmf_{n}/R.csv"))
    ts = np.array(sorted(set(ns) & set(syn) & set(mf) & set(mfx)))
    x, y, z, zx = (np.array([d[t] for t in ts]) for d in (ns, syn, mf, mfx))
    win = ts >= t0
    oa = r_oa(ts)
    print(f"| {n} | {np.abs(x - y).max():.2e} | {np.abs(x - z).max():.2e} | {np.abs(y - z).max():.2e} | {np.abs(x - zx).max():.1e} | "
          f"{x[win].mean():.4f} | {y[win].mean():.4f} | {z[win].mean():.4f} | {oa[win].mean():.4f} | "
          f"{np.abs(x - oa).max():.3f} | {np.abs(y - oa).max():.3f} |")
    m = np.array([nsmf[t] for t in ts])
    mf_rows.append(f"| {n} | {np.abs(m - z).max():.2e} | {np.abs(m - x).max():.2e} | {m[win].mean():.4f} | "
                   f"{np.abs(m - oa).max():.3f} |")
print()
print("nsim's mean field K_mf (no delay, the sums at both Heun stages) against Brian2 mf (the sums held over the step) "
      "and nsim's dense projection (one step's delay):")
print("| N | max abs R nsim K_mf - R Brian2 mf | nsim K_mf - nsim dense | stationary R, nsim K_mf | max abs R - R_OA, nsim K_mf |")
print("|---|---|---|---|---|")
for r in mf_rows:
    print(r)

print()
print("== times: median [min .. max] over the repeats, one thread; cpu = user + system; Brian2's own = the "
      "simulation time its program reports (without building the synapses); compile = code generation + compilation ==")
print("| N | program | wall s | cpu s | Brian2's own s | compile s | nsim/this, wall | nsim/this, cpu |")
print("|---|---|---|---|---|---|---|---|")


def row(n, key, label, ns_key):
    w, c = wall[key], cpu[key]
    own = f"{med(b2sim[key]):.3f}" if key in b2sim else "—"
    comp = b2build[key]["compile_s"] if key in b2build else "—"
    ratio = ["—", "—"]
    if key != ns_key:
        for k, (x, y) in enumerate(((wall[ns_key], w), (cpu[ns_key], c))):
            ratio[k] = f"{med(x) / med(y):.2f}" if med(y) > 0 else "n/a (below the 10 ms resolution)"
    print(f"| {n} | {label} | {med(w):.3f} [{min(w):.3f} .. {max(w):.3f}] | {med(c):.3f} | {own} | {comp} | "
          f"{ratio[0]} | {ratio[1]} |")


for n in sizes:
    row(n, f"ns_{n}", "nsim, dense graded projection (N^2 weights)", f"ns_{n}")
    row(n, f"b2syn_{n}", "Brian2, summed variables over N^2 synapses", f"ns_{n}")
    row(n, f"b2mf_{n}", "Brian2, mean field (N synapses)", f"ns_{n}")
    row(n, f"nsmf_{n}", "nsim, mean field K_mf (N terms)", f"ns_{n}")
    row(n, f"b2mf_{n}", "Brian2 mf, against nsim's K_mf", f"nsmf_{n}")
row(4 * ring_n, f"nsring_{ring_n}", f"nsim, 4 rings of {ring_n}, tau = 1 ms", f"nsring_{ring_n}")
row(4 * ring_n, f"b2ring_{ring_n}", f"Brian2, 4 rings of {ring_n}, history buffer", f"nsring_{ring_n}")


def omega_theory(q, n, omega=1.0, k=1.0, tau=1.0):
    c = math.cos(2 * math.pi * q / n)
    lo, hi = omega - k, omega + k       # F(W) = W - omega + k c sin(W tau) rises (k tau |c| <= 1)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid - omega + k * c * math.sin(mid * tau) > 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


print()
print("== rings with delay: omega = 1 rad/ms, K = 1 rad/ms (K/2 per side), tau = 1 ms, dt = 0.1 ms, ring q started twisted; "
      "frequency = mean over units of (theta(100) - theta(50)) / 50 ms ==")
print("| ring | q | Omega theory | nsim | Brian2 | nsim - theory | Brian2 - theory | nsim - Brian2 | spread within ring, nsim / Brian2 |")
print("|---|---|---|---|---|---|---|---|---|")
for n, ns_p, b2_p in ((20, "nsring_20/ring.csv", "b2ring_20.csv"),
                      (ring_n, f"nsring_{ring_n}/ring.csv", f"b2ring_{ring_n}.csv")):
    A = np.loadtxt(os.path.join(tmp, ns_p), delimiter=",", skiprows=1, ndmin=2)
    B = np.loadtxt(os.path.join(tmp, b2_p), delimiter=",", skiprows=1, ndmin=2)
    for (q, wn, dn), (_, wb, db) in zip(A, B):
        th = omega_theory(int(q), n)
        print(f"| {n} | {int(q)} | {th:.12f} | {wn:.12f} | {wb:.12f} | {wn - th:.1e} | {wb - th:.1e} | {wn - wb:.1e} | "
              f"{dn:.0e} / {db:.0e} |")
