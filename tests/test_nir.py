# tests/test_nir.py — NIR files written by hand with h5py in NIR 1.0's layout (not by nsim's writer)
# run through nsim; the spikes and readouts are checked against numpy running the discretised
# equations of docs/nir.md in their plain form (v, not nsim's v - v_reset). Then bad files are
# refused (one line, status 2, nothing written) and a file nsim exports is checked with h5py to be
# laid out as NIR says; ncps CfC and LTC .npz files exported as nsim.CfC / nsim.LTC nodes and loaded
# back equal to the bit beside the .npz loaded directly. Run by tests/test_nir_py.sh with NSIM set;
# prints "N passed, N failed" last.
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

NSIM = os.environ.get("NSIM", "./build/nsim")
from tally import check, summary


def write_nir(path, nodes, edges, version="1.0.0", meta=None, fixed=False):
    """A NIR file by hand: version, node/{type, nodes/NAME/{type, params...}, edges, metadata}."""
    def string(g, k, s):
        if fixed:  # fixed-length ASCII, as some writers do
            g.create_dataset(k, data=np.bytes_(s))
        else:
            g.create_dataset(k, data=s, dtype=h5py.string_dtype())
    with h5py.File(path, "w") as f:
        if version is not None:
            string(f, "version", version)
        g = f.create_group("node")
        string(g, "type", "NIRGraph")
        if nodes is not None:
            ns = g.create_group("nodes")
            for name, params in nodes.items():
                n = ns.create_group(name)
                for k, v in params.items():
                    if isinstance(v, str):
                        string(n, k, v)
                    else:
                        n.create_dataset(k, data=np.asarray(v))
        if edges is not None:
            e = np.array(edges, dtype="S" if fixed else h5py.string_dtype())
            g.create_dataset("edges", data=e)
        if meta:
            m = g.create_group("metadata")
            for k, v in meta.items():
                m.create_dataset(k, data=v)


def run_lua(work, body, name="run"):
    script = os.path.join(work, name + ".lua")
    with open(script, "w") as f:
        f.write(body)
    out = os.path.join(work, "out_" + name)
    p = subprocess.run([NSIM, "run", script, "--out", out, "--quiet"], capture_output=True, text=True)
    return p, out


def lua_times(times):
    return "{" + ", ".join("{" + ", ".join("%.17g" % t for t in ts) + "}" for ts in times) + "}"


def drive(work, nir, n_in, times, dt, T, name, opts=True):
    """Load nir fed by a spike source, run steps, print every layer's first id, the logits and states."""
    body = """local net = nsim.network{dt = %g}
local input = net:spike_source{times = %s, n = %d}
local g = net:load_nir("%s", input%s)
net:record_spikes(g.layers)
net:run(g.steps * net.dt)
for _, p in ipairs(g.layers) do
  print("first " .. p.name .. " " .. p.first .. " " .. p.model)
  if p.model == "lif_bptt" then
    local v = {}
    for i = 0, p.n - 1 do v[i + 1] = string.format("%%.17g", p:state("V_m", i)) end
    print("vm " .. p.name .. " " .. table.concat(v, " "))
  end
end
local l = g.logits()
local s = {}
for c = 1, #l do s[c] = string.format("%%.17g", l[c]) end
print("logits " .. table.concat(s, " "))
print("steps " .. g.steps .. " T " .. g.T .. " kind " .. g.readout_kind .. " readout " .. g.readout.model)
""" % (dt, lua_times(times), n_in, nir, (", {T = %d}" % T) if opts else "")
    p, out = run_lua(work, body, name)
    if p.returncode != 0:
        return None, p.stderr.strip()
    res = {"first": {}, "model": {}}
    for line in p.stdout.splitlines():
        w = line.split()
        if w[0] == "first":
            res["first"][w[1]] = int(w[2])
            res["model"][w[1]] = w[3]
        elif w[0] == "vm":
            res.setdefault("vm", {})[w[1]] = np.array([float(x) for x in w[2:]])
        elif w[0] == "logits":
            res["logits"] = np.array([float(x) for x in w[1:]])
        elif w[0] == "steps":
            res["steps"], res["T"], res["kind"], res["readout"] = int(w[1]), int(w[3]), w[5], w[7]
    sp = np.loadtxt(os.path.join(out, "spikes.csv"), delimiter=",", skiprows=1, ndmin=2)
    res["spikes"] = sp
    return res, ""


