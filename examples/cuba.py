"""examples/cuba.py — examples/cuba.lua in Python, line for line: Brette et al. 2007, benchmark 2
(CUBA), 3200 excitatory and 800 inhibitory current-based LIF neurons, 2 % random connectivity.
It writes the same spikes, byte for byte, as the Lua script with the same settings.
    PYTHONPATH=build/python python3 examples/cuba.py [--set t_ms=10000] [--set n=4000] [--out DIR]
"""
import sys

import nsim

nsim.setup(argv=sys.argv[1:])
t_ms = nsim.param("t_ms", 1000)
n = nsim.param("n", 4000)
net = nsim.network(dt=0.1)
cell = dict(C_m=200, tau_m=20, E_L=-49, V_th=-50, V_reset=-60, t_ref=5, tau_ex=5, tau_in=10)
n_e = n * 4 // 5
p = 0.02 * 4000 / n  # about 80 inputs per neuron at any size, as the Brian2 script
E = net.population("lif", n_e, cell, {"V_m": nsim.uniform(-60, -50)}, "E")
I = net.population("lif", n - n_e, cell, {"V_m": nsim.uniform(-60, -50)}, "I")
net.connect(E, [E, I], rule="bernoulli", p=p, weight=16.2, delay=0.1)
net.connect(I, [E, I], rule="bernoulli", p=p, weight=-90, delay=0.1)
spikes = net.record_spikes([E, I])
net.record_rate([E, I], bin=1)
net.run(t_ms)
print("CUBA: %d neurons, %d synapses, %.2f Hz mean rate over %g ms"
      % (n, net.synapses, net.spikes / n / (t_ms / 1000), t_ms))
nsim.raster(spikes, "raster.png", title="CUBA (Brette et al. 2007), %d LIF neurons" % n)
stats = nsim.stats(spikes, bin=5)
nsim.psd(spikes, bin=1)
nsim.figure("summary", spikes, title="CUBA: raster, population rate, spectrum")
for name in ("E", "I"):
    s = stats[name]
    print("  %s: %.2f Hz, ISI CV %.2f, Fano %.2f" % (name, s["rate"], s["cv"], s["fano"]))
