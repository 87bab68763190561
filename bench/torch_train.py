#!/usr/bin/python3
"""bench/torch_train.py — the PyTorch side of bench/train: the network nsim.train builds for
Fashion-MNIST or for randman, for one or more hidden layers, optionally recurrent, on a set number
of threads.

The setup of the project's first PyTorch reference (Bernoulli(0.5 clamp(x_norm, 0, 1)) input
spikes, logits = mean over T of a Linear of the last hidden spikes, Adam 1e-3 (--lr), batch 128), with its
LIF (atan surrogate, hard reset) and UltraLIF (soft max-plus, learned eps; threshold 0 as nsim's
default definition; --theta sets it) neurons, grown to 784-H1-...-10 and to recurrent layers (each adds its own
spikes of the step before through an H x H Linear without bias, as nsim's recurrent = true).
--limit N trains on N samples spread evenly over the training set and tests on N / 5 + 1 of the
test set, as nsim.train's limit. --data FILE trains on the sets nsim.training_data wrote (randman:
the very samples nsim trains and tests on, spike-time coded as nsim does, D-H...-classes).
Run with Debian's python (apt-get install python3-torch):
    /usr/bin/python3 bench/torch_train.py --neuron lif --T 10 --hidden 512,256 --epochs 1 --threads 2
    /usr/bin/python3 bench/torch_train.py --data randman.csv --steps 100 --classes 10 --T 100 --hidden 64
Prints per epoch: training seconds and test accuracy."""
import argparse
import gzip
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

D = "/usr/share/datasets/fashion-mnist/"


def idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    dims = b[3]
    shape = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * dims).reshape(shape)


class SpikeATan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return (u > 0).float()

    @staticmethod
    def backward(ctx, g):
        (u,) = ctx.saved_tensors
        a = 2.0
        return g * (a / 2) / (1 + (math.pi / 2 * a * u) ** 2)


class LIF(nn.Module):  # surrogate-gradient LIF, hard reset (reset detached); one step
    def __init__(self, tau=0.9, th=1.0):
        super().__init__()
        self.tau, self.th = tau, th

    def step(self, v, i):
        v = self.tau * v + i
        s = SpikeATan.apply(v - self.th)
        return v * (1 - s.detach()), s


class UltraLIF(nn.Module):  # soft max-plus LIF with a learned temperature; one step
    # threshold 0: the UltraLIF library's definition, nsim.train's default; the ablation file's 1,
    # which this script had before, trains another network than nsim's (docs/benchmarks.md, issue 19)
    def __init__(self, tau=0.9, th=0.0):
        super().__init__()
        self.lt, self.th = math.log(tau), th
        self.rho = nn.Parameter(torch.zeros(()))

    def step(self, v, i):
        eps = self.rho.exp().clamp(0.1, 20.0)
        a = v + self.lt
        m = torch.maximum(a, i)
        vp = m + eps * torch.log(torch.exp((a - m) / eps) + torch.exp((i - m) / eps))
        s = torch.sigmoid((vp - self.th) / eps)
        return vp * (1 - s), s


class Net(nn.Module):
    def __init__(self, neuron, inputs, hidden, classes, recurrent, theta=0.0):
        super().__init__()
        sizes = [inputs] + hidden
        self.fc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.rec = nn.ModuleList(nn.Linear(h, h, bias=False) for h in hidden) if recurrent else None
        self.neu = nn.ModuleList(LIF() if neuron == "lif" else UltraLIF(th=theta) for _ in hidden)
        self.out = nn.Linear(hidden[-1], classes)

    def forward(self, x):  # x: [T,B,inputs]
        T, B, _ = x.shape
        for l, fc in enumerate(self.fc):
            cur = fc(x.reshape(T * B, -1)).reshape(T, B, -1)
            v = torch.zeros_like(cur[0])
            s = torch.zeros_like(cur[0])
            out = []
            for t in range(T):
                i = cur[t] + self.rec[l](s) if self.rec is not None and t else cur[t]
                v, s = self.neu[l].step(v, i)
                out.append(s)
            x = torch.stack(out)
        return self.out(x.reshape(T * B, -1)).reshape(T, B, -1).mean(0)