def run_graph(work, name, nodes, edges, rng, n_in, spikes, dt, T, write_kw=None, opts=True):
    """Write the graph as NAME.nir, drive it with `spikes` random spike times per input unit
    (drive) and check that it ran: (the result or None, the spike times)."""
    path = os.path.join(work, name + ".nir")
    write_nir(path, nodes, edges, **(write_kw or {}))
    times = [[(s + 1) * dt for s in sorted(rng.choice(T, spikes, replace=False))] for _ in range(n_in)]
    res, err = drive(work, path, n_in, times, dt, T, name, opts=opts)
    check(res is not None, name + " ran: " + err)
    return res, times


def layer_spikes(res, name, n, dt):
    """{(step, unit)} of layer name from spikes.csv (t_ms is the end of the step: (step + 1) dt)."""
    first = res["first"][name]
    sp = res["spikes"]
    out = set()
    for t, i in sp:
        if first <= i < first + n:
            out.add((int(round(t / dt)) - 1, int(i) - first))
    return out


def input_grid(times, dt, n, steps):
    """x[step][unit]: 1 where a spike of the source leaves (a spike at (s + 1) dt leaves in step s)."""
    x = np.zeros((steps, n))
    for i, ts in enumerate(times):
        for t in ts:
            x[int(round(t / dt)) - 1, i] += 1
    return x


def case_lif_li(work):
    """Input -> Affine -> LIF -> Affine -> LI -> Output, per-neuron taus, leaks and resets."""
    rng = np.random.default_rng(3)
    n_in, H, C, dt, T = 4, 5, 3, 0.5, 40
    dt_s = dt * 1e-3
    f32 = np.float32
    W1 = rng.normal(1.5, 1.0, (H, n_in)).astype(f32)
    b1 = rng.normal(0.1, 0.05, H).astype(f32)
    tau = np.array([2e-3, 3e-3, 5e-3, 8e-3, 1e-2], f32)
    r = np.array([1.0, 1.5, 2.0, 2.5, 3.0], f32)
    v_leak = np.array([0.0, 0.125, -0.25, 0.5, 0.0], f32)
    v_reset = np.array([0.0, -0.25, 0.125, 0.0, -0.5], f32)
    v_th = v_reset + f32(1.0)
    W2 = rng.normal(0, 0.8, (C, H)).astype(f32)
    b2 = np.array([0.0, 0.05, -0.05], f32)
    tau_o = np.full(C, 4e-3, f32)
    r_o = np.array([1.0, 2.0, 0.5], f32)
    vl_o = np.array([0.0, 0.25, -0.125], f32)
    nodes = {"in": {"type": "Input", "shape": np.array([n_in], np.int64)},
             "fc1": {"type": "Affine", "weight": W1, "bias": b1},
             "lif": {"type": "LIF", "tau": tau, "r": r, "v_leak": v_leak, "v_threshold": v_th, "v_reset": v_reset},
             "fc2": {"type": "Affine", "weight": W2, "bias": b2},
             "li": {"type": "LI", "tau": tau_o, "r": r_o, "v_leak": vl_o},
             "out": {"type": "Output", "shape": np.array([C], np.int64)}}
    edges = [("in", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "li"), ("li", "out")]
    res, times = run_graph(work, "lif_li", nodes, edges, rng, n_in, 20, dt, T)
    if res is None:
        return
    steps = T + 2
    check(res["steps"] == steps and res["kind"] == "max" and res["readout"] == "leaky_readout",
          "lif_li: steps %s kind %s readout %s" % (res.get("steps"), res.get("kind"), res.get("readout")))
    check(res["model"].get("lif") == "lif_bptt", "lif_li: the LIF node is a lif_bptt population")
    # numpy: the NIR equations discretised exactly over dt, input held over the step
    x = input_grid(times, dt, n_in, steps)
    d = lambda t: np.exp(-dt_s / t.astype(float))
    be, gl = d(tau), r.astype(float) * (1 - d(tau))
    v = np.zeros(H)
    z = np.zeros((steps, H))
    for s in range(1, steps):  # the LIF's first live step is 1: one step behind the input
        I = W1.astype(float) @ x[s - 1] + b1
        v = v_leak + (v - v_leak) * be + gl * I
        z[s] = v > v_th
        v = np.where(z[s] > 0, v_reset.astype(float), v)
    bo, go = d(tau_o), r_o.astype(float) * (1 - d(tau_o))
    U = np.zeros(C)
    Umax = np.full(C, -np.inf)
    for s in range(2, 2 + T):
        U = vl_o + (U - vl_o) * bo + go * (W2.astype(float) @ z[s - 1] + b2)
        Umax = np.maximum(Umax, U)
    want = {(s, i) for s in range(steps) for i in range(H) if z[s, i]}
    got = layer_spikes(res, "lif", H, dt)
    check(len(want) > 20 and got == want, "lif_li: LIF spikes: nsim %d, numpy %d, differing %s" %
          (len(got), len(want), sorted(got ^ want)[:6]))
    check(np.allclose(res["vm"]["lif"], v - v_reset, rtol=1e-9, atol=1e-12),
          "lif_li: final V_m (v - v_reset) %s, numpy %s" % (res["vm"]["lif"], v - v_reset))
    check(np.allclose(res["logits"], Umax, rtol=1e-9, atol=1e-12), "lif_li: LI maxima %s, numpy %s" % (res["logits"], Umax))


