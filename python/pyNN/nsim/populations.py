# python/pyNN/nsim/populations.py — Population, PopulationView and Assembly over nsim populations:
# a PyNN population is made as one nsim population at once (its parameters per unit when they
# differ), and keeps the native values it gave nsim so that get() can answer without the engine.
import numpy as np
from pyNN import common, errors
from pyNN.parameters import ParameterSpace, Sequence, simplify
from pyNN.standardmodels import StandardCellType

import nsim

from . import simulator
from .recording import Recorder
from .standardmodels import RELAY_PARAMS, RELAY_WEIGHT, SpikeSourceArray, SpikeSourcePoisson

state = simulator.state


def _as_engine_value(values):
    """A native parameter's per-unit array as nsim takes it: one number when every unit has the
    same, else a list of one number per unit."""
    values = np.asarray(values, dtype=float)
    if values.size and np.all(values == values.flat[0]):
        return float(values.flat[0])
    return [float(v) for v in values]


def _native_draw(value):
    """For a RandomDistribution on PyNN's NativeRNG (nsim's own generator), a function of the unit
    factor that gives nsim's distribution; None for anything else. NativeRNG cannot draw in Python:
    uniform, normal and normal_clipped are drawn by nsim, other distributions are refused."""
    from pyNN.random import NativeRNG, RandomDistribution
    if not (isinstance(value, RandomDistribution) and isinstance(value.rng, NativeRNG)):
        return None
    p = value.parameters
    if value.name == "uniform":
        return lambda f: nsim.uniform(*sorted((p["low"] * f, p["high"] * f)))
    if value.name == "normal":
        return lambda f: nsim.normal(p["mu"] * f, abs(p["sigma"] * f))
    if value.name == "normal_clipped":
        def clipped(f):
            lo, hi = sorted((p["low"] * f, p["high"] * f))
            opts = {k: float(v) for k, v in (("min", lo), ("max", hi)) if np.isfinite(v)}
            return nsim.normal(p["mu"] * f, abs(p["sigma"] * f), opts)
        return clipped
    raise NotImplementedError("RandomDistribution(%r) on NativeRNG: nsim draws uniform, normal and "
                              "normal_clipped" % value.name)


def _base(pop):
    """The Population a Population or PopulationView belongs to, and the unit indices (within it)
    of its cells, in the view's order."""
    if isinstance(pop, PopulationView):
        root = pop.grandparent
        return root, np.asarray(pop.index_in_grandparent(np.arange(pop.size)), dtype=np.int64)
    return pop, np.arange(pop.size, dtype=np.int64)


class Assembly(common.Assembly):
    _simulator = simulator