def even(n, limit):
    return torch.arange(limit) * (n // limit) if 0 < limit < n else torch.arange(n)


def fashion_mnist(a):
    """Fashion-MNIST's sets, cut as nsim.train's limit cuts them, and its Bernoulli encoder."""
    xtr = torch.tensor(idx(D + "train-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    ytr = torch.tensor(idx(D + "train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.tensor(idx(D + "t10k-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    yte = torch.tensor(idx(D + "t10k-labels-idx1-ubyte.gz").astype(np.int64))
    k = even(len(xtr), a.limit)
    xtr, ytr = xtr[k], ytr[k]
    k = even(len(xte), a.limit // 5 + 1 if a.limit > 0 else 0)
    xte, yte = xte[k], yte[k]
    norm = lambda x: ((x - 0.2860) / 0.3530).clamp(0, 1)
    enc = lambda x: torch.bernoulli(0.5 * norm(x).unsqueeze(0).expand(a.T, -1, -1))
    return xtr, ytr, xte, yte, 10, enc


def spike_times(a):
    """The sets nsim.training_data wrote (CSV: set,label,t0,...; spike times in steps of a trial of
    --steps, negative: silent) and nsim's spike-time encoder: unit j spikes once, at step floor(t)
    when T equals the trial's steps, else floor(t T / steps) (in double, as train/encode.c), at most
    T - 1. The steps are computed once here; a batch only places its ones."""
    with open(a.data) as f:
        head = f.readline().rstrip("\n").split(",")
        if head[:3] != ["set", "label", "t0"]:
            raise SystemExit(f"{a.data}: not a spike-time file of nsim.training_data (header {head[:3]})")
        sets = {"train": ([], []), "test": ([], [])}
        for line in f:
            v = line.rstrip("\n").split(",")
            sets[v[0]][0].append(int(v[1]))
            sets[v[0]][1].append([float(x) for x in v[2:]])
    out = []
    for name in ("train", "test"):
        y, t = sets[name]
        t = np.array(t, dtype=np.float64).astype(np.float32).astype(np.float64)  # the file's float32
        st = np.floor(t) if a.T == a.steps else np.floor(t * (a.T / a.steps))
        st = np.where(t < 0, -1, np.minimum(st, a.T - 1)).astype(np.int64)
        out += [torch.tensor(st), torch.tensor(y, dtype=torch.int64)]
    classes = a.classes or int(max(out[1].max(), out[3].max())) + 1
    steps = torch.arange(a.T).view(-1, 1, 1)
    enc = lambda st: (st.unsqueeze(0) == steps).float()  # [T,B,units]
    return out[0], out[1], out[2], out[3], classes, enc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--neuron", default="ultralif", choices=["lif", "ultralif"])
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--hidden", default="64", help="units per hidden layer, comma-separated")
    ap.add_argument("--recurrent", action="store_true")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--data", default="fashion-mnist",
                    help="fashion-mnist, or a spike-time CSV written by nsim.training_data (already cut by its limit)")
    ap.add_argument("--steps", type=int, default=100, help="the trial length of a spike-time CSV, in steps")
    ap.add_argument("--classes", type=int, default=0, help="a CSV's classes (0: its largest label + 1)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    ap.add_argument("--theta", type=float, default=0.0, help="UltraLIF's threshold (nsim.train's theta)")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    hidden = [int(h) for h in a.hidden.split(",")]
    if a.data == "fashion-mnist":
        xtr, ytr, xte, yte, classes, enc = fashion_mnist(a)
    elif a.limit:
        raise SystemExit("--limit cuts Fashion-MNIST only: a CSV holds the sets nsim.training_data cut with its limit")
    else:
        xtr, ytr, xte, yte, classes, enc = spike_times(a)
    net = Net(a.neuron, xtr.shape[1], hidden, classes, a.recurrent, a.theta)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    for ep in range(a.epochs):
        t0 = time.time()
        perm = torch.randperm(len(xtr))
        net.train()
        for i in range(0, len(xtr), 128):
            j = perm[i:i + 128]
            loss = F.cross_entropy(net(enc(xtr[j])), ytr[j])
            opt.zero_grad()
            loss.backward()
            opt.step()
        tr = time.time() - t0
        net.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(xte), 1000):
                correct += (net(enc(xte[i:i + 1000])).argmax(1) == yte[i:i + 1000]).sum().item()
        print(f"data={a.data.rsplit('/', 1)[-1]} neuron={a.neuron} T={a.T} hidden={a.hidden} recurrent={int(a.recurrent)} threads={a.threads} "
              f"epoch={ep + 1} train_s={tr:.2f} test_acc={100 * correct / len(xte):.2f}", flush=True)


main()
