# python/pyNN/nsim/__init__.py — pyNN.nsim, the PyNN 0.10 backend on nsim's engine: `import
# pyNN.nsim as sim` runs a PyNN script on nsim. setup() starts an nsim session (output folder,
# seed, threads) and network; docs/pynn.md says what is supported, mapped and refused.
import logging

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_TIMESTEP, DEFAULT_MIN_DELAY
from pyNN.connectors import *  # noqa: F401,F403 (PyNN's connectors, computed by projections.py)
from pyNN.recording import *  # noqa: F401,F403
from pyNN.standardmodels import StandardCellType
from pyNN.recording import get_io  # makes the file's folder (neo.io's does not)
from pyNN.random import NumpyRNG, GSLRNG, NativeRNG, RandomDistribution  # noqa: F401

from . import simulator
from .standardmodels import (IF_curr_exp, IF_curr_alpha, IF_cond_exp, EIF_cond_exp_isfa_ista,  # noqa: F401
                             SpikeSourceArray, SpikeSourcePoisson, StaticSynapse, STDPMechanism,
                             SpikePairRule, AdditiveWeightDependence, MultiplicativeWeightDependence,
                             DCSource, StepCurrentSource, ACSource, NoisyCurrentSource)
from .populations import Population, PopulationView, Assembly, list_standard_models  # noqa: F401
from .projections import Projection

logger = logging.getLogger("PyNN")


def _skip_own_frames():
    """nsim's messages name the caller's file and line: the user's PyNN script, not this
    backend's files or PyNN's own (frames from those folders are passed over)."""
    import os
    import nsim
    import pyNN
    nsim.name_callers_outside(os.path.dirname(os.path.abspath(__file__)))
    for folder in pyNN.__path__:
        nsim.name_callers_outside(folder)


_skip_own_frames()


def _unavailable(name, why):
    def refuse(*args, **kwargs):
        raise NotImplementedError("%s is not available in pyNN.nsim: %s" % (name, why))
    refuse.__name__ = name
    return refuse


# PyNN's other standard models (cells, synapses, plasticity rules, current sources), refused by name
def _refuse_the_rest():
    import inspect
    from pyNN.standardmodels import cells, synapses, electrodes
    for module in (cells, synapses, electrodes):
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and obj.__module__ == module.__name__ and name not in globals() \
                    and not name.startswith(("Standard", "STDP")):
                globals()[name] = _unavailable(name, "nsim has no model for it")


_refuse_the_rest()


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """Start an nsim session and network. Extra parameters: out (the output folder, default
    out/<script name>), seed (default 1; rng_seed is taken too), threads (default 1)."""
    max_delay = extra_params.get("max_delay", DEFAULT_MAX_DELAY)
    common.setup(timestep, min_delay, **extra_params)
    # Options of other backends are ignored, as every backend ignores the others' (a warning says
    # so), except those whose meaning nsim cannot give
    known = {"max_delay", "out", "seed", "rng_seed", "threads"}
    if extra_params.get("spike_precision", "on_grid") != "on_grid":
        raise NotImplementedError("setup(spike_precision=%r): pyNN.nsim's standard cells spike on the grid "
                                  "(nsim's lif_ps is not mapped to a PyNN cell type)" % extra_params["spike_precision"])
    for key in extra_params:
        if key not in known:
            logger.warning("pyNN.nsim: setup(%s=...) ignored (it takes out, seed, threads and max_delay)", key)
    state = simulator.state
    state.clear()
    seed = extra_params.get("seed", extra_params.get("rng_seed", 1))
    state.open(timestep, out=extra_params.get("out"), seed=seed, threads=extra_params.get("threads", 1))
    state.min_delay = min_delay
    state.max_delay = max_delay
    return rank()


def end(compatible_output=True):
    """Write what was asked to be written at the end, then end the nsim session (run.json)."""
    state = simulator.state
    for (population, variables, filename) in state.write_on_end:
        io = get_io(filename)
        population.write_data(io, variables)
    state.write_on_end = []
    state.close()


run, run_until = common.build_run(simulator)
run_for = run


def reset(annotations={}):
    """Refused once the network has run: nsim runs only continue (NotImplementedError)."""
    simulator.state.reset()


initialize = common.initialize

get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)


def get_min_delay():  # noqa: F811
    return simulator.state.min_delay_ms


create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)  # noqa: F405
record = common.build_record(simulator)


def record_v(source, filename):
    return record(["v"], source, filename)


def record_gsyn(source, filename):
    return record(["gsyn_exc", "gsyn_inh"], source, filename)
