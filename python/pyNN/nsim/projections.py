# python/pyNN/nsim/projections.py — projections as nsim connections: a connector between two whole
# populations whose parameters map onto an nsim rule runs as that rule (drawn by the engine);
# anything else (views, assemblies, FromList, distance expressions, arrays of weights) has PyNN's
# connector compute the pairs, which go to nsim as rule "list". Weights and delays are read back
# from the engine (projection:connections()), so get() reports what nsim holds.
import numpy as np
from pyNN import common, connectors, errors
from pyNN.random import RandomDistribution
from pyNN.space import Space

import nsim

from . import simulator
from .populations import Assembly, Population, PopulationView, _base
from .standardmodels import STDPMechanism, StaticSynapse, stdp_table

state = simulator.state


def _parts(cells):
    """The pieces of a Population, PopulationView or Assembly: a list of (root Population, unit
    indices within it, offset of the piece in the projection's index space)."""
    pops = cells.populations if isinstance(cells, Assembly) else [cells]
    out, offset = [], 0
    for p in pops:
        root, idx = _base(p)
        out.append((root, idx, offset))
        offset += len(idx)
    return out


def _whole(cells):
    return isinstance(cells, Population)


def _nsim_dist(value, factor):
    """A constant or one of nsim's distributions for a PyNN weight or delay value times factor,
    or None when nsim has no counterpart (arrays, expressions, other distributions)."""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value) * factor
    if isinstance(value, RandomDistribution):
        p = value.parameters
        if value.name == "uniform":
            a, b = sorted((p["low"] * factor, p["high"] * factor))
            return nsim.uniform(a, b)
        if value.name in ("normal", "normal_clipped"):
            mu, sd = p["mu"] * factor, abs(p["sigma"] * factor)
            if value.name == "normal":
                return nsim.normal(mu, sd)
            lo, hi = p["low"] * factor, p["high"] * factor
            lo, hi = min(lo, hi), max(lo, hi)
            opts = {}
            if np.isfinite(lo):
                opts["min"] = float(lo)
            if np.isfinite(hi):
                opts["max"] = float(hi)
            return nsim.normal(mu, sd, opts)
    return None


def _synapse_indices(handle, source, target):
    """A projection piece's synapses (its handle's connections()) and their row and column in the
    projection's index space: source and target are (root population, unit indices of the piece
    in the root, sorted; offset of the piece)."""
    (s_root, s_idx, s_off), (t_root, t_idx, t_off) = source, target
    c = handle.connections()
    pre = np.asarray(c["pre"], dtype=np.int64)
    post = np.asarray(c["post"], dtype=np.int64)
    # unit index within the root -> index in the piece
    s_pos = np.full(s_root.size, -1, dtype=np.int64)
    s_pos[s_idx] = np.arange(len(s_idx))
    t_pos = np.full(t_root.size, -1, dtype=np.int64)
    t_pos[t_idx] = np.arange(len(t_idx))
    return c, s_pos[pre] + s_off, t_pos[post] + t_off

