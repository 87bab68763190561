# python/pyNN/nsim/standardmodels.py — PyNN's standard cells, synapses and current sources on
# nsim: each cell type names its nsim model, translates PyNN's names and units (nA, nF, µS) into
# nsim's (pA, pF, nS) and says how its state variables map; current sources become nsim devices.
import numpy as np
from pyNN import errors
from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import (build_translations, cells, electrodes, synapses,
                                 StandardCurrentSource)

import nsim

from .simulator import state

# ---- cells ---------------------------------------------------------------------------------------
# Each neuron type carries: nsim_model (the model name), state_map (PyNN variable -> (nsim state
# variable, factor: native = factor x PyNN)), weight_factor (PyNN weight -> nsim weight) and
# conductance (an inhibitory weight goes to nsim as a negative one).

_LIF_NAMES = (
    ("tau_m", "tau_m"),
    ("cm", "C_m", 1000.0),            # nF -> pF
    ("v_rest", "E_L"),
    ("v_thresh", "V_th"),
    ("v_reset", "V_reset"),
    ("tau_refrac", "t_ref"),
    ("i_offset", "I_e", 1000.0),      # nA -> pA
    ("tau_syn_E", "tau_ex"),
    ("tau_syn_I", "tau_in"),
)


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = build_translations(*_LIF_NAMES)
    nsim_model = "lif"
    state_map = {"v": ("V_m", 1.0)}
    weight_factor = 1000.0            # nA -> pA
    conductance = False


class IF_curr_alpha(cells.IF_curr_alpha):
    __doc__ = cells.IF_curr_alpha.__doc__
    translations = build_translations(*_LIF_NAMES)
    nsim_model = "lif_alpha"          # the weight is the alpha current's peak (pA)
    state_map = {"v": ("V_m", 1.0)}
    weight_factor = 1000.0
    conductance = False


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    translations = build_translations(
        ("tau_m", "g_L", "1000.0*cm/tau_m", "C_m/g_L"),   # nS from nF / ms
        ("cm", "C_m", 1000.0),
        ("v_rest", "E_L"),
        ("v_thresh", "V_th"),
        ("v_reset", "V_reset"),
        ("tau_refrac", "t_ref"),
        ("i_offset", "I_e", 1000.0),
        ("tau_syn_E", "tau_syn_ex"),
        ("tau_syn_I", "tau_syn_in"),
        ("e_rev_E", "E_ex"),
        ("e_rev_I", "E_in"),
    )
    nsim_model = "lif_cond_exp"
    state_map = {"v": ("V_m", 1.0), "gsyn_exc": ("g_ex", 1000.0), "gsyn_inh": ("g_in", 1000.0)}
    weight_factor = 1000.0            # µS -> nS
    conductance = True


class EIF_cond_exp_isfa_ista(cells.EIF_cond_exp_isfa_ista):
    __doc__ = cells.EIF_cond_exp_isfa_ista.__doc__
    translations = build_translations(
        ("cm", "C_m", 1000.0),
        ("tau_refrac", "t_ref"),
        ("v_spike", "V_peak"),
        ("v_reset", "V_reset"),
        ("v_rest", "E_L"),
        ("tau_m", "g_L", "1000.0*cm/tau_m", "C_m/g_L"),
        ("i_offset", "I_e", 1000.0),
        ("a", "a"),                   # nS in both
        ("b", "b", 1000.0),           # nA -> pA
        ("delta_T", "Delta_T"),
        ("tau_w", "tau_w"),
        ("v_thresh", "V_th"),
        ("e_rev_E", "E_ex"),
        ("tau_syn_E", "tau_syn_ex"),
        ("e_rev_I", "E_in"),
        ("tau_syn_I", "tau_syn_in"),
    )
    nsim_model = "aeif_cond_exp"
    state_map = {"v": ("V_m", 1.0), "w": ("w", 1000.0),
                 "gsyn_exc": ("g_ex", 1000.0), "gsyn_inh": ("g_in", 1000.0)}
    weight_factor = 1000.0
    conductance = True


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = build_translations(("spike_times", "spike_times"))
    nsim_model = "spike_source"
    state_map = {}


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = build_translations(
        ("start", "start"),
        ("rate", "rate"),
        ("duration", "duration"),
    )
    # nsim has no Poisson source population: its Poisson generator drives a population of relay
    # units (lif_delta that fire at every input event and hold no memory), which then is the
    # source (see populations.py and docs/pynn.md).
    nsim_model = "lif_delta"
    state_map = {}