def case_cuba(work):
    """Input (2 x 3) -> Flatten -> Linear -> Scale -> CubaLIF -> Affine -> Output (the time mean),
    strings fixed-length, T from the graph's metadata."""
    rng = np.random.default_rng(5)
    n_in, H, C, dt, T = 6, 4, 3, 1.0, 30
    dt_s = dt * 1e-3
    Wl = rng.normal(0.6, 0.6, (H, n_in))
    sc = np.array([1.0, 0.5, 2.0, 1.5])
    tau_syn = np.full(H, 5e-3)
    tau_mem = np.array([4e-3, 6e-3, 1e-2, 2e-2])
    r = np.array([2.0, 1.5, 2.5, 3.0])
    v_leak = np.array([0.0, 0.3, 0.2, -0.2])
    v_th = np.full(H, 0.5)
    w_in = np.array([1.0, 2.0, 0.5, 1.0])
    Wa = rng.normal(0, 1.0, (C, H))
    ba = np.array([0.1, -0.2, 0.3])
    nodes = {"input": {"type": "Input", "shape": np.array([2, 3], np.int64)},
             "flat": {"type": "Flatten", "start_dim": 0, "end_dim": -1},
             "lin": {"type": "Linear", "weight": Wl},
             "scale": {"type": "Scale", "scale": sc},
             "cuba": {"type": "CubaLIF", "tau_syn": tau_syn, "tau_mem": tau_mem, "r": r, "v_leak": v_leak,
                      "v_threshold": v_th, "v_reset": np.zeros(H), "w_in": w_in},
             "fc": {"type": "Affine", "weight": Wa, "bias": ba},
             "output": {"type": "Output"}}
    edges = [("input", "flat"), ("flat", "lin"), ("lin", "scale"), ("scale", "cuba"), ("cuba", "fc"), ("fc", "output")]
    res, times = run_graph(work, "cuba", nodes, edges, rng, n_in, 10, dt, T, write_kw={"fixed": True, "meta": {"T": T}}, opts=False)
    if res is None:
        return
    steps = T + 2
    check(res["steps"] == steps and res["T"] == T and res["kind"] == "mean" and res["readout"] == "integrator",
          "cuba: steps %s T %s kind %s" % (res.get("steps"), res.get("T"), res.get("kind")))
    x = input_grid(times, dt, n_in, steps)
    a, be = np.exp(-dt_s / tau_syn), np.exp(-dt_s / tau_mem)
    I = np.zeros(H)
    v = np.zeros(H)
    z = np.zeros((steps, H))
    for s in range(1, steps):
        S = sc * (Wl @ x[s - 1])
        I = a * I + (1 - a) * w_in * S
        v = v_leak + (v - v_leak) * be + r * (1 - be) * I
        z[s] = v > v_th
        v = np.where(z[s] > 0, 0.0, v)
    mean = sum(Wa @ z[s - 1] + ba for s in range(2, 2 + T)) / T
    want = {(s, i) for s in range(steps) for i in range(H) if z[s, i]}
    got = layer_spikes(res, "cuba", H, dt)
    check(len(want) > 20 and got == want, "cuba: CubaLIF spikes: nsim %d, numpy %d, differing %s" %
          (len(got), len(want), sorted(got ^ want)[:6]))
    check(np.allclose(res["vm"]["cuba"], v, rtol=1e-9, atol=1e-12), "cuba: final V_m %s, numpy %s" % (res["vm"]["cuba"], v))
    check(np.allclose(res["logits"], mean, rtol=1e-9, atol=1e-12), "cuba: means %s, numpy %s" % (res["logits"], mean))


