# bench/nftsim/compare.py — the analysis of bench/nftsim/run.sh: reads NFTsim's and nsim's records of
# the same kicked damped field (phi along row 0 of a square torus kicked on its column 0, so a
# function of x alone), and compares each one's transfer gain per (f, k) with the continuum
# propagator 1/|(1 - i w/gamma)^2 + k^2 r^2|, with its own scheme's exact discrete gain, and with the
# other's; and their impulse responses sample by sample.
#   /usr/bin/python3 bench/nftsim/compare.py NFT_OUTPUT NSIM_PHI_CSV OUT.csv nx h_m dt_s gamma_per_s r_m w_nsim a_nft
# NFT_OUTPUT: NFTsim's output, Propagator 1's phi at nodes 1..nx (Q = a_nft on column 0 for one
# step); NSIM_PHI_CSV: bench/nftsim/damped_wave.lua's phi.csv with rec = 1 (s = w_nsim on column 0
# for one step). Spacing h_m, step dt_s.
import sys
import numpy as np


def read_nftsim(path, nx):
    """Rows of NFTsim's output after its '=====' line, a blank line and two header lines (the outlets'
    names, their node numbers): time, then one value a node."""
    with open(path) as f:
        for line in f:
            if line.startswith("====="):
                break
        else:
            sys.exit(f"compare.py: {path}: no '=====' line (not an NFTsim output)")
        line = f.readline()
        while line.strip() == "":
            line = f.readline()
        f.readline()
        data = np.loadtxt(f)
    if data.ndim != 2 or data.shape[1] != nx + 1:
        sys.exit(f"compare.py: {path}: expected {nx + 1} columns (time, {nx} nodes), found {data.shape}")
    return data[:, 0], data[:, 1:]


def read_nsim(path, nx):
    """nsim's long state record t_ms,neuron,phi (sites 0..nx-1 every sample) as a (samples, nx) array."""
    d = np.loadtxt(path, delimiter=",", skiprows=1)
    if d.shape[0] % nx:
        sys.exit(f"compare.py: {path}: {d.shape[0]} rows is not a whole number of {nx}-site frames")
    if not np.array_equal(d[:nx, 1], np.arange(nx)):
        sys.exit(f"compare.py: {path}: a frame does not list sites 0..{nx - 1} in order")
    return d[::nx, 0], d[:, 2].reshape(-1, nx)


def dtft(t, phi, q, nx, w, dt):
    """sum_n dt e^{i w t_n} sum_j phi_j^n e^{-2 pi i q j / nx}: the mode's time transform (exact sum)."""
    j = np.arange(nx)
    mode = phi @ np.exp(-2j * np.pi * q * j / nx)
    return np.sum(mode * np.exp(1j * w * t)) * dt


def scheme_responses(n, dt, gamma, lam, p2mu):
    """Each scheme's own response of one mode (c^2 k_h^2 = lam, NFTsim's p^2 mu = p2mu) to a unit Q
    impulse at step 1, at steps 1..n, as the scalar recurrence each code runs per site:
    nsim, leapfrog with central damping and the kick s^1 = gamma^2 / dt:
      (1 + g dt) phi^{n+1} = (2 - (lam + g^2) dt^2) phi^n - (1 - g dt) phi^{n-1} + dt^2 s^n;
    NFTsim, leapfrog on u = phi e^{g t} with the drive weighted over three steps, Q^1 = 1 / dt:
      phi^{n+1} = z [(2 - p2mu) phi^n - z phi^{n-1} + (g dt)^2/12 (Q^{n+1}/z + (10 - p2mu) Q^n + z Q^{n-1})],
    z = e^{-g dt}."""
    a = np.zeros(n + 2)
    b = np.zeros(n + 2)
    z = np.exp(-gamma * dt)
    Q = np.zeros(n + 3)
    Q[1] = 1 / dt
    s1 = gamma * gamma / dt
    for i in range(1, n + 1):                             # a[i], b[i]: the value at step i (time i dt)
        a[i] = ((2 - (lam + gamma * gamma) * dt * dt) * a[i - 1] - (1 - gamma * dt) * (a[i - 2] if i >= 2 else 0)
                + dt * dt * (s1 if i - 1 == 1 else 0)) / (1 + gamma * dt)
        b[i] = z * ((2 - p2mu) * b[i - 1] - z * (b[i - 2] if i >= 2 else 0)
                    + (gamma * dt) ** 2 / 12 * (Q[i] / z + (10 - p2mu) * Q[i - 1] + z * (Q[i - 2] if i >= 2 else 0)))
    return a[1:n + 1], b[1:n + 1]


