"""nsim.records: a run folder's records as numpy arrays (and pandas DataFrames when pandas is
installed), read by nsim's own C readers; the numbers are the readers' arrays, not copies."""
import json
import os

import numpy

from . import _core


def _array(block, shape):
    a = numpy.frombuffer(block, dtype=numpy.float64)
    return a.reshape(shape) if shape else a


def read_spikes(path):
    """(times_ms, ids): a spike record (t_ms,neuron; plain or gzip). ids are int64; a torn last
    line is dropped with a warning on stderr, as nsim analyze does."""
    t, ids, warn = _core.read_spikes(os.fspath(path))
    if warn:
        import warnings
        warnings.warn(warn)
    return _array(t, None), _array(ids, None).astype(numpy.int64)


class Table(dict):
    """A numeric CSV record: column name -> numpy array (views of one row-major block), plus
    .matrix (rows x columns) and .frame() (a pandas DataFrame)."""

    def __init__(self, names, matrix, path):
        super().__init__((n, matrix[:, j]) for j, n in enumerate(names))
        self.names, self.matrix, self.path = names, matrix, path

    def frame(self):
        import pandas
        return pandas.DataFrame(self.matrix, columns=self.names, copy=False)


def read_table(path):
    """A numeric CSV record (state, rate, weight, sum records, stats.csv, psd.csv) as a Table."""
    names, nrow, ncol, block, warn = _core.read_table(os.fspath(path))
    if warn:
        import warnings
        warnings.warn(warn)
    if names is None:
        names = ["c%d" % j for j in range(ncol)]
    return Table(names, _array(block, (nrow, ncol)), os.fspath(path))


class Run:
    """A run folder: .info (run.json as a dict), .files, .populations(), .spikes(name, population),
    .state(name, var), .table(name) (any numeric record: rates, states, sums, stats, spectra)."""

    def __init__(self, folder):
        self.folder = os.fspath(folder)
        with open(os.path.join(self.folder, "run.json"), encoding="utf-8") as f:
            self.info = json.load(f)
        self.files = sorted(os.listdir(self.folder))

    def _path(self, name):
        return os.path.join(self.folder, name)

    def populations(self):
        """populations.csv as {name: {"model", "first", "last", "size"}} (ids first..last)."""
        import csv
        with open(self._path("populations.csv"), newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        return {r["population"]: {"model": r["model"], "first": int(r["first"]), "last": int(r["last"]),
                                  "size": int(r["size"])} for r in rows}

    def spikes(self, name="spikes.csv", population=None):
        """(times_ms, ids) of a spike record; with population, only its units' spikes, their ids
        counted from the population's first (0-based within it)."""
        t, ids = read_spikes(self._path(name))
        if population is None:
            return t, ids
        p = self.populations()[population]
        keep = (ids >= p["first"]) & (ids <= p["last"])
        return t[keep], ids[keep] - p["first"]

    def state(self, name, var):
        """A state record (t_ms,neuron,VAR...) as (times_ms, neurons, values) with values[i, j] the
        variable at times_ms[i] of neurons[j] (NaN where the record has no such row)."""
        tab = self.table(name)
        if var not in tab:
            raise KeyError("%s has no column %s (%s)" % (name, var, ", ".join(tab.names)))
        times, ti = numpy.unique(tab["t_ms"], return_inverse=True)
        neurons, ni = numpy.unique(tab["neuron"].astype(numpy.int64), return_inverse=True)
        values = numpy.full((len(times), len(neurons)), numpy.nan)
        values[ti, ni] = tab[var]
        return times, neurons, values

    def table(self, name):
        return read_table(self._path(name))

    def spike_frame(self, name="spikes.csv"):
        import pandas
        t, ids = self.spikes(name)
        return pandas.DataFrame({"t_ms": t, "neuron": ids})

    def __repr__(self):
        return "nsim.Run(%r: %s)" % (self.folder, ", ".join(self.files))


def read_run(folder):
    """The run folder as a Run."""
    return Run(folder)