def case_threshold_if(work):
    """Input -> Affine -> Threshold -> Linear -> IF -> Output (the IF's spike counts over T)."""
    rng = np.random.default_rng(8)
    n_in, dt, T = 3, 1.0, 60
    dt_s = dt * 1e-3
    Wa = rng.normal(0, 1, (3, n_in))
    ba = np.array([0.2, -0.1, 0.0])
    thr = np.array([0.3, -0.05, 0.5])
    Wl = np.array([[1.0, 0.5, -0.5], [0.25, 1.0, 1.0]])
    r = np.array([350.0, 300.0])
    v_th = np.array([1.0, 0.75])
    v_reset = np.array([0.0, -0.25])
    nodes = {"input": {"type": "Input", "shape": np.array([n_in], np.int64)},
             "aff": {"type": "Affine", "weight": Wa, "bias": ba},
             "thr": {"type": "Threshold", "threshold": thr},
             "lin": {"type": "Linear", "weight": Wl},
             "if": {"type": "IF", "r": r, "v_threshold": v_th, "v_reset": v_reset},
             "output": {"type": "Output", "shape": np.array([2], np.int64)}}
    edges = [("input", "aff"), ("aff", "thr"), ("thr", "lin"), ("lin", "if"), ("if", "output")]
    res, times = run_graph(work, "thr_if", nodes, edges, rng, n_in, 40, dt, T)
    if res is None:
        return
    steps = T + 3
    check(res["steps"] == steps, "thr_if: steps %s, want %d" % (res.get("steps"), steps))
    x = input_grid(times, dt, n_in, steps)
    h = np.zeros((steps, 3))
    for s in range(1, steps):
        h[s] = (Wa @ x[s - 1] + ba) > thr
    v = np.zeros(2)
    z = np.zeros((steps, 2))
    for s in range(2, steps):
        v = v + r * dt_s * (Wl @ h[s - 1])
        z[s] = v > v_th
        v = np.where(z[s] > 0, v_reset, v)
    count = sum(z[s - 1] for s in range(3, 3 + T)) / T
    for name, n, zz in (("thr", 3, h), ("if", 2, z)):
        want = {(s, i) for s in range(steps) for i in range(n) if zz[s, i]}
        got = layer_spikes(res, name, n, dt)
        check(len(want) > 8 and got == want, "thr_if: %s spikes: nsim %d, numpy %d, differing %s" %
              (name, len(got), len(want), sorted(got ^ want)[:6]))
    check(np.allclose(res["vm"]["if"], v - v_reset, rtol=1e-9, atol=1e-12), "thr_if: final V_m %s, numpy %s" % (res["vm"]["if"], v - v_reset))
    check(np.allclose(res["logits"], count, rtol=1e-12, atol=1e-12), "thr_if: rates %s, numpy %s" % (res["logits"], count))


def lif_graph():
    H = 6
    nodes = {"in": {"type": "Input", "shape": np.array([4], np.int64)},
             "fc1": {"type": "Affine", "weight": np.ones((H, 4)), "bias": np.zeros(H)},
             "lif": {"type": "LIF", "tau": np.full(H, 1e-2), "r": np.ones(H), "v_leak": np.zeros(H),
                     "v_threshold": np.ones(H), "v_reset": np.zeros(H)},
             "fc2": {"type": "Affine", "weight": np.ones((2, H)), "bias": np.zeros(2)},
             "out": {"type": "Output", "shape": np.array([2], np.int64)}}
    edges = [("in", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "out")]
    return nodes, edges


