# tests/test_ncps.py — ncps state_dicts (.npz) through nsim and back. For each case the test writes
# a state_dict in ncps's layout (names and shapes of ncps's CfC / LTC modules, float32 as torch
# keeps them), runs it in an nsim population for a few steps, compares every state with an
# independent numpy implementation of the published equations (MODELS.md §5, §6; ncps's order of
# operations), has nsim write it back as .npz and compares those arrays with the originals.
# Run by tests/test_ncps.sh with NSIM set; prints "N passed, N failed" last.
import os
import subprocess
import sys
import tempfile

import numpy as np

NSIM = os.environ["NSIM"]
from tally import check, summary


def sig(x):
    return 1 / (1 + np.exp(-x))


ACT = {0: lambda x: 1.7159 * np.tanh(0.666 * x), 1: np.tanh, 2: lambda x: np.maximum(x, 0),
       3: lambda x: x * sig(x), 4: None}


def lstm(sd, p, u, h, c):
    z = sd[p + "lstm.input_map.weight"] @ u + sd[p + "lstm.input_map.bias"] + sd[p + "lstm.recurrent_map.weight"] @ h
    n = len(h)
    i, ig, fg, og = z[:n], z[n:2 * n], z[2 * n:3 * n], z[3 * n:]
    c2 = c * sig(fg + 1.0) + np.tanh(i) * sig(ig)
    return np.tanh(c2) * sig(og), c2


def cfc_cell(sd, p, mode, act, u, h, ts, mask=None):
    """ncps's CfCCell.forward: x = [u ; h], backbone, heads; mask multiplies ff1 and ff2."""
    x = np.concatenate([u, h])
    k = sorted(int(n[len(p) + 9:-7]) for n in sd if n.startswith(p + "backbone.") and n.endswith(".weight"))
    for i in k:
        x = ACT[act](sd[p + "backbone.%d.weight" % i] @ x + sd[p + "backbone.%d.bias" % i])
    m = mask if mask is not None else 1.0
    ff1 = (sd[p + "ff1.weight"] * m) @ x + sd[p + "ff1.bias"]
    if mode == "pure":
        A, wt = sd[p + "A"].ravel(), sd[p + "w_tau"].ravel()
        return -A * np.exp(-ts * (np.abs(wt) + np.abs(ff1))) * ff1 + A
    ff2 = np.tanh((sd[p + "ff2.weight"] * m) @ x + sd[p + "ff2.bias"])
    ff1 = np.tanh(ff1)
    g = sig((sd[p + "time_a.weight"] @ x + sd[p + "time_a.bias"]) * ts + sd[p + "time_b.weight"] @ x + sd[p + "time_b.bias"])
    return ff1 + g * ff2 if mode == "no_gate" else ff1 * (1 - g) + g * ff2


def cfc_ref(sd, mode, act, us, tss, mixed, layers=None):
    sd = {k: np.asarray(v, dtype=np.float64) for k, v in sd.items()}
    N = sd["rnn_cell.ff1.weight"].shape[0] if layers is None else sum(layers)
    h, c, out = np.zeros(N), np.zeros(N), []
    for u, ts in zip(us, tss):
        if mixed:
            h, c = lstm(sd, "", u, h, c)
        if layers is None:
            h = cfc_cell(sd, "rnn_cell.", mode, act, u, h, ts)
        else:  # WiredCfCCell: each layer reads the new h of the one before
            x, new, s0 = u, [], 0
            for l, n in enumerate(layers):
                p = "rnn_cell.layer_%d." % l
                x = cfc_cell(sd, p, mode, 0, x, h[s0:s0 + n], ts, sd[p + "sparsity_mask"])
                new.append(x)
                s0 += n
            h = np.concatenate(new)
        out.append(h.copy())
    return out


def softplus(x):
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