class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type=None,
                 source=None, receptor_type=None, space=Space(), label=None):
        state.require_open("Projection")
        state.refuse_after_build("creating a projection")
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population, connector,
                                   synapse_type, source, receptor_type, space, label)
        if source not in (None, "spike"):
            raise NotImplementedError("Projection(source=%r): nsim's spikes are the only source" % source)
        post_types = {type(p.celltype) for p in (postsynaptic_population.populations
                                                 if isinstance(postsynaptic_population, Assembly)
                                                 else [postsynaptic_population])}
        if len(post_types) != 1:
            raise NotImplementedError("a projection onto an Assembly of several cell types")
        post_ct = next(iter(post_types))
        if not hasattr(post_ct, "weight_factor"):
            raise errors.ConnectionError("%s takes no synaptic input" % post_ct.__name__)
        inhibitory = self.receptor_type == "inhibitory"
        # PyNN weight (nA or µS) -> nsim weight (pA or nS); an inhibitory conductance is negative in nsim
        self._factor = post_ct.weight_factor * (-1.0 if (post_ct.conductance and inhibitory) else 1.0)
        if isinstance(self.synapse_type, STDPMechanism):
            self._synapse = stdp_table(self.synapse_type, self._factor)
        elif isinstance(self.synapse_type, StaticSynapse):
            self._synapse = None
        else:
            raise NotImplementedError("synapse type %s (StaticSynapse and STDPMechanism only)" %
                                      type(self.synapse_type).__name__)
        self._handles = []  # (nsim projection, pre piece, post piece)
        self._pending = []  # list path: (pre indices, post index, weights, delays)
        if not self._connect_by_rule(connector):
            connector.connect(self)
            self._flush_list()
        state.projections.append(self)

    # -- making the connections ----------------------------------------------------------------
    def _rule(self, connector):
        """nsim's rule options for connector between two whole populations, or None."""
        same = self.pre is self.post
        C = connectors
        if type(connector) is C.AllToAllConnector:
            r = {"rule": "all_to_all"}
        elif type(connector) is C.OneToOneConnector:
            r = {"rule": "one_to_one"}
        elif type(connector) is C.FixedProbabilityConnector:
            r = {"rule": "bernoulli", "p": float(connector.p_connect)}
        elif type(connector) in (C.FixedNumberPreConnector, C.FixedNumberPostConnector):
            if not isinstance(connector.n, (int, np.integer)) or connector.allow_self_connections == "NoMutual":
                return None
            key = "fixed_indegree" if type(connector) is C.FixedNumberPreConnector else "fixed_outdegree"
            r = {"rule": key, "K": int(connector.n), "multapses": bool(connector.with_replacement)}
        else:
            return None
        if same and hasattr(connector, "allow_self_connections"):
            r["autapses"] = bool(connector.allow_self_connections)
        return r

    def _connect_by_rule(self, connector):
        if not (_whole(self.pre) and _whole(self.post)):
            return False
        if getattr(connector, "callback", None) is not None:
            return False
        rule = self._rule(connector)
        if rule is None:
            return False
        ps = self.synapse_type.native_parameters
        w = _nsim_dist(ps["weight"].base_value, self._factor)
        d = _nsim_dist(ps["delay"].base_value, 1.0)
        if w is None or d is None:
            return False
        if isinstance(w, float):
            self._check_sign(np.array([w]))
        rule.update(weight=w, delay=d)
        if self._synapse is not None:
            rule["synapse"] = dict(self._synapse)
        h = self._connect(self.pre._nsim, self.post._nsim, rule)
        self._handles.append((h, (self.pre, np.arange(self.pre.size), 0), (self.post, np.arange(self.post.size), 0)))
        return True

    def _connect(self, src, tgt, options):
        h = state.net.connect(src, tgt, options)
        if isinstance(h, (list, tuple)):
            h = h[0]
        return h

    def _check_sign(self, w):
        if self.receptor_type == "inhibitory" and not self.post.conductance_based and np.any(w > 0):
            raise errors.ConnectionError("Weights must be negative for current-based, inhibitory synapses")

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, **connection_parameters):
        pre = np.asarray(presynaptic_indices, dtype=np.int64).ravel()
        n = len(pre)
        if n == 0:
            return
        w = np.broadcast_to(np.asarray(connection_parameters["weight"], dtype=float), (n,))
        d = np.broadcast_to(np.asarray(connection_parameters["delay"], dtype=float), (n,))
        self._pending.append((pre, int(postsynaptic_index), np.array(w), np.array(d)))

    def _flush_list(self):
        if not self._pending:
            return
        pre = np.concatenate([p[0] for p in self._pending])
        post = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int64) for p in self._pending])
        w = np.concatenate([p[2] for p in self._pending]) * self._factor
        d = np.concatenate([p[3] for p in self._pending])
        self._pending = []
        for src in _parts(self.pre):
            s_root, s_idx, s_off = src
            s_in = (pre >= s_off) & (pre < s_off + len(s_idx))
            for tgt in _parts(self.post):
                t_root, t_idx, t_off = tgt
                sel = s_in & (post >= t_off) & (post < t_off + len(t_idx))
                if not np.any(sel):
                    continue
                opts = {"rule": "list",
                        "pre": [int(i) for i in s_idx[pre[sel] - s_off]],
                        "post": [int(i) for i in t_idx[post[sel] - t_off]],
                        "weights": [float(x) for x in w[sel]],
                        "delays": [float(x) for x in d[sel]]}
                if self._synapse is not None:
                    opts["synapse"] = dict(self._synapse)
                h = self._connect(s_root._nsim, t_root._nsim, opts)
                self._handles.append((h, src, tgt))

    # -- reading and setting -------------------------------------------------------------------
    def __len__(self):
        return int(sum(int(h.synapses) for h, _, _ in self._handles))

    def _connections(self):
        """Every synapse as arrays in the projection's index space: pre, post, weight (PyNN units),
        delay (ms)."""
        P, Q, W, D = [], [], [], []
        for h, source, target in self._handles:
            c, rows, cols = _synapse_indices(h, source, target)
            P.append(rows)
            Q.append(cols)
            W.append(np.asarray(c["weight"], dtype=float) / self._factor)
            D.append(np.asarray(c["delay"], dtype=float))
        if not P:
            z = np.zeros(0)
            return z.astype(np.int64), z.astype(np.int64), z, z
        return np.concatenate(P), np.concatenate(Q), np.concatenate(W), np.concatenate(D)

    def _columns(self, names):
        pre, post, w, d = self._connections()
        cols = {"presynaptic_index": pre, "postsynaptic_index": post, "weight": w, "delay": d}
        out = []
        for name in names:
            if name not in cols:
                raise NotImplementedError("Projection.get(%r): pyNN.nsim reads weight and delay" % name)
            out.append(cols[name])
        return out

    def _get_attributes_as_list(self, names):
        cols = self._columns(names)
        return [tuple(int(c[k]) if names[j] in ("presynaptic_index", "postsynaptic_index") else float(c[k])
                      for j, c in enumerate(cols)) for k in range(len(cols[0]) if cols else 0)]

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        names = [n[:-1] if n in ("weights", "delays") else n for n in names]
        pre, post = self._columns(["presynaptic_index", "postsynaptic_index"])
        op = common.Projection.MULTI_SYNAPSE_OPERATIONS[multiple_synapses]
        out = []
        for values in self._columns(names):
            a = np.full((self.pre.size, self.post.size), np.nan)
            for i, j, v in zip(pre, post, values):
                a[i, j] = v if np.isnan(a[i, j]) else op(a[i, j], v)
            out.append(a)
        return out

    def _set_attributes(self, parameter_space):
        for name in parameter_space.keys():
            if name != "weight":
                raise NotImplementedError("Projection.set(%s=...): nsim sets the weights of a made "
                                          "projection only" % name)
        if self._synapse is not None:
            raise NotImplementedError("Projection.set(weight=...) on a plastic projection: nsim's STDP "
                                      "owns its weights")
        parameter_space.evaluate(simplify=False)
        matrix = np.asarray(parameter_space["weight"], dtype=float)
        for h, source, target in self._handles:
            _, rows, cols = _synapse_indices(h, source, target)
            w = matrix[rows, cols] * self._factor
            if np.any(np.isnan(w)):
                raise errors.ConnectionError("Projection.set: a weight of an existing connection is NaN")
            h.set_weights([float(x) for x in w])