def main():
    if len(sys.argv) != 11:
        sys.exit("usage: compare.py NFT_OUTPUT NSIM_PHI_CSV OUT.csv nx h_m dt_s gamma_per_s r_m w_nsim a_nft")
    nft_path, nsim_path, out_path = sys.argv[1:4]
    nx = int(sys.argv[4])
    h, dt, gamma, r, w_nsim, a_nft = map(float, sys.argv[5:11])
    tn, pn = read_nftsim(nft_path, nx)                     # s, 1/s
    tm, pm = read_nsim(nsim_path, nx)                      # ms, field units
    tm = tm * 1e-3
    # both as the response to a unit Q impulse, in 1/s: NFTsim's phi / (a dt); nsim's
    # gamma^2 phi / (w dt) in its ms units (per ms), times 1000
    g_ms, dt_ms = gamma * 1e-3, dt * 1e3
    gm = pm * (g_ms * g_ms / (w_nsim * dt_ms)) * 1e3
    gn = pn / (a_nft * dt)
    n = min(len(tn), len(tm))
    if not np.allclose(tn[:n], tm[:n], rtol=0, atol=1e-9):
        sys.exit("compare.py: the two records are not sampled at the same times")
    zeta = np.exp(-gamma * dt)
    p2 = (dt * r * gamma / h) ** 2                         # NFTsim's squared mesh ratio
    c = r * gamma
    rows = []
    worst = {k: 0.0 for k in ("nsim", "nft", "both", "nsim_scheme", "nft_scheme", "nsim_T", "nft_T", "nsim_L", "nft_L")}
    ts = tn - dt                                           # both kicks act at t = dt (see run.sh)
    for q in range(7):
        k = 2 * np.pi * q / (nx * h)
        mu = 4 * np.sin(k * h / 2) ** 2                    # the 5-point Laplacian of a mode along x, times h^2
        # the continuum's impulse response of mode k (u = phi e^{gamma t} is an undamped wave):
        # gamma^2 e^{-gamma t} sin(c k t) / (c k), or gamma^2 t e^{-gamma t} at k = 0
        ck = c * k
        g_cont = gamma * gamma * np.exp(-gamma * ts) * (np.sin(ck * ts) / ck if q else ts)
        ckh = c * np.sqrt(mu) / h                          # the same with the lattice's k
        g_lat = gamma * gamma * np.exp(-gamma * ts) * (np.sin(ckh * ts) / ckh if q else ts)
        r_nsim, r_nft = scheme_responses(n, dt, gamma, c * c * mu / (h * h), p2 * mu)
        for f in range(0, 21, 2):
            om = 2 * np.pi * f
            x = om / gamma
            theory = 1 / abs((1 - 1j * x) ** 2 + (k * r) ** 2)
            # the continuum's over the record's span only (its sum over the samples): what a record can hold
            theory_T = abs(np.sum(g_cont * np.exp(1j * om * tn)) * dt)
            theory_L = abs(np.sum(g_lat * np.exp(1j * om * tn)) * dt)
            m_nsim = abs(dtft(tm, gm, q, nx, om, dt))
            m_nft = abs(dtft(tn, gn, q, nx, om, dt))
            s_nsim = abs(np.sum(r_nsim * np.exp(1j * om * tn)) * dt)
            s_nft = abs(np.sum(r_nft * np.exp(1j * om * tn)) * dt)
            worst["nsim"] = max(worst["nsim"], abs(m_nsim / theory - 1))
            worst["nft"] = max(worst["nft"], abs(m_nft / theory - 1))
            worst["nsim_T"] = max(worst["nsim_T"], abs(m_nsim / theory_T - 1))
            worst["nft_T"] = max(worst["nft_T"], abs(m_nft / theory_T - 1))
            worst["nsim_L"] = max(worst["nsim_L"], abs(m_nsim / theory_L - 1))
            worst["nft_L"] = max(worst["nft_L"], abs(m_nft / theory_L - 1))
            worst["both"] = max(worst["both"], abs(m_nsim / m_nft - 1))
            worst["nsim_scheme"] = max(worst["nsim_scheme"], abs(m_nsim / s_nsim - 1))
            worst["nft_scheme"] = max(worst["nft_scheme"], abs(m_nft / s_nft - 1))
            rows.append((f, k, theory, theory_T, theory_L, m_nsim, m_nft, s_nsim, s_nft))
    with open(out_path, "w") as f:
        f.write("f_hz,k_per_m,gain_theory,gain_theory_record,gain_theory_record_lattice,gain_nsim,gain_nftsim,gain_nsim_scheme,gain_nftsim_scheme\n")
        for row in rows:
            f.write("%g" % row[0] + ",%.10g" * 8 % row[1:] + "\n")
    d = gm[:n] - gn[:n]
    rms = np.sqrt(np.mean(d * d) / np.mean(gn[:n] * gn[:n]))
    peak = np.max(np.abs(d)) / np.max(np.abs(gn[:n]))
    kr = 2 * np.pi * 6 / (nx * h) * r
    print(f"transfer gain, 7 modes (k r = 0 .. {kr:.2f}) x 11 frequencies (0 .. 20 Hz), worst |ratio - 1|:")
    print(f"  against the propagator:              nsim {worst['nsim']:.2e}   NFTsim {worst['nft']:.2e}")
    print(f"  against it over the record's span:   nsim {worst['nsim_T']:.2e}   NFTsim {worst['nft_T']:.2e}"
          f"   (the record ends at {tn[n - 1]:.3f} s: e^(-gamma t) = {np.exp(-gamma * tn[n - 1]):.1e})")
    print(f"  the same with the lattice's k:       nsim {worst['nsim_L']:.2e}   NFTsim {worst['nft_L']:.2e}"
          "   (k_h^2 = 4 sin^2(k h/2)/h^2: the time steps' error alone)")
    print(f"  against its own scheme's exact gain: nsim {worst['nsim_scheme']:.2e}   NFTsim {worst['nft_scheme']:.2e}")
    print(f"  nsim against NFTsim:                 {worst['both']:.2e}")
    print(f"impulse response along the row, {n} samples x {nx} sites: nsim - NFTsim, rms {rms:.2e} of NFTsim's rms,"
          f" largest {peak:.2e} of NFTsim's largest")


if __name__ == "__main__":
    main()