def case_bad(work):
    """Bad files: one line 'nsim: SCRIPT:LINE: FILE: what', status 2, no output folder."""
    cases = []
    nodes, edges = lif_graph()
    cases.append(("no_nodes", None, edges, {}, r"no group node/nodes"))
    cases.append(("no_edges", nodes, None, {}, r"no dataset node/edges"))
    cases.append(("unknown_node", nodes, edges + [("lif", "ghost")], {}, r"edge lif -> ghost: no node named ghost"))
    n2 = dict(nodes)
    n2["fc1"] = {"type": "Affine", "weight": np.ones((5, 4)), "bias": np.zeros(5)}
    cases.append(("shape", n2, edges, {}, r"shape mismatch: edge fc1 -> lif: fc1 gives 5 values, lif takes 6"))
    n3 = dict(nodes)
    n3["lif"] = dict(nodes["lif"], v_reset=np.zeros(5))
    cases.append(("param_shape", n3, edges, {}, r"shape mismatch: node lif: v_reset has 5 values, [a-z_]+ 6"))
    n4 = dict(nodes)
    n4["conv"] = {"type": "Conv2d", "weight": np.ones((2, 1, 3, 3)), "bias": np.zeros(2), "stride": np.array([1, 1]),
                  "padding": np.array([0, 0]), "dilation": np.array([1, 1]), "groups": 1}
    cases.append(("conv2d", n4, edges + [("in", "conv"), ("conv", "fc2")], {},
                  r"node conv: Conv2d has no counterpart in nsim's engine"))
    n5 = dict(nodes)
    n5["pool"] = {"type": "SumPool2d", "kernel_size": np.array([2, 2]), "stride": np.array([2, 2]), "padding": np.array([0, 0])}
    cases.append(("pool", n5, edges, {}, r"node pool: SumPool2d has no counterpart in nsim's engine"))
    n6 = dict(nodes)
    n6["lif"] = dict(nodes["lif"])
    n6["lif"]["v_treshold"] = n6["lif"].pop("v_threshold")
    cases.append(("misspelt", n6, edges, {}, r"node lif: LIF takes no parameter 'v_treshold'"))
    n7 = dict(nodes)
    n7["lif"] = dict(nodes["lif"], type="Foo")
    cases.append(("unknown_type", n7, edges, {}, r"node lif: unknown type 'Foo'"))
    cases.append(("version", nodes, edges, {"version": "2.0.0"}, r"NIR version '2.0.0' \(nsim reads 1.x\)"))
    n8 = dict(nodes)
    n8["lif"] = dict(nodes["lif"], v_threshold=np.array([1, 1, 1, 1, 1, 2.0]))
    cases.append(("threshold_varies", n8, edges, {}, r"node lif: v_threshold - v_reset differs between neurons \(1, 2\)"))
    n9 = dict(nodes)
    n9["out2"] = {"type": "Output"}
    cases.append(("two_outputs", n9, edges + [("lif", "out2")], {}, r"1 Input and 2 Output nodes"))
    n10 = dict(nodes)
    n10["lif"] = dict(nodes["lif"], tau=np.full(6, -1e-2))
    cases.append(("negative_tau", n10, edges, {}, r"node lif: tau\[0\] is -0.01, must be >= 0"))
    n11 = dict(nodes)
    n11["lif"] = {"type": "CubaLIF", "tau_syn": np.full(6, 1e4), "tau_mem": np.full(6, 1e-2), "r": np.ones(6),
                  "v_leak": np.zeros(6), "v_threshold": np.ones(6)}
    cases.append(("tau_syn_long", n11, edges, {}, r"node lif: tau_syn 10000 s is 10000000 steps of 1 ms: nsim's synaptic decay per step is at most 0.999999"))
    big = 10000
    n12 = {"in": nodes["in"], "out": nodes["out"],
           "fc1": {"type": "Affine", "weight": np.ones((big, 4)), "bias": np.zeros(big)},
           "lif": {"type": "LIF", "tau": np.full(big, 1e-2), "r": np.ones(1), "v_leak": np.zeros(1), "v_threshold": np.ones(1)},
           "fc2": {"type": "Affine", "weight": np.ones((2, big)), "bias": np.zeros(2)}}
    cases.append(("too_large", n12, edges, {}, r"node lif: 10000 neurons: nsim builds at most 8192 a node"))
    for name, nd, ed, kw, pattern in cases:
        path = os.path.join(work, name + ".nir")
        write_nir(path, nd, ed, **kw)
        body = 'local net = nsim.network{dt = 1}\nlocal input = net:spike_source{times = {{1}}, n = 4}\nnet:load_nir("%s", input, {T = 5})\n' % path
        p, out = run_lua(work, body, "bad_" + name)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2, "%s: status %d, want 2 (%s)" % (name, p.returncode, p.stderr.strip()))
        check(len(lines) == 1, "%s: %d lines on stderr" % (name, len(lines)))
        want = r"^nsim: .*bad_%s\.lua:3: %s: %s" % (name, re.escape(path), pattern)
        check(bool(lines) and re.search(want, lines[0]) is not None, "%s: message %r does not match %r" % (name, lines[:1], want))
        check(not os.path.exists(out), "%s: left an output folder" % name)


