# tests/test_python.py — `import nsim` against the nsim command and against independent readers:
# the same script in Lua and in Python writes byte-identical records; records read back as numpy
# arrays equal the CSV text parsed here with the csv module; errors carry the Lua binding's one-line
# message with the Python caller's file and line; a refused script leaves nothing, a failed one
# keeps what it recorded and says so in run.json; an interrupted one says "interrupted".
# Run by tests/test_python.sh (PYTHONPATH and NSIM set); prints "N passed, N failed" last.
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

NSIM = os.environ["NSIM"]
ROOT = os.environ.get("NSIM_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), ".."))
PY = sys.executable
from tally import check, summary


def run(cmd, cwd, **kw):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def json_of(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


TIMING = {"build_s", "simulate_s", "wall_s", "script"}


def same_run(work, lua, py, settings, threads, label):
    """The Lua script and its Python transcription, same settings: the same files, byte for byte."""
    sets = sum((["--set", s] for s in settings), [])
    r1 = run([NSIM, "run", os.path.join(ROOT, lua), "--out", "lua", "--threads", str(threads), "--quiet"] + sets, work)
    r2 = run([PY, os.path.join(ROOT, py), "--out", "py", "--threads", str(threads)] + sets, work)
    check(r1.returncode == 0 and r2.returncode == 0, "%s: both ran (%s | %s)" % (label, r1.stderr[-300:], r2.stderr[-300:]))
    if r1.returncode or r2.returncode:
        return
    files_lua = sorted(os.listdir(os.path.join(work, "lua")))
    files_py = sorted(os.listdir(os.path.join(work, "py")))
    check(files_lua == files_py, "%s: the same files (%s vs %s)" % (label, files_lua, files_py))
    for f in files_lua:
        if f.endswith(".csv"):
            check(read_bytes(os.path.join(work, "lua", f)) == read_bytes(os.path.join(work, "py", f)),
                  "%s: %s byte-identical" % (label, f))
    j1, j2 = json_of(os.path.join(work, "lua", "run.json")), json_of(os.path.join(work, "py", "run.json"))
    check({k: v for k, v in j1.items() if k not in TIMING} == {k: v for k, v in j2.items() if k not in TIMING},
          "%s: run.json says the same but for times and the script" % label)
    check(j2["script"].endswith(os.path.basename(py)) and j2["status"] == "ok", "%s: run.json names the .py" % label)
    check(j1["spikes"] > 100, "%s: the network spiked (%d)" % (label, j1["spikes"]))


def csv_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [[float(x) for x in r] for r in rows[1:] if r]


def records(work):
    """The readers against the csv module on the CUBA run's records."""
    import nsim
    folder = os.path.join(work, "py")
    t, ids = nsim.read_spikes(os.path.join(folder, "spikes.csv"))
    head, rows = csv_rows(os.path.join(folder, "spikes.csv"))
    rows_sp = rows
    check(head == ["t_ms", "neuron"], "spikes.csv header")
    check(len(t) == len(rows) and np.array_equal(t, [r[0] for r in rows]) and
          np.array_equal(ids, [int(r[1]) for r in rows]), "read_spikes equals the text parsed by csv")
    check(t.dtype == np.float64 and ids.dtype == np.int64, "spike arrays are float64 and int64")
    check(not t.flags.owndata and not t.flags.writeable, "the times are the reader's block, not a copy")
    tab = nsim.read_table(os.path.join(folder, "rate.csv"))
    head, rows = csv_rows(os.path.join(folder, "rate.csv"))
    check(tab.names == head, "rate.csv columns (%s)" % head)
    check(tab.matrix.shape == (len(rows), len(head)) and np.array_equal(tab.matrix, np.array(rows)),
          "read_table equals the text parsed by csv")
    check(np.shares_memory(tab[head[0]], tab.matrix), "columns are views of one block")
    r = nsim.read_run(folder)
    check(r.info == json_of(os.path.join(folder, "run.json")), "read_run's info is run.json")
    check("spikes.csv" in r.files and np.array_equal(r.spikes()[0], t), "read_run reads its spikes")
    pops = r.populations()
    check(sorted(pops) == ["E", "I"] and pops["E"]["size"] == 3200 and pops["I"]["first"] == 3200, "populations() (%s)" % pops)
    ti, ii = r.spikes(population="I")
    check(len(ti) == sum(1 for row in rows_sp if row[1] >= 3200) and ii.min() >= 0 and ii.max() < 800,
          "spikes of one population, ids counted from its first")
    try:
        import pandas  # noqa: F401
        fr = tab.frame()
        check(list(fr.columns) == head and np.array_equal(fr.to_numpy(), tab.matrix), "Table.frame() is the table")
        sf = r.spike_frame()
        check(list(sf.columns) == ["t_ms", "neuron"] and len(sf) == len(t), "spike_frame")
    except ImportError:
        print("test_python: pandas missing: DataFrame checks skipped")
    try:
        nsim.read_table(os.path.join(folder, "nope.csv"))
        check(False, "a missing record is refused")
    except nsim.Error as e:
        check("nope.csv" in str(e), "a missing record's message names it (%s)" % e)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def message_after_place(msg, script):
    """The message without its "FILE:LINE: " and the "nsim: " before it."""
    msg = msg.strip().splitlines()[-1]
    if msg.startswith("nsim: "):
        msg = msg[6:]
    if msg.startswith("nsim.Error: "):
        msg = msg[len("nsim.Error: "):]
    place = msg.find(script)
    if place >= 0:
        msg = msg[place + len(script):]
        msg = msg.split(": ", 1)[1] if ": " in msg else msg
    return msg


def errors(work):
    """A refused call: the Lua binding's message, the Python caller's line, nothing left."""
    cases = [
        ("unknown model", 'net:population("lif_typo", 10, nil, nil, "E")', 'net.population("lif_typo", 10, None, None, "E")'),
        ("bad rule", 'local E = net:population("lif", 10, nil, nil, "E")\nnet:connect(E, {E}, {rule = "bernouli", p = 0.1})',
         'E = net.population("lif", 10, None, None, "E")\nnet.connect(E, [E], rule="bernouli", p=0.1)'),
        ("bad parameter", 'net:population("lif", 10, {tau_m = -1}, nil, "E")', 'net.population("lif", 10, {"tau_m": -1}, None, "E")'),
        ("unknown option", 'local E = net:population("lif", 10, nil, nil, "E")\nnet:record_rate({E}, {bins = 3})',
         'E = net.population("lif", 10, None, None, "E")\nnet.record_rate([E], bins=3)'),
    ]
    for label, lua_body, py_body in cases:
        d = tempfile.mkdtemp(dir=work)
        # a record opened first, so that a refusal has something to take back
        write(os.path.join(d, "bad.lua"), "local net = nsim.network{dt = 0.1}\n"
              "net:record_spikes{net:population('lif', 2, nil, nil, 'R')}\n" + lua_body + "\n")
        write(os.path.join(d, "bad.py"), "import nsim\nnet = nsim.network(dt=0.1)\n"
              "net.record_spikes([net.population('lif', 2, None, None, 'R')])\n" + py_body + "\n")
        r1 = run([NSIM, "run", "bad.lua", "--out", "lua"], d)
        r2 = run([PY, "bad.py"], d)
        line = 3 + py_body.count("\n") + 1
        m1, m2 = message_after_place(r1.stderr, "bad.lua"), message_after_place(r2.stderr, "bad.py")
        check(r1.returncode == 2 and r2.returncode != 0, "%s: both refused (%d, %d)" % (label, r1.returncode, r2.returncode))
        check(m1 == m2 and m1, "%s: the same message (lua '%s' | python '%s')" % (label, m1, m2))
        check(("bad.py:%d: " % line) in r2.stderr, "%s: the message names bad.py:%d (%s)" % (label, line, r2.stderr[-200:]))
        check("nsim.Error" in r2.stderr, "%s: raised as nsim.Error" % label)
        check(not os.path.exists(os.path.join(d, "out", "bad")), "%s: nothing left behind" % label)


def failure_after_run(work):
    """An error once something was simulated: the records are kept, run.json says failed."""
    d = tempfile.mkdtemp(dir=work)
    write(os.path.join(d, "late.py"), """import nsim
net = nsim.network(dt=0.1)
E = net.population("lif", 20, {"I_e": 500}, None, "E")
net.record_spikes([E])
net.run(50)
net.population("lif_typo", 1, None, None, "X")
""")
    r = run([PY, "late.py"], d)
    folder = os.path.join(d, "out", "late")
    check(r.returncode != 0, "late failure exits non-zero")
    check(os.path.exists(os.path.join(folder, "spikes.csv")), "late failure keeps spikes.csv")
    info = json_of(os.path.join(folder, "run.json")) if os.path.exists(os.path.join(folder, "run.json")) else {}
    check(info.get("status") == "failed" and "lif_typo" in info.get("error", ""), "run.json says failed and why (%s)" % info)
    if os.path.exists(os.path.join(folder, "spikes.csv")):
        import nsim
        t, ids = nsim.read_spikes(os.path.join(folder, "spikes.csv"))
        # 500 pA into lif's defaults (tau_m 10 ms, C_m 250 pF): V_inf = E_L + 20 mV, above threshold
        # by 5 mV: the first spike at tau ln(20/5) + its step, then every t_ref + tau ln(20/5) ms
        period = 2.0 + 10 * np.log(20 / 5)
        check(len(t) == 20 * int((50 - 10 * np.log(4)) // period + 1), "every unit fired on its period (%d spikes)" % len(t))
        check(info.get("spikes") == len(t), "run.json counts the spikes kept")


def earlier_run_kept(work):
    """A second run into the same folder moves the first aside; nothing is overwritten."""
    d = tempfile.mkdtemp(dir=work)
    body = """import nsim, sys
nsim.setup(out="o", seed=int(sys.argv[1]))
net = nsim.network(dt=0.1)
E = net.population("lif", 30, None, {"V_m": nsim.uniform(-70, -50)}, "E")
net.poisson([E], rate=3000, weight=80)
net.record_spikes([E])
net.run(100)
"""
    write(os.path.join(d, "twice.py"), body)
    r1 = run([PY, "twice.py", "1"], d)
    first = read_bytes(os.path.join(d, "o", "spikes.csv")) if r1.returncode == 0 else b""
    r2 = run([PY, "twice.py", "2"], d)
    info = json_of(os.path.join(d, "o", "run.json")) if r2.returncode == 0 else {}
    prev = info.get("previous_run")
    check(r1.returncode == 0 and r2.returncode == 0 and prev, "the second run names where the first went (%s)" % prev)
    if prev:
        kept = os.path.join(d, prev) if not os.path.isabs(prev) else prev
        kept_file = os.path.join(kept, "spikes.csv")
        check(os.path.exists(kept_file) and read_bytes(kept_file) == first, "the first run's spikes are kept as they were")
        check(read_bytes(os.path.join(d, "o", "spikes.csv")) != first, "the second run wrote its own (another seed)")


def values(work):
    """Python values into the binding and back: arrays, numpy scalars, None, bad types, ended sessions."""
    import nsim
    folder = os.path.join(work, "values")
    for argv, words in ((["--bogus"], "unknown or incomplete option --bogus"), (["--set", "t_ms"], "--set takes NAME=VALUE"),
                        (["--seed", "x"], "--seed takes a whole number"), (["--threads", "0"], "threads = 0")):
        try:
            nsim.setup(out=folder, argv=argv)
            nsim.end()
            check(False, "setup(argv=%s) is refused" % argv)
        except nsim.Error as e:
            check(words in str(e) and nsim.session() is None and not os.path.exists(folder),
                  "setup(argv=%s): refused, no session, no folder (%s)" % (argv, e))
    nsim.setup(out=folder)
    net = nsim.network(dt=0.1)
    times = np.array([[1.0, 2.5, 7.0], [3.0, 4.0, 9.5]])
    src = net.spike_source(times=times, name="src")
    E = net.population("lif", np.int64(2), {"tau_m": np.float64(20.0), "I_e": None}, {"V_m": np.array([-70.0, -60.0])}, "E")
    check(len(E) == 2 and E.n == 2 and E.name == "E" and E.model == "lif", "population attributes")
    v = nsim.state(E, "V_m")
    check(v.dtype == np.float64 and np.array_equal(v, [-70.0, -60.0]), "nsim.state reads the initial V_m (%s)" % v)
    net.connect(src, E, rule="one_to_one", weight=np.float32(100.0), delay=1.0)
    rec = net.record_spikes([src])
    net.record_state(E, vars=["V_m", "I_ex"], interval=0.5, file="trace.csv")
    net.run(20)
    t, ids = nsim.read_spikes(rec.path)
    want = sorted((t0 + 0.0, i) for i, row in enumerate(times) for t0 in row)
    check([(a, b) for a, b in zip(t, ids)] == want, "a numpy array of spike times in, the same spikes out (%s)" % list(zip(t, ids)))
    check(isinstance(net.time, float) and net.time == 20.0, "net.time is 20.0 ms")
    net.run(0.0)  # flushes nothing new: the trace so far is complete after a run returns
    head, rows = csv_rows(os.path.join(folder, "trace.csv"))
    tab = nsim.read_table(os.path.join(folder, "trace.csv"))
    check(tab.names == head == ["t_ms", "neuron", "V_m", "I_ex"] and np.array_equal(tab.matrix, np.array(rows)),
          "a state record read as a table equals its text")
    try:
        net.population("lif", 3, {"tau_m": object()}, None, "X")
        check(False, "an object() is refused")
    except TypeError as e:
        check("cannot be passed" in str(e), "a value nsim cannot take: TypeError (%s)" % e)
    try:
        E.no_such_field
        check(False, "an unknown attribute is refused")
    except AttributeError as e:
        check("no field" in str(e), "an unknown attribute: AttributeError with the binding's words (%s)" % e)
    check(hasattr(net, "population") and not hasattr(E, "nope"), "hasattr works on nsim objects")
    check(nsim.uniform == nsim.uniform and nsim.uniform is not nsim.uniform and E != src and
          len({nsim.uniform, nsim.uniform}) == 1, "two handles of one object are equal and hash alike")
    first = E.first
    out = nsim.end()
    check(out == folder and json_of(os.path.join(folder, "run.json"))["status"] == "ok", "end() writes run.json")
    times, neurons, vals = nsim.read_run(folder).state("trace.csv", "I_ex")
    want = {(r[0], int(r[1])): r[3] for r in csv_rows(os.path.join(folder, "trace.csv"))[1]}
    check(list(neurons) == [first, first + 1] and len(times) * 2 == len(want) and
          all(vals[i, j] == want[(times[i], neurons[j])] for i in range(len(times)) for j in range(2)),
          "Run.state pivots the record: values[i, j] is the row of (times[i], neurons[j])")
    check(vals[:, 0].max() > 0, "the spike source's input shows in I_ex")
    try:
        net.run(10)
        check(False, "an object of an ended session is refused")
    except nsim.Error as e:
        check("ended" in str(e), "an ended session's object: nsim.Error (%s)" % e)
    check(nsim.end() is None, "end() without a session is harmless")


def training(work):
    """nsim.train from Python gives what it gives from Lua, to the last digit."""
    d = tempfile.mkdtemp(dir=work)
    opts = 'data = "randman", encoding = "spikes", neuron = "lif", T = 50, hidden = 16, epochs = 2, limit = 200, seed = 3'
    write(os.path.join(d, "t.lua"), "local r = nsim.train{%s}\n"
          'for _, e in ipairs(r.epochs) do print(string.format("%%.17g %%.17g", e.loss, e.test_acc)) end\n' % opts)
    write(os.path.join(d, "t.py"), "import nsim\nr = nsim.train(%s)\n"
          'for e in r["epochs"]:\n    print("%%.17g %%.17g" %% (e["loss"], e["test_acc"]))\n' % opts.replace(" = ", "="))
    r1 = run([NSIM, "run", "t.lua", "--out", "l", "--quiet"], d)
    r2 = run([PY, "t.py"], d)
    check(r1.returncode == 0 and r2.returncode == 0 and len(r1.stdout.split()) == 4,
          "training ran from both (%s | %s)" % (r1.stderr[-200:], r2.stderr[-200:]))
    check(r1.stdout == r2.stdout, "the same losses and accuracies (%r vs %r)" % (r1.stdout, r2.stdout))


def nir(work):
    """NIR from Python: a network trained from Python written as NIR, loaded back from Python, gives
    the logits of the same trained network loaded from nsim's own file, to the bit."""
    import nsim
    folder = os.path.join(work, "nir")
    nsim.setup(out=folder)
    T = 20
    r = nsim.train(data="randman", encoding="spikes", neuron="lif", T=T, hidden=16, epochs=1, limit=200, seed=2,
                   nir="net.nir", save="net.txt")
    check(r["nir"].endswith("net.nir") and os.path.exists(r["nir"]), "nsim.train(nir=) wrote %s" % r.get("nir"))
    rng = np.random.default_rng(7)
    times = [[int(k)] for k in rng.integers(1, T + 1, size=100)]
    logits = {}
    for how in ("nir", "file"):
        net = nsim.network(dt=1.0)
        src = net.spike_source(times=times, name="input")
        g = net.load_nir(r["nir"], src) if how == "nir" else net.load_network(r["file"], src)
        net.run(g["steps"])
        logits[how] = g["logits"]()
        check(g["layers"][0].spikes > 0, "%s: the hidden layer spiked" % how)
    check(len(logits["nir"]) == 10 and logits["nir"] == logits["file"],
          "NIR and nsim's file give the same logits (%s vs %s)" % (logits["nir"][:3], logits["file"][:3]))
    nsim.end()
    try:
        import h5py
        with h5py.File(os.path.join(folder, "net.nir"), "r") as f:
            types = sorted(f["node/nodes/%s/type" % k][()].decode() for k in f["node/nodes"])
        check("LIF" in types and "Affine" in types and "Input" in types and "Output" in types,
              "the file is a NIR graph (%s)" % types)
    except ImportError:
        print("test_python: h5py missing: the NIR layout check skipped")


def interrupt(work):
    """Ctrl-C during a run: the run stops, run.json says interrupted, the records are kept."""
    d = tempfile.mkdtemp(dir=work)
    write(os.path.join(d, "long.py"), """import nsim
net = nsim.network(dt=0.1)
E = net.population("lif", 2000, None, {"V_m": nsim.uniform(-70, -50)}, "E")
net.poisson([E], rate=3000, weight=80)
net.record_spikes([E])
net.run(1e7)
""")
    p = subprocess.Popen([PY, "long.py"], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runjson = os.path.join(d, "out", "long", "run.json")
    deadline = time.time() + 60
    while time.time() < deadline and not os.path.exists(runjson):
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    info = json_of(runjson) if os.path.exists(runjson) else {}
    check(p.returncode != 0, "an interrupted script exits non-zero (%s)" % p.returncode)
    check(info.get("status") == "interrupted", "run.json says interrupted (%s)" % info.get("status"))
    check("KeyboardInterrupt" in err, "Python sees KeyboardInterrupt (%s)" % err[-200:])
    check(os.path.exists(os.path.join(d, "out", "long", "spikes.csv")), "the records are kept")


def main():
    with tempfile.TemporaryDirectory() as work:
        same_run(work, "examples/cuba.lua", "examples/cuba.py", ["t_ms=300"], 1, "CUBA")
        records(work)
        w2 = tempfile.mkdtemp(dir=work)
        same_run(w2, "examples/brunel.lua", "examples/brunel.py", ["t_ms=200", "scale=0.1"], 2, "Brunel, 2 threads")
        errors(work)
        failure_after_run(work)
        earlier_run_kept(work)
        values(work)
        training(work)
        nir(work)
        interrupt(work)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