def ltc_ref(sd, implicit, unfolds, us, tss, mixed, in_map, eps=1e-8):
    p = "rnn_cell."
    sd = {k: np.asarray(v, dtype=np.float64) for k, v in sd.items()}  # as nsim computes: in float64
    pos = softplus if implicit else (lambda x: x)
    N = sd[p + "gleak"].shape[0]
    v, c, out = np.zeros(N), np.zeros(N), []
    for u, ts in zip(us, tss):
        if mixed:
            v, c = lstm(sd, "", u, v, c)
        x = u.copy()
        if in_map in ("affine", "linear"):
            x = x * sd[p + "input_w"]
        if in_map == "affine":
            x = x + sd[p + "input_b"]
        sw = pos(sd[p + "sensory_w"]) * sig(sd[p + "sensory_sigma"] * (x[:, None] - sd[p + "sensory_mu"]))
        sw = sw * sd[p + "sensory_sparsity_mask"]
        num_s, den_s = (sw * sd[p + "sensory_erev"]).sum(0), sw.sum(0)
        cm_t = pos(sd[p + "cm"]) / (ts / unfolds)
        w = pos(sd[p + "w"])
        gl = pos(sd[p + "gleak"])
        for _ in range(unfolds):
            a = w * sig(sd[p + "sigma"] * (v[:, None] - sd[p + "mu"])) * sd[p + "sparsity_mask"]
            num = cm_t * v + gl * sd[p + "vleak"] + (a * sd[p + "erev"]).sum(0) + num_s
            den = cm_t + gl + a.sum(0) + den_s
            v = num / (den + eps)
        out.append(v.copy())
    return out


def run(tag, model, n, m, params, sd, us, times, var, save, savez=np.savez):
    d = tempfile.mkdtemp(prefix="nsim-ncps-")
    wpath, opath = os.path.join(d, "w.npz"), os.path.join(d, "out", "out.npz")
    savez(wpath, **sd)
    dt = 0.5
    vals = ",".join("{" + ",".join(repr(float(x)) for x in u) + "}" for u in us)
    script = os.path.join(d, "s.lua")
    with open(script, "w") as f:
        f.write("local net = nsim.network{dt = %r}\n" % dt)
        f.write("local C = net:population(%r, %d, {%s}, nil, {name = 'C', weights = %r})\n" % (model, n, params, wpath))
        f.write("net:signal(C, {times = {%s}, values = {%s}})\n" % (",".join(repr(t) for t in times), vals))
        steps = int(round(times[-1] / dt)) + 1
        f.write("for s = 1, %d do net:run(%r)\n" % (steps, dt))
        f.write("  local r = {} for i = 0, %d do r[#r + 1] = string.format('%%.17g', C:state(%r, i)) end\n" % (n - 1, var))
        f.write("  print(table.concat(r, ' ')) end\n")
        if save:
            f.write("C:save('out.npz')\n")
    r = subprocess.run([NSIM, "run", script, "--out", os.path.join(d, "out"), "--quiet"], capture_output=True, text=True)
    check(r.returncode == 0, "%s: nsim failed: %s" % (tag, r.stderr.strip()))
    rows = [np.array([float(x) for x in line.split()]) for line in r.stdout.splitlines() if line.strip()]
    if len(rows) < steps or any(len(r) != n for r in rows):
        check(False, "%s: nsim printed %d rows of states, want %d of %d" % (tag, len(rows), steps, n))
        return [], None
    stepped = [rows[int(round(t / dt))] for t in times]  # the state after each sample's step
    out = np.load(opath) if save and os.path.exists(opath) else None
    return stepped, out


def compare_states(tag, got, want, tol=1e-10):
    worst = max(float(np.max(np.abs(g - w))) for g, w in zip(got, want)) if len(got) == len(want) else np.inf
    moved = max(float(np.max(np.abs(w))) for w in want)
    check(worst <= tol and moved > 1e-3, "%s: states differ from the numpy reference by %.3g" % (tag, worst))


def compare_export(tag, out, sd, masked=(), pos=(), implicit=False):
    if out is None:
        check(False, "%s: no exported file" % tag)
        return
    check(set(out.files) == set(sd.keys()), "%s: exported names %s, originals %s" % (tag, sorted(out.files), sorted(sd)))
    for k in sd:
        if k not in out.files:
            continue
        a, b = np.asarray(sd[k], dtype=np.float64), out[k]
        if a.shape != b.shape:
            check(False, "%s: %s exported as %s, was %s" % (tag, k, b.shape, a.shape))
            continue
        m = masked.get(k) if isinstance(masked, dict) else None
        if m is not None:  # a weight under a mask's 0 does nothing, and is written as 0
            a, b = a * m, b * m
        if implicit and k.split(".")[-1] in pos:
            ok = np.allclose(b, a, rtol=1e-12, atol=1e-12)
        else:
            ok = np.array_equal(a, b)
        check(ok, "%s: %s exported differs from the original (worst %.3g)" % (tag, k, float(np.max(np.abs(a - b)))))


