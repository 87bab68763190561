# python/pyNN/nsim/simulator.py — the state of a pyNN.nsim session: one nsim session (output
# folder, seed, threads) and one nsim network on PyNN's time step. nsim fixes a network's structure
# at its first run, so recorders are made then, and anything that would change the structure later
# is refused.
import os
import sys

import numpy as np
from pyNN import common

import nsim

name = "nsim"


class ID(int, common.IDMixin):
    """A cell's id: nsim's global id of the unit (0-based, in the order populations are made)."""

    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


def _default_out():
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    stem = os.path.splitext(script)[0] or "pynn"
    return os.path.join("out", stem)


class State(common.control.BaseState):
    """What PyNN's common code asks of a simulator, over an nsim network."""

    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = "auto"
        self.max_delay = "auto"
        self.net = None
        self.session = False
        self.out = None
        self.clear()

    # -- the session ---------------------------------------------------------------------------
    def open(self, timestep, out=None, seed=1, threads=1):
        """Start an nsim session and its network (ending the previous one first)."""
        self.close()
        self.out = out or _default_out()
        nsim.setup(out=self.out, seed=int(seed), threads=int(threads))
        self.session = True
        self.dt = float(timestep)
        self.net = nsim.network(dt=self.dt)
        if int(nsim.ranks()) > 1:  # PyNN's gathering across ranks would need mpi4py, untried here
            self.close()
            raise NotImplementedError("pyNN.nsim on %d MPI ranks: run it as one process (threads=N "
                                      "shares the work)" % int(nsim.ranks()))
        self.mpi_rank = 0
        self.num_processes = 1

    def close(self):
        """End the session: run.json is written; records stay readable."""
        if self.session:
            self.session = False
            nsim.end()

    def clear(self):
        self.recorders = set()
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.write_on_end = []
        self.segment_counter = 0
        self.built = False  # True once the network has run: its structure is fixed
        self.names = set()
        self.running = False
        self.t = 0.0
        self.t_start = 0.0

    def unique_name(self, label):
        base = "".join(c if (c.isalnum() or c in "_-") else "_" for c in str(label)) or "pop"
        name, k = base, 1
        while name in self.names:
            k += 1
            name = "%s_%d" % (base, k)
        self.names.add(name)
        return name

    def require_open(self, what):
        if self.net is None:
            raise RuntimeError("%s: call setup() first" % what)

    def refuse_after_build(self, what):
        if self.built:
            raise NotImplementedError(
                "%s after the first run: nsim fixes a network's structure (populations, "
                "connections, devices, recorders) when it first runs" % what)

    # -- running -------------------------------------------------------------------------------
    def _build(self):
        for rec in list(self.recorders):
            rec._finalize()
        self.built = True

    def run(self, simtime):
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        self.require_open("run")
        if not self.built:
            self._build()
        steps = int(round((tstop - self.t) / self.dt))
        if steps > 0:
            self.net.run(steps * self.dt)
        self.t = float(self.net.time)
        self.running = True

    def reset(self):
        if self.t > 0:
            raise NotImplementedError(
                "reset(): nsim cannot return a network to t = 0 (runs only continue); "
                "call setup() again and rebuild the network instead")
        self.running = False
        self.t = 0.0
        self.t_start = 0.0

    @property
    def min_delay_ms(self):
        return self.dt if self.min_delay == "auto" else float(self.min_delay)


state = State()
