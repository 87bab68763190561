# python/pyNN/nsim/recording.py — recording through nsim's records: at the first run each recorded
# population gets an nsim spike record and a state record per variable in the output folder, and
# PyNN's Neo blocks are read back from those files (nsim.read_spikes, nsim.read_table).
import os

import numpy as np
import quantities as pq
from pyNN import recording

import nsim

from . import simulator

if not hasattr(pq, "uS"):
    pq.uS = pq.UnitQuantity("microsiemens", 1e-6 * pq.S, "uS")
if not hasattr(pq, "nS"):
    pq.nS = pq.UnitQuantity("nanosiemens", 1e-9 * pq.S, "nS")


class Recorder(recording.Recorder):
    """A population's recorder: nsim records made at the first run, read back on demand."""
    _simulator = simulator

    def __init__(self, population=None, file=None):
        recording.Recorder.__init__(self, population, file)
        self._files = {}     # variable -> path of its nsim record
        self._units = {}     # variable -> unit indices recorded (sorted)
        self._initial = {}   # variable -> the recorded units' values at t = 0 (PyNN units)
        self._clear_t = 0.0  # data before this time (ms) was cleared

    def _record(self, variable, new_ids, sampling_interval=None):
        state = self._simulator.state
        if state.built:
            raise NotImplementedError("record(%r) after the first run: nsim makes its records when the "
                                      "network first runs" % variable)
        if sampling_interval is not None:
            steps = sampling_interval / state.dt
            if abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
                raise ValueError("sampling_interval %g ms is not a whole number of time steps (%g ms)" % (
                    sampling_interval, state.dt))
            self.sampling_interval = sampling_interval

    def _finalize(self):
        """Make the nsim records (called once, before the first run)."""
        state = self._simulator.state
        pop = self.population
        first = int(pop.first_id)
        for variable, ids in self.recorded.items():
            if not ids or variable in self._files:
                continue
            units = np.array(sorted(int(i) - first for i in ids), dtype=np.int64)
            stem = "pynn_%s_%s.csv" % (pop._nsim_name, variable)
            if variable == "spikes":
                rec = state.net.record_spikes(pop._nsim, {"file": stem})
            else:
                native, factor = pop.celltype.state_map[variable]
                rec = state.net.record_state(pop._nsim, {"vars": [native], "neurons": [int(u) for u in units],
                                                         "interval": float(self.sampling_interval),
                                                         "file": stem})
                self._initial[variable] = np.array([float(pop._nsim.state(native, int(u))) for u in units]) / factor
            path = getattr(rec, "path", None) if rec is not None else None
            self._files[variable] = str(path) if path else os.path.join(str(nsim.outdir()), stem)
            self._units[variable] = units

    def _reset(self):
        if self._files:
            raise NotImplementedError("record(None) after the first run: nsim's records run to the end")

    def _clear_simulator(self):
        self._clear_t = self._simulator.state.t

    def _spikes(self):
        if "spikes" not in self._files:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        times, ids = nsim.read_spikes(self._files["spikes"])
        times = np.asarray(times, dtype=float)
        ids = np.asarray(ids, dtype=np.int64)
        keep = times > self._clear_t + 1e-9
        return times[keep], ids[keep]

    def _get_spiketimes(self, requested_ids, clear=False):
        times, ids = self._spikes()
        mask = np.isin(ids, np.asarray([int(i) for i in requested_ids], dtype=np.int64))
        return ids[mask], times[mask]

    def _get_all_signals(self, variable, ids, clear=False):
        pop = self.population
        state = self._simulator.state
        units = self._units.get(variable)
        if units is None:
            return np.zeros((0, 0)), None
        native, factor = pop.celltype.state_map[variable]
        table = nsim.read_table(self._files[variable])
        t = np.asarray(table["t_ms"], dtype=float)
        vals = np.asarray(table[native], dtype=float) / factor
        n = len(units)
        samples = len(t) // n
        vals = vals[:samples * n].reshape(samples, n)
        t = t[:samples * n:n]
        values = np.vstack([self._initial[variable][None, :], vals])
        times = np.concatenate([[0.0], t])
        keep = times >= self._clear_t - 1e-9
        values = values[keep]
        wanted = np.asarray([int(i) - int(pop.first_id) for i in ids], dtype=np.int64)
        cols = np.searchsorted(units, wanted)
        return values[:, cols], None

    def _local_count(self, variable, filter_ids=None):
        times, ids = self._spikes()
        chosen = self.filter_recorded(variable, filter_ids)
        counts = dict((int(i), 0) for i in chosen)
        uniq, num = np.unique(ids, return_counts=True)
        for i, c in zip(uniq, num):
            if int(i) in counts:
                counts[int(i)] = int(c)
        return counts