rng = np.random.default_rng(7)


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


M, S = 2, 12
us = [rng.standard_normal(M) for _ in range(S)]
regular = [k * 0.5 for k in range(S)]

# 1. CfC default: one backbone layer (lecun_tanh), mixed memory, proj_size 3; savez_compressed (deflate)
N, U = 4, 8
sd = {"rnn_cell.backbone.0.weight": f32(U, M + N), "rnn_cell.backbone.0.bias": f32(U)}
for h in ("ff1", "ff2", "time_a", "time_b"):
    sd["rnn_cell.%s.weight" % h], sd["rnn_cell.%s.bias" % h] = f32(N, U), f32(N)
sd.update({"lstm.input_map.weight": f32(4 * N, M), "lstm.input_map.bias": f32(4 * N),
           "lstm.recurrent_map.weight": f32(4 * N, N), "fc.weight": f32(3, N), "fc.bias": f32(3)})
got, out = run("cfc default", "cfc", N, M, "inputs = %d, time_scale = 0.5" % M, sd, us, regular, "h", True, np.savez_compressed)
compare_states("cfc default + backbone + mixed memory", got, cfc_ref(sd, "default", 0, us, [1.0] * S, True))
compare_export("cfc default", out, sd)

# 2. CfC pure with two backbone layers (gelu excluded: silu), the pure default of ncps has one; stored members
sd = {"rnn_cell.backbone.0.weight": f32(U, M + N), "rnn_cell.backbone.0.bias": f32(U),
      "rnn_cell.backbone.2.weight": f32(U, U, scale=0.5), "rnn_cell.backbone.2.bias": f32(U),
      "rnn_cell.ff1.weight": f32(N, U), "rnn_cell.ff1.bias": f32(N), "rnn_cell.w_tau": f32(1, N), "rnn_cell.A": f32(1, N)}
got, out = run("cfc pure", "cfc", N, M, "inputs = %d, activation = 3, time_scale = 0.5" % M, sd, us, regular, "h", True)
compare_states("cfc pure + 2 backbone layers (silu)", got, cfc_ref(sd, "pure", 3, us, [1.0] * S, False))
compare_export("cfc pure", out, sd)

# 3. CfC no_gate, wired (inter 3, command 2, motor 2) with sparsity masks; irregular samples, timespans
layers = [3, 2, 2]
sd, masks = {}, {}
for l, n in enumerate(layers):
    cols = (M if l == 0 else layers[l - 1]) + n
    mask = (rng.random((n, cols)) < 0.6).astype(np.float32)
    mask[:, -n:] = 1
    p = "rnn_cell.layer_%d." % l
    sd[p + "sparsity_mask"] = mask
    for h in ("ff1", "ff2", "time_a", "time_b"):
        sd[p + h + ".weight"], sd[p + h + ".bias"] = f32(n, cols), f32(n)
    masks[p + "ff1.weight"] = masks[p + "ff2.weight"] = mask
irregular = [0.5, 1.5, 2.0, 4.5, 5.0, 5.5, 8.0, 9.5, 10.0, 13.0, 14.5, 15.0]
tss = np.diff([0.0] + irregular) / 2.0  # time_scale 2: elapsed cell time per sample
got, out = run("cfc wired", "cfc", sum(layers), M, "inputs = %d, mode = 1, timespans = 1, time_scale = 2" % M, sd, us,
               irregular, "h", True)
compare_states("cfc no_gate wired, per-sample elapsed times", got, cfc_ref(sd, "no_gate", 0, us, tss, False, layers))
compare_export("cfc wired", out, sd, masks)

