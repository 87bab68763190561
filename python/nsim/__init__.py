"""nsim from Python: the same engine, objects and messages as nsim's Lua scripts.

    import nsim
    nsim.setup(out="out/cuba", seed=1, threads=1)    # optional: the first network opens a session
    net = nsim.network(dt=0.1)
    E = net.population("lif", 3200, {"tau_m": 20}, {"V_m": nsim.uniform(-60, -50)}, "E")
    net.connect(E, [E], rule="bernoulli", p=0.02, weight=16.2, delay=0.1)
    spikes = net.record_spikes([E])
    net.run(1000)
    nsim.end()                                        # run.json; also done at exit

Every function of the Lua `nsim` table and every method of its objects is reachable with the
same name and arguments (docs/guide.md); keyword arguments become the trailing options table.
Records come back with read_spikes, read_table and read_run (nsim.records). See docs/python.md.
"""
import atexit
import os
import sys

from . import _core
from ._core import Error
from .records import read_run, read_spikes, read_table, Run

__all__ = ["setup", "end", "session", "Error", "name_callers_outside", "read_run", "read_spikes", "read_table", "Run", "state",
           "version"]
version = _core.version

# Errors name the user's line, not a line in this package's files.
_core.skip_dir(os.path.dirname(os.path.abspath(__file__)) + os.sep)



def name_callers_outside(folder):
    """An error names the first calling line outside nsim's package and the folders given here:
    a package built on nsim (pyNN.nsim) passes its own folder, so messages name its user's line."""
    _core.skip_dir(os.path.abspath(os.fspath(folder)) + os.sep)


_nsim_table = None      # the Lua nsim table of the open session
_failure = None         # the first error that escaped to the top, as text
_interrupted = False


def _script_path():
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path if path else "python"


def _default_out(script):
    base = os.path.basename(script)
    if base.endswith(".py"):
        base = base[:-3]
    return os.path.join("out", base or "python")


def _parse_argv(argv):
    """nsim run's options from a command line: --out DIR, --seed N, --threads N, --set NAME=VALUE."""
    opts, settings, i = {}, {}, 0
    argv = list(argv)
    while i < len(argv):
        a = argv[i]
        if a in ("--out", "--seed", "--threads", "--set") and i + 1 < len(argv):
            v = argv[i + 1]
            i += 2
            if a == "--set":
                name, eq, value = v.partition("=")
                if not eq or not name:
                    raise Error("--set takes NAME=VALUE, not '%s'" % v)
                settings[name] = value
            elif a == "--out":
                opts["out"] = v
            else:
                try:
                    opts[a[2:]] = int(v)
                except ValueError:
                    raise Error("%s takes a whole number, not '%s'" % (a, v)) from None
        else:
            raise Error("unknown or incomplete option %s (--out, --seed, --threads, --set)" % a)
    return opts, settings


def setup(out=None, seed=None, threads=None, set=None, argv=None):
    """Open a session: the output folder `out` (default out/SCRIPT, as `nsim run`), the seed (1),
    the threads (1), and `set` ({name: value}, what nsim.param reads, as `nsim run --set`). argv
    (say sys.argv[1:]) may give them as nsim run's options --out, --seed, --threads, --set; the
    keyword arguments win over it. An earlier run in the folder is moved aside as nsim run does.
    Returns the output folder."""
    global _nsim_table, _failure, _interrupted
    opts, settings = _parse_argv(argv or [])
    settings.update(set or {})
    script = _script_path()
    out = out if out is not None else opts.get("out", _default_out(script))
    seed = seed if seed is not None else opts.get("seed", 1)
    threads = threads if threads is not None else opts.get("threads", 1)
    _failure, _interrupted = None, False
    _nsim_table = _core.start(script, os.fspath(out), int(seed), int(threads), settings)
    return out


def session():
    """The open session ({out, script, simulated}) or None."""
    return _core.session()


def end():
    """Close the session: the networks are freed, run.json says what the run did. Returns the
    output folder (None when there was no session). Objects of the session are unusable after."""
    global _nsim_table
    if _nsim_table is None:
        return None
    _nsim_table = None
    return _core.finish(None, False)


def _table():
    if _nsim_table is None:
        setup()
    return _nsim_table


def state(pop, var):
    """Every unit's value of state variable var of population pop, as a float64 numpy array."""
    import numpy
    n = len(pop)
    return numpy.fromiter((pop.state(var, i) for i in range(n)), dtype=numpy.float64, count=n)


def __getattr__(name):
    # nsim.network, nsim.uniform, nsim.raster, nsim.stats, nsim.train, ...: the Lua table's.
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_table(), name)


def __dir__():
    return sorted(set(globals()) | {"network", "uniform", "normal", "cauchy", "param", "raster", "stats", "psd",
                                    "figure", "train", "compare", "outdir"})


# An exception that reaches the top ends the session as `nsim run` ends a failed script: before
# anything was simulated its outputs are discarded; after, run.json says "failed" (or
# "interrupted") and the records are kept.
_previous_hook = sys.excepthook


def _excepthook(kind, value, tb):
    global _failure, _interrupted
    if _failure is None:
        _failure = str(value) or kind.__name__
        _interrupted = issubclass(kind, KeyboardInterrupt)
    _previous_hook(kind, value, tb)


sys.excepthook = _excepthook


@atexit.register
def _at_exit():
    global _nsim_table
    if _nsim_table is None:
        return
    _nsim_table = None
    try:
        _core.finish(_failure, _interrupted)
    except Error as e:
        sys.stderr.write("nsim: %s\n" % e)