class PopulationView(common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        root, idx = _base(self)
        values = {}
        for name in names:
            v = root._native[name]
            values[name] = simplify(v[idx])
        return ParameterSpace(values, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        root, idx = _base(self)
        parameter_space.evaluate(simplify=False)
        full = {}
        for name, value in parameter_space.items():
            merged = np.array(root._native[name], copy=True)
            merged[idx] = value
            full[name] = merged
        root._apply_native(full)

    def _set_initial_value_array(self, variable, initial_values):
        root, idx = _base(self)
        values = np.asarray(initial_values.evaluate(simplify=False), dtype=float)
        if values.shape == ():
            values = np.full(len(idx), float(values))
        root._set_state(variable, values, idx)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        state.require_open("Population")
        state.refuse_after_build("creating a population")
        ct = self.celltype
        if not isinstance(ct, StandardCellType) or not hasattr(ct, "nsim_model"):
            raise NotImplementedError("cell type %s: pyNN.nsim runs PyNN's standard cells %s only" % (
                type(ct).__name__, ", ".join(list_standard_models())))
        ps = ct.native_parameters
        ps.shape = (self.size,)
        ps.evaluate(simplify=False)
        self._native = {}
        for name, value in ps.items():
            self._native[name] = np.array(value, dtype=object if isinstance(ct, SpikeSourceArray) else float)
        self._nsim_name = state.unique_name(self.label)
        if isinstance(ct, SpikeSourceArray):
            trains = []
            for seq in self._native["spike_times"]:
                times = seq.value if hasattr(seq, "value") else np.asarray(seq)
                trains.append([float(t) for t in np.asarray(times, dtype=float)])
            self._nsim = state.net.spike_source(times=trains, name=self._nsim_name)
        elif isinstance(ct, SpikeSourcePoisson):
            self._nsim = state.net.population(ct.nsim_model, self.size, dict(RELAY_PARAMS), None,
                                              self._nsim_name)
            self._poisson_devices()
        else:
            params = {name: _as_engine_value(v) for name, v in self._native.items()}
            try:
                self._nsim = state.net.population(ct.nsim_model, self.size, params, None, self._nsim_name)
            except nsim.Error as err:
                if "unknown model" in str(err) or "no model" in str(err):
                    raise NotImplementedError("%s needs nsim's model %s, which this build lacks (%s)" % (
                        type(ct).__name__, ct.nsim_model, err))
                raise
        first = int(self._nsim.first)
        self.all_cells = np.array([simulator.ID(first + i) for i in range(self.size)], dtype=simulator.ID)
        self._mask_local = np.ones((self.size,), dtype=bool)
        for cell in self.all_cells:
            cell.parent = self
        state.populations.append(self)

    def _poisson_devices(self):
        """A Poisson generator for each distinct (rate, start, duration) among the units."""
        keys = np.stack([self._native["rate"], self._native["start"], self._native["duration"]], axis=1)
        uniq = np.unique(keys, axis=0)
        for rate, start, duration in uniq:
            if rate <= 0 or duration <= 0:
                continue
            opts = {"rate": float(rate), "weight": RELAY_WEIGHT, "start": float(start),
                    "stop": float(start + duration)}
            if len(uniq) > 1:
                opts["neurons"] = [int(i) for i in np.nonzero(np.all(keys == (rate, start, duration), axis=1))[0]]
            try:
                state.net.poisson(self._nsim, opts)
            except nsim.Error as err:
                if "neurons" in opts and "neurons" in str(err):
                    raise NotImplementedError("SpikeSourcePoisson with rates, starts or durations that differ "
                                              "from unit to unit: this nsim build's poisson has no neurons "
                                              "option (%s)" % err)
                raise

    # -- parameters ----------------------------------------------------------------------------
    def _get_parameters(self, *names):
        return ParameterSpace({name: simplify(self._native[name]) for name in names}, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        self._apply_native({name: np.asarray(value) for name, value in parameter_space.items()})

    def _apply_native(self, values):
        """Give nsim new native parameter values (full per-unit arrays) and keep them."""
        ct = self.celltype
        if isinstance(ct, (SpikeSourceArray, SpikeSourcePoisson)):
            raise NotImplementedError("setting %s of %s after it is made: nsim's spike sources keep the "
                                      "times and rates they were made with" % (", ".join(values), type(ct).__name__))
        engine = {}
        for name, v in values.items():
            v = np.asarray(v, dtype=float)
            ev = _as_engine_value(v)
            if isinstance(ev, list) and state.built:
                raise NotImplementedError("setting %s to values that differ from unit to unit after the first "
                                          "run: nsim takes per-unit parameters before it only" % name)
            engine[name] = ev
        self._nsim.set(engine)
        for name, v in values.items():
            self._native[name] = np.array(v, dtype=float)

    # -- state ---------------------------------------------------------------------------------
    def _set_initial_value_array(self, variable, initial_values):
        native = _native_draw(initial_values.base_value)
        if native is not None:  # NativeRNG: nsim draws it, seeded per unit (setup(seed=...))
            if variable not in self.celltype.state_map:
                raise NotImplementedError("initial value of %s for %s" % (variable, type(self.celltype).__name__))
            name, factor = self.celltype.state_map[variable]
            self._nsim.set_state(name, native(factor))
            return
        values = initial_values.evaluate(simplify=False)
        values = np.asarray(values, dtype=float)
        if values.shape == ():
            values = np.full(self.size, float(values))
        self._set_state(variable, values, np.arange(self.size))

    def _set_state(self, variable, values, idx):
        ct = self.celltype
        if variable not in ct.state_map:
            if variable in ("isyn_exc", "isyn_inh") and np.all(values == 0):
                return  # nsim's currents start at 0
            if not ct.state_map and np.all(values == 0):
                return
            raise NotImplementedError("initial value of %s for %s" % (variable, type(ct).__name__))
        native, factor = ct.state_map[variable]
        values = np.asarray(values, dtype=float) * factor
        if len(idx) == self.size:
            full = values
        else:
            full = np.array([float(self._nsim.state(native, i)) for i in range(self.size)])
            full[idx] = values
        ev = _as_engine_value(full)
        self._nsim.set_state(native, ev)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


def list_standard_models():
    from . import standardmodels as sm
    return [c.__name__ for c in (sm.IF_curr_exp, sm.IF_curr_alpha, sm.IF_cond_exp, sm.EIF_cond_exp_isfa_ista,
                                 sm.SpikeSourceArray, sm.SpikeSourcePoisson)]