NIR_PARAMS = {"Input": {"shape"}, "Output": {"shape"}, "Affine": {"weight", "bias"}, "Linear": {"weight"},
              "LIF": {"tau", "r", "v_leak", "v_threshold", "v_reset"},
              "CubaLIF": {"tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "v_reset", "w_in"},
              "LI": {"tau", "r", "v_leak"}, "CubaLI": {"tau_mem", "tau_syn", "r", "v_leak", "w_in"},
              "nsim.UltraLIF": {"definition", "theta", "eps", "reset_subtract", "ln_tau"}}


def read_cell(path):
    """The arrays of an nsim weights file (models/cell_file.h): {name: values}."""
    arrays, words = {}, open(path).read().split("\n")
    i = 1
    while i < len(words):
        w = words[i].split("#")[0].split()
        i += 1
        if not w or w[0] == "end":
            continue
        name, rows, cols = w[0], int(w[1]), int(w[2])
        vals = []
        while len(vals) < rows * cols:
            vals += [float(v) for v in words[i].split("#")[0].split()]
            i += 1
        arrays[name] = np.array(vals).reshape(rows, cols)
    return arrays


def case_layout(work):
    """A file nsim exports, read with h5py: NIR 1.0's groups, names and dtypes, and the values."""
    body = """local a = nsim.train{data = "randman", encoding = "spikes", neuron = "lif", T = 10, hidden = 8, epochs = 1,
  limit = 60, save = "lif.txt", nir = "lif.nir", readout = "leaky", syn_alpha = 0.5, nir_dt = 0.5}
local b = nsim.train{data = "randman", encoding = "spikes", neuron = "ultralif", T = 10, hidden = 8, epochs = 1,
  limit = 60, nir = "ultra.nir"}
print(a.nir) print(b.nir) print(b.file == nil)
"""
    p, out = run_lua(work, body, "layout")
    check(p.returncode == 0, "layout: the training run failed: " + p.stderr.strip())
    if p.returncode != 0:
        return
    check(p.stdout.split()[2] == "true", "layout: nsim.train without save returns no file")
    check(sorted(os.listdir(out)) == ["lif.nir", "lif.txt", "run.json", "ultra.nir"],
          "layout: the output folder holds %s" % sorted(os.listdir(out)))
    vlen = lambda d: h5py.check_string_dtype(d.dtype) is not None
    for name in ("lif.nir", "ultra.nir"):
        with h5py.File(os.path.join(out, name), "r") as f:
            check(vlen(f["version"]) and f["version"][()].decode().startswith("1."), name + ": version, a string 1.x")
            g = f["node"]
            check(g["type"][()] == b"NIRGraph", name + ": node/type NIRGraph")
            e = g["edges"]
            check(vlen(e) and e.ndim == 2 and e.shape[1] == 2, name + ": edges (N, 2) strings")
            nodes = g["nodes"]
            names = set(nodes.keys())
            for a, b in e[()]:
                check(a.decode() in names and b.decode() in names, name + ": edge %s -> %s names nodes" % (a, b))
            for k in nodes:
                nd = nodes[k]
                t = nd["type"][()].decode()
                check(vlen(nd["type"]) and t in NIR_PARAMS, name + ": node %s type %s" % (k, t))
                want = NIR_PARAMS.get(t, set())
                check(set(nd.keys()) - {"type"} == want, name + ": node %s (%s) holds %s, NIR says %s" %
                      (k, t, sorted(set(nd.keys()) - {"type"}), sorted(want)))
                for pk in nd:
                    if pk == "type" or pk == "definition":
                        continue
                    want_dt = np.int64 if pk == "shape" else np.float64
                    check(nd[pk].dtype == want_dt, name + ": %s/%s is %s" % (k, pk, nd[pk].dtype))
                if t in ("Affine", "Linear"):
                    check(nd["weight"].ndim == 2, name + ": %s weight is a matrix" % k)
            check(int(g["metadata/T"][()]) == 10, name + ": metadata T")
    # the values: the LIF's tau = -dt / ln beta, r = 1 / (1 - beta), the synapse's from syn_alpha
    arr = read_cell(os.path.join(out, "lif.txt"))
    with h5py.File(os.path.join(out, "lif.nir"), "r") as f:
        n = f["node/nodes"]
        beta = arr["decay0"].ravel()
        check(n["lif0/type"][()] == b"CubaLIF", "lif.nir: the hidden layer is CubaLIF (syn_alpha)")
        check(np.allclose(n["lif0/tau_mem"][()], -0.5e-3 / np.log(beta), rtol=1e-14), "lif.nir: tau_mem = -dt / ln beta")
        check(np.allclose(n["lif0/r"][()], 1 / (1 - beta), rtol=1e-14), "lif.nir: r = 1 / (1 - beta)")
        check(np.allclose(n["lif0/tau_syn"][()], -0.5e-3 / np.log(0.5), rtol=1e-14), "lif.nir: tau_syn = -dt / ln alpha")
        check(np.array_equal(n["lin0/weight"][()], arr["lin0.W"]) and np.array_equal(n["readout/weight"][()], arr["readout.W"]),
              "lif.nir: weights as saved")
        edges = [(a.decode(), b.decode()) for a, b in f["node/edges"][()]]
        check(edges == [("input", "lin0"), ("lin0", "lif0"), ("lif0", "readout"), ("readout", "li"), ("li", "output")],
              "lif.nir: the chain of edges %s" % edges)


def f32(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def cfc_sd(rng, M, N, U):
    """An ncps CfC state_dict (one backbone layer of U units, mixed memory), float32 as torch keeps it."""
    K = M + N
    sd = {"rnn_cell.backbone.0.weight": f32(rng, U, K, scale=0.5), "rnn_cell.backbone.0.bias": f32(rng, U, scale=0.1)}
    for h in ("ff1", "ff2", "time_a", "time_b"):
        sd["rnn_cell.%s.weight" % h] = f32(rng, N, U, scale=0.5)
        sd["rnn_cell.%s.bias" % h] = f32(rng, N, scale=0.3)
    sd["lstm.input_map.weight"] = f32(rng, 4 * N, M, scale=0.5)
    sd["lstm.input_map.bias"] = f32(rng, 4 * N, scale=0.1)
    sd["lstm.recurrent_map.weight"] = f32(rng, 4 * N, N, scale=0.5)
    return sd


def ltc_sd(rng, M, N):
    """An ncps LTC state_dict (raw parameters under softplus, affine mappings)."""
    u = lambda lo, hi, *sh: rng.uniform(lo, hi, sh).astype(np.float32)
    return {"rnn_cell.gleak": u(-1, 1, N), "rnn_cell.vleak": u(-0.2, 0.2, N), "rnn_cell.cm": u(-0.5, 0.5, N),
            "rnn_cell.sigma": u(3, 8, N, N), "rnn_cell.mu": u(0.3, 0.8, N, N), "rnn_cell.w": u(-1, 1, N, N),
            "rnn_cell.erev": np.sign(u(-1, 1, N, N)), "rnn_cell.sensory_sigma": u(3, 8, M, N),
            "rnn_cell.sensory_mu": u(0.3, 0.8, M, N), "rnn_cell.sensory_w": u(-1, 1, M, N),
            "rnn_cell.sensory_erev": np.sign(u(-1, 1, M, N)), "rnn_cell.sparsity_mask": np.ones((N, N), np.float32),
            "rnn_cell.sensory_sparsity_mask": np.ones((M, N), np.float32), "rnn_cell.input_w": u(0.5, 1.5, M),
            "rnn_cell.input_b": u(-0.2, 0.2, M), "rnn_cell.output_w": u(0.5, 1.5, N), "rnn_cell.output_b": u(-0.2, 0.2, N)}


def case_cells(work):
    """nsim.CfC and nsim.LTC: an ncps .npz exported to NIR, the file read with h5py, loaded back with
    load_nir beside the population loaded straight from the .npz, both fed by the same spikes: every
    recorded state equal to the bit. Then a CfC node with a missing array and one with a wrong shape."""
    rng = np.random.default_rng(18)
    M, N, steps = 3, 5, 40
    times = [sorted(set(int(t) for t in rng.integers(1, steps, 12))) for _ in range(M)]
    cases = [("cfc", "nsim.CfC", cfc_sd(rng, M, N, 8), "mode = 1, activation = 1", "h",
              {"mode": "no_gate", "activation": "tanh"}),
             ("ltc", "nsim.LTC", ltc_sd(rng, M, N), "implicit_constraints = 1, unfolds = 4", "v",
              {"implicit_constraints": 1, "unfolds": 4, "epsilon": 1e-8})]
    for model, ntype, sd, opts, var, want_opts in cases:
        npz = os.path.join(work, model + ".npz")
        np.savez(npz, **sd)
        body = """local M, N = %d, %d
local saved = nsim.export_nir(%r, "%s.nir", {%s})
local net = nsim.network{dt = 1.0}
local input = net:spike_source{times = %s, name = "input"}
local A = net:population("%s", N, {inputs = M, %s}, nil, {name = "A", weights = %r})
local I = {}
for i = 1, M do I[i] = {} for j = 1, M do I[i][j] = i == j and 1 or 0 end end
net:connect_graded(input, A, {weights = I})
local ld = net:load_nir(saved, input, {T = %d})
net:record_state(A, {vars = {"%s"}, file = "a.csv"})
net:record_state(ld.readout, {vars = {"%s"}, file = "b.csv"})
local B, differ = ld.readout, 0
for s = 1, ld.steps do -- every step, every unit's state read back in full double precision
  net:run(1)
  for i = 0, N - 1 do if A:state("%s", i) ~= B:state("%s", i) then differ = differ + 1 end end
end
print(ld.readout_kind, ld.readout.model, ld.steps, #ld.logits(), differ)
""" % (M, N, npz, model, opts, lua_times(times), model, opts, npz, steps, var, var, var, var)
        p, out = run_lua(work, body, "cell_" + model)
        check(p.returncode == 0, "%s: export and load_nir ran: %s" % (model, p.stderr.strip()))
        if p.returncode != 0:
            continue
        check(p.stdout.split()[:4] == ["state", model, str(steps + 1), str(N)], "%s: readout %r" % (model, p.stdout))
        check(p.stdout.split()[4:] == ["0"], "%s: every state of every step equal to the bit (%r differ)" % (model, p.stdout))
        a = open(os.path.join(out, "a.csv")).read()
        b = open(os.path.join(out, "b.csv")).read()
        va = np.loadtxt(os.path.join(out, "a.csv"), delimiter=",", skiprows=1, ndmin=2)
        check(va.shape[0] >= steps and np.ptp(va[:, 1:]) > 1e-3, "%s: the states move (%s)" % (model, va.shape,))
        vb = np.loadtxt(os.path.join(out, "b.csv"), delimiter=",", skiprows=1, ndmin=2)
        check(va.shape == vb.shape and np.array_equal(va[:, [0, 2]], vb[:, [0, 2]]), "%s: the recorded states equal" % model)
        with h5py.File(os.path.join(out, model + ".nir"), "r") as f:
            nodes = f["node/nodes"]
            types = {k: nodes[k]["type"][()].decode() for k in nodes}
            check(types == {"input": "Input", model: ntype, "output": "Output"}, "%s: node types %r" % (model, types))
            node = nodes[model]
            arrays = {k for k in node if k != "type" and k not in want_opts}
            check(arrays == set(sd), "%s: the node's arrays are the .npz's (%r)" % (model, sorted(arrays ^ set(sd))))
            check(all(node[k].shape == sd[k].shape and np.array_equal(node[k][()], sd[k].astype(np.float64)) for k in sd),
                  "%s: every array equal to the .npz's, shape and values" % model)
            got = {k: (node[k][()].decode() if isinstance(node[k][()], bytes) else node[k][()].item()) for k in want_opts}
            check(got == want_opts, "%s: options %r" % (model, got))
            check(list(nodes["input"]["shape"][()]) == [M] and list(nodes["output"]["shape"][()]) == [N],
                  "%s: Input and Output shapes" % model)
            edges = sorted(tuple(x.decode() for x in e) for e in f["node/edges"][()])
            check(edges == sorted([("input", model), (model, "output")]), "%s: edges %r" % (model, edges))
    # refusals: a CfC node with a missing array, with a wrong shape: one line, status 2, nothing written
    sd = cfc_sd(rng, M, N, 8)
    bad = [("missing", lambda d: d.pop("rnn_cell.ff2.bias"), "no array rnn_cell.ff2.bias"),
           ("shape", lambda d: d.__setitem__("rnn_cell.time_a.weight", f32(rng, N, 7)), "rnn_cell.time_a.weight")]
    for tag, spoil, want in bad:
        d = dict(sd)
        spoil(d)
        nir = os.path.join(work, "bad_%s.nir" % tag)
        nodes = {"input": {"type": "Input", "shape": np.array([M])}, "cfc": dict(d, type="nsim.CfC", mode="default"),
                 "output": {"type": "Output", "shape": np.array([N])}}
        write_nir(nir, nodes, [("input", "cfc"), ("cfc", "output")])
        body = """local net = nsim.network{dt = 1.0}
local input = net:spike_source{times = {{1}, {2}, {3}}, name = "input"}
local ld = net:load_nir(%r, input)
net:record_state(ld.readout, {vars = {"h"}, file = "b.csv"})
net:run(5)
""" % nir
        p, out = run_lua(work, body, "bad_cell_" + tag)
        lines = p.stderr.strip().split("\n")
        check(p.returncode == 2 and len(lines) == 1 and want in lines[0] and "node cfc" in lines[0],
              "cfc %s: refused in one line naming the node and the array (%d: %r)" % (tag, p.returncode, p.stderr))
        check(not os.path.exists(os.path.join(out, "b.csv")), "cfc %s: nothing written" % tag)
        # and on export: the same arrays as an .npz
        npz = os.path.join(work, "bad_%s.npz" % tag)
        np.savez(npz, **d)
        p, out = run_lua(work, 'nsim.export_nir(%r, "x.nir")\n' % npz, "bad_export_" + tag)
        lines = p.stderr.strip().split("\n")
        check(p.returncode == 2 and len(lines) == 1 and want in lines[0], "cfc %s export: refused in one line (%r)" % (tag, p.stderr))
        check(not os.path.exists(os.path.join(out, "x.nir")) and not os.path.exists(os.path.join(out, "x.nir.tmp")),
              "cfc %s export: nothing written" % tag)


def main():
    with tempfile.TemporaryDirectory(prefix="nsim-nir-py-") as work:
        case_lif_li(work)
        case_cuba(work)
        case_threshold_if(work)
        case_bad(work)
        case_layout(work)
        case_cells(work)
    sys.exit(summary())


main()