# The relay's parameters: at rest at 0 mV, threshold 1 mV, no refractory period; each Poisson
# event (RELAY_WEIGHT mV) crosses the threshold in the step it arrives and the reset forgets it.
RELAY_PARAMS = {"E_L": 0.0, "V_reset": 0.0, "V_th": 1.0, "t_ref": 0.0, "tau_m": 10.0, "C_m": 250.0}
RELAY_WEIGHT = 10.0


# ---- synapses ------------------------------------------------------------------------------------
# Weights and delays keep PyNN's units here (nA or µS, ms); projections.py converts them with the
# target cell type's weight_factor, where the receptor is known.

class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(("weight", "weight"), ("delay", "delay"))

    def _get_minimum_delay(self):
        return state.min_delay_ms


class STDPMechanism(synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = build_translations(
        ("weight", "weight"),
        ("delay", "delay"),
        ("dendritic_delay_fraction", "dendritic_delay_fraction"),
    )

    def _get_minimum_delay(self):
        return state.min_delay_ms


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = build_translations(
        ("tau_plus", "tau_plus"),
        ("tau_minus", "tau_minus"),
        ("A_plus", "A_plus"),
        ("A_minus", "A_minus"),
    )
    possible_models = set(["stdp"])


class AdditiveWeightDependence(synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = build_translations(("w_max", "w_max"), ("w_min", "w_min"))
    possible_models = set(["stdp"])
    mu = 0.0                          # nsim's stdp with mu_plus = mu_minus = 0


class MultiplicativeWeightDependence(synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = build_translations(("w_max", "w_max"), ("w_min", "w_min"))
    possible_models = set(["stdp"])
    mu = 1.0                          # mu_plus = mu_minus = 1


def _evaluate(component):
    """A synapse component's PyNN parameters as plain numbers."""
    ps = component.parameter_space
    ps.shape = (1,)
    ps.evaluate(simplify=True)
    out = {}
    for key, value in ps.items():
        if isinstance(value, np.ndarray):
            if value.size and np.all(value == value.flat[0]):
                value = value.flat[0]
            else:
                raise NotImplementedError("STDP parameter %s varying from synapse to synapse" % key)
        out[key] = float(value)
    return out


def stdp_table(synapse_type, factor):
    """nsim's synapse table (model "stdp") for a PyNN STDPMechanism; factor turns PyNN weights
    into the target's nsim weights (negative for an inhibitory conductance)."""
    td, wd = synapse_type.timing_dependence, synapse_type.weight_dependence
    if synapse_type.voltage_dependence is not None:
        raise NotImplementedError("STDPMechanism with a voltage dependence")
    if not isinstance(td, SpikePairRule):
        raise NotImplementedError("STDP timing dependence %s (SpikePairRule only)" % type(td).__name__)
    if not isinstance(wd, (AdditiveWeightDependence, MultiplicativeWeightDependence)):
        raise NotImplementedError("STDP weight dependence %s (AdditiveWeightDependence and "
                                  "MultiplicativeWeightDependence only)" % type(wd).__name__)
    if synapse_type.dendritic_delay_fraction != 1.0:
        raise NotImplementedError(
            "STDPMechanism(dendritic_delay_fraction=%g): nsim's STDP takes the whole delay as "
            "dendritic, as NEST does (1.0 only)" % synapse_type.dendritic_delay_fraction)
    t, w = _evaluate(td), _evaluate(wd)
    if w["w_min"] != 0.0:
        raise NotImplementedError("STDP with w_min = %g: nsim's stdp bounds weights to [0, Wmax] "
                                  "(w_min = 0 only)" % w["w_min"])
    if t["A_plus"] <= 0.0:
        raise NotImplementedError("STDP with A_plus = %g: nsim's stdp scales depression by "
                                  "A_minus / A_plus (A_plus > 0 only)" % t["A_plus"])
    return {"model": "stdp", "tau_plus": t["tau_plus"], "tau_minus": t["tau_minus"],
            "lambda": t["A_plus"], "alpha": t["A_minus"] / t["A_plus"],
            "mu_plus": wd.mu, "mu_minus": wd.mu, "Wmax": w["w_max"] * factor}


# ---- current sources -----------------------------------------------------------------------------

class _NsimCurrentSource(StandardCurrentSource):
    """A current source: its parameters are kept (PyNN units) until inject_into makes an nsim
    device for each population it reaches; it cannot change once injected."""

    def __init__(self, **parameters):
        self._injected = False
        self._targets = []
        parameter_space = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        parameter_space.update(**parameters)
        self.set_native_parameters(self.translate(parameter_space))

    def set_native_parameters(self, parameters):
        if getattr(self, "_injected", False):
            raise NotImplementedError("changing a %s after inject_into: nsim's devices keep the "
                                      "parameters they were made with" % type(self).__name__)
        parameters.evaluate(simplify=True)
        values = {}
        for key, value in parameters.items():
            if isinstance(value, Sequence):
                value = value.value
            values[key] = value
        object.__setattr__(self, "_values", values)

    def get_native_parameters(self):
        return ParameterSpace(dict(self._values), shape=(1,))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if name in self.default_parameters:
            self.set_parameters(**{name: value})
        else:
            object.__setattr__(self, name, value)

    def inject_into(self, cells):
        state.require_open("inject_into")
        state.refuse_after_build("injecting a current source")
        groups = {}
        for cell in cells:
            if not cell.celltype.injectable:
                raise TypeError("Can't inject current into a spike source.")
            parent = cell.parent
            groups.setdefault(id(parent), (parent, []))[1].append(parent.id_to_index(cell))
        for parent, idx in groups.values():
            idx = sorted(set(int(i) for i in idx))
            opts = self._device_options()
            if len(idx) != parent.size:
                opts["neurons"] = idx
            try:
                device = getattr(state.net, self.nsim_device)
            except (AttributeError, nsim.Error) as err:
                raise NotImplementedError("%s: this nsim build has no %s device (%s)" % (
                    type(self).__name__, self.nsim_device, err))
            try:
                device(parent._nsim, opts)
            except nsim.Error as err:
                if len(idx) != parent.size and "neurons" in str(err):
                    raise NotImplementedError("%s into part of a population: this nsim build's %s has "
                                              "no neurons option (%s)" % (type(self).__name__,
                                                                          self.nsim_device, err))
                if "no field" in str(err) or "unknown" in str(err):
                    raise NotImplementedError("%s: this nsim build has no %s device (%s)" % (
                        type(self).__name__, self.nsim_device, err))
                raise
            self._targets.append((parent, idx))
        self._injected = True

    def get_data(self):
        raise NotImplementedError("%s.get_data(): nsim does not record device currents" % type(self).__name__)

    def record(self):
        raise NotImplementedError("%s.record(): nsim does not record device currents" % type(self).__name__)


def _pa(x):
    return float(x) * 1000.0


class DCSource(_NsimCurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"), ("stop", "stop"))
    nsim_device = "dc"

    def _device_options(self):
        v = self._values
        return {"amplitude": _pa(v["amplitude"]), "start": float(v["start"]), "stop": float(v["stop"])}


class StepCurrentSource(_NsimCurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = build_translations(("amplitudes", "amplitudes"), ("times", "times"))
    nsim_device = "step_current"

    def _device_options(self):
        times = [float(t) for t in np.asarray(self._values["times"], dtype=float)]
        amps = [_pa(a) for a in np.asarray(self._values["amplitudes"], dtype=float)]
        if len(times) != len(amps):
            raise errors.InvalidParameterValueError("StepCurrentSource: %d times and %d amplitudes" % (
                len(times), len(amps)))
        return {"times": times, "amplitudes": amps}


class ACSource(_NsimCurrentSource, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"), ("stop", "stop"),
                                      ("frequency", "frequency"), ("offset", "offset"), ("phase", "phase"))
    nsim_device = "ac"

    def _device_options(self):
        v = self._values
        return {"amplitude": _pa(v["amplitude"]), "offset": _pa(v["offset"]),
                "frequency": float(v["frequency"]), "phase": float(v["phase"]),
                "start": float(v["start"]), "stop": float(v["stop"])}


class NoisyCurrentSource(_NsimCurrentSource, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__
    translations = build_translations(("mean", "mean"), ("stdev", "stdev"), ("start", "start"),
                                      ("stop", "stop"), ("dt", "dt"))
    nsim_device = "noise"

    def __init__(self, **parameters):
        if parameters.get("rng") is not None:
            raise NotImplementedError("NoisyCurrentSource(rng=...): nsim draws the noise from its own "
                                      "seeded generator (setup(seed=...))")
        parameters.pop("rng", None)
        _NsimCurrentSource.__init__(self, **parameters)

    def _device_options(self):
        v = self._values
        return {"mean": _pa(v["mean"]), "std": _pa(v["stdev"]), "dt": float(v["dt"]),
                "start": float(v["start"]), "stop": float(v["stop"])}