# 4. LTC with softplus constraints (ncps LTC's default), masks, affine maps, 2 motor units, mixed memory, 8 unfolds
N = 5
sd = {"rnn_cell.gleak": f32(N), "rnn_cell.vleak": f32(N, scale=0.2), "rnn_cell.cm": f32(N),
      "rnn_cell.sigma": (3 + 5 * rng.random((N, N))).astype(np.float32), "rnn_cell.mu": rng.random((N, N)).astype(np.float32),
      "rnn_cell.w": f32(N, N), "rnn_cell.erev": np.sign(f32(N, N)),
      "rnn_cell.sensory_sigma": (3 + 5 * rng.random((M, N))).astype(np.float32),
      "rnn_cell.sensory_mu": rng.random((M, N)).astype(np.float32), "rnn_cell.sensory_w": f32(M, N),
      "rnn_cell.sensory_erev": np.sign(f32(M, N)),
      "rnn_cell.sparsity_mask": (rng.random((N, N)) < 0.7).astype(np.float32),
      "rnn_cell.sensory_sparsity_mask": (rng.random((M, N)) < 0.8).astype(np.float32),
      "rnn_cell.input_w": f32(M), "rnn_cell.input_b": f32(M), "rnn_cell.output_w": f32(2), "rnn_cell.output_b": f32(2),
      "lstm.input_map.weight": f32(4 * N, M), "lstm.input_map.bias": f32(4 * N), "lstm.recurrent_map.weight": f32(4 * N, N)}
lmask = {"rnn_cell.w": sd["rnn_cell.sparsity_mask"], "rnn_cell.sensory_w": sd["rnn_cell.sensory_sparsity_mask"]}
got, out = run("ltc implicit", "ltc", N, M, "inputs = %d, unfolds = 8, time_scale = 0.5" % M, sd, us, regular, "v", True)
compare_states("ltc softplus + masks + mixed memory, 8 unfolds", got, ltc_ref(sd, True, 8, us, [1.0] * S, True, "affine"))
compare_export("ltc implicit", out, sd, lmask, ("gleak", "cm", "w", "sensory_w"), True)

# 5. LTC without the constraints (values as they are), linear input map, no output map, 6 unfolds, timespans
sd = {k: v for k, v in sd.items() if not k.startswith("lstm.") and k not in ("rnn_cell.input_b", "rnn_cell.output_w", "rnn_cell.output_b")}
for k in ("rnn_cell.gleak", "rnn_cell.cm", "rnn_cell.w", "rnn_cell.sensory_w"):
    sd[k] = np.abs(sd[k]) + np.float32(0.05)
tss = np.diff([0.0] + irregular)
got, out = run("ltc plain", "ltc", N, M, "inputs = %d, implicit_constraints = 0, timespans = 1" % M, sd, us, irregular,
               "v", True)
compare_states("ltc plain values, linear map, per-sample elapsed times", got, ltc_ref(sd, False, 6, us, tss, False, "linear"))
compare_export("ltc plain", out, sd, lmask)

# 6. refusals: the script's mode against the file's, an array of another model
d = tempfile.mkdtemp(prefix="nsim-ncps-")
sd = {"rnn_cell.ff1.weight": f32(2, 3), "rnn_cell.ff1.bias": f32(2), "rnn_cell.w_tau": f32(1, 2), "rnn_cell.A": f32(1, 2)}
np.savez(os.path.join(d, "p.npz"), **sd)
for params, want in (("inputs = 1, mode = 0", "mode is 0 (default) in the script but 2 (pure)"),):
    with open(os.path.join(d, "s.lua"), "w") as f:
        f.write("local net = nsim.network{dt = 1}\nlocal C = net:population('cfc', 2, {%s}, nil, {weights = %r})\n"
                "net:run(1)\n" % (params, os.path.join(d, "p.npz")))
    r = subprocess.run([NSIM, "run", os.path.join(d, "s.lua"), "--out", os.path.join(d, "o"), "--quiet"],
                       capture_output=True, text=True)
    check(r.returncode == 2 and want in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          "conflict refused in one line: %d %s" % (r.returncode, r.stderr))
sd["rnn_cell.extra"] = f32(3)
np.savez(os.path.join(d, "p.npz"), **sd)
with open(os.path.join(d, "s.lua"), "w") as f:
    f.write("local net = nsim.network{dt = 1}\nlocal C = net:population('cfc', 2, {inputs = 1}, nil, {weights = %r})\n"
            "net:run(1)\n" % os.path.join(d, "p.npz"))
r = subprocess.run([NSIM, "run", os.path.join(d, "s.lua"), "--out", os.path.join(d, "o"), "--quiet"],
                   capture_output=True, text=True)
check(r.returncode == 2 and "rnn_cell.extra" in r.stderr, "an unknown array is refused: %s" % r.stderr)

sys.exit(summary())
