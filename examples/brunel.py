"""examples/brunel.py — examples/brunel.lua in Python: Brunel 2000's balanced network of delta-synapse
LIF neurons (10,000 E + 2,500 I at scale 1), Poisson drive; the same spikes as the Lua script.
    PYTHONPATH=build/python python3 examples/brunel.py [--set t_ms=1000] [--set scale=0.2] [--threads 2]
"""
import math
import sys

import nsim

nsim.setup(argv=sys.argv[1:])
t_ms = nsim.param("t_ms", 1000)
scale = nsim.param("scale", 1.0)  # fraction of the full network (tests use a small one)
g = nsim.param("g", 5.0)
eta = nsim.param("eta", 2.0)
J = nsim.param("J", 0.1)          # mV
delay = nsim.param("delay", 1.5)  # ms

NE, NI = math.floor(10000 * scale), math.floor(2500 * scale)
CE, CI = math.floor(1000 * scale), math.floor(250 * scale)
cell = dict(tau_m=20, V_th=20, V_reset=0, E_L=0, t_ref=2)
net = nsim.network(dt=0.1)
E = net.population("lif_delta", NE, cell, None, "E")
I = net.population("lif_delta", NI, cell, None, "I")
net.connect(E, [E, I], rule="fixed_indegree", K=CE, weight=J, delay=delay)
net.connect(I, [E, I], rule="fixed_indegree", K=CI, weight=-g * J, delay=delay)
# External drive: CE independent inputs at nu_ex each, merged into one Poisson train per neuron.
nu_th = cell["V_th"] / (J * CE * cell["tau_m"]) * 1000  # Hz
nu_ex = eta * nu_th
net.poisson([E, I], rate=CE * nu_ex, weight=J)
spikes = net.record_spikes([E, I])
net.record_rate([E, I], bin=1)
net.run(t_ms)
print("Brunel: %d neurons, %d synapses, %.2f Hz mean rate over %g ms"
      % (NE + NI, net.synapses, net.spikes / (NE + NI) / (t_ms / 1000), t_ms))
nsim.raster(spikes, "raster.png", title="Brunel 2000, g = %g, eta = %g" % (g, eta))
stats = nsim.stats(spikes, bin=5)
nsim.psd(spikes, bin=1)
nsim.figure("summary", spikes, title="Brunel 2000: raster, population rate, spectrum")
for name in ("E", "I"):
    s = stats[name]
    print("  %s: %.2f Hz, ISI CV %.2f, Fano %.2f" % (name, s["rate"], s["cv"], s["fano"]))
