"""Images per second of one training step of a small conv net: ours vs PyTorch CPU and naive.

The network (float32, one thread)::

    conv - spatial batch norm - relu - 2x2 max pool - affine - batch norm - relu
    - affine - softmax

on x of shape (128, 3, 32, 32): 32 filters of 7x7 (``--filter-size 3`` for 3x3),
stride 1, "same" padding (3, or 1 for 3x3), 100 hidden units, 10 classes. One
step is the forward pass, the softmax loss and the backward pass computing every
parameter gradient (not the gradient of the data, which no optimiser needs).
The parameter update is not included (the same for both sides, a few
microseconds).

Contenders:

* **ours**: ``cs231n.classifiers.cnn.ConvNet(num_filters=(32,), filter_size=7,
  hidden_dims=(100,), normalization="batchnorm", reg=0.0)``, one call of
  ``model.loss(X, y)``, exactly as the Solver calls it. It runs the sandwich
  layers of ``cs231n/layer_utils.py`` over ``cs231n/fast_layers.py`` and the
  normalisation layers of ``cs231n/layers.py``. (With ``reg=0`` the model still
  adds the zero L2 term: a fraction of a millisecond.)
* **ours, layer by layer**: the same step written out by hand from the public
  layer functions, in the textbook order "relu, then pool" (the sandwich
  pools first and applies the ReLU to the pooled values, which gives the same
  numbers for less work; see ``cs231n/layer_utils.py``).
* **torch**: the same network with ``torch.nn.functional`` (``conv2d``,
  ``batch_norm(training=True)``, ``relu``, ``max_pool2d``, ``linear``,
  ``batch_norm``, ``relu``, ``linear``, ``cross_entropy``) and autograd: leaf
  parameters requiring grad, the data not requiring grad, ``loss.backward()``,
  gradients reset to None after each step. One intra-op thread, the huge-page
  allocator (``THP_MEM_ALLOC_ENABLE=1``, set by ``_timing.py``), same process,
  interleaved with ours. Before timing, the loss and every gradient of ours
  are compared with torch's (same initial weights).
* **naive**: the same step with ``conv_forward_naive``/``conv_backward_naive``
  and ``max_pool_forward_naive``/``max_pool_backward_naive`` from
  ``cs231n/layers.py`` (everything else as in "layer by layer"). It is far too
  slow for the batch: it runs once on 2 images (1 with ``--quick``) and the
  time is scaled linearly to the batch. ``conv_backward_naive`` always
  computes the data gradient, so it does a third more work than the others.

Images/s is the batch size over the median step time; "time / torch" is the
median over interleaved rounds of the per-round ratio of step times (see
``_timing.compare``); its inverse is the ratio of images/s.

Run from the repository root::

    python benchmarks/bench_train_step.py                  # full run, wall clock
    python benchmarks/bench_train_step.py --clock cpu      # thread CPU time: busy machines
    python benchmarks/bench_train_step.py --breakdown      # where the time goes, per layer
    python benchmarks/bench_train_step.py --quick          # smoke run: batch 32, 3 repeats

Guard rail: one step of ours takes at most 1.4x torch's time (the normalisation layers
are plain numpy model answers; the fast convolution and pooling do the heavy work).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import _timing  # noqa: I001  (first: sets thread variables before numpy/torch load)

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cs231n import fast_layers, layers  # noqa: E402
from cs231n.classifiers.cnn import ConvNet  # noqa: E402

NUM_FILTERS = 32
HIDDEN = 100
CLASSES = 10
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def make_problem(N, filter_size, seed=0):
    """The model (ours), a batch and its labels, all float32."""
    rng = np.random.default_rng(seed)
    model = ConvNet(input_dim=(3, 32, 32), num_filters=(NUM_FILTERS,), filter_size=filter_size,
                    hidden_dims=(HIDDEN,), num_classes=CLASSES, normalization="batchnorm",
                    reg=0.0, dtype=np.float32, seed=seed)
    X = rng.standard_normal((N, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, CLASSES, size=N)
    return model, X, y


def layer_step(model, X, y, conv_fwd, conv_bwd, pool_fwd, pool_bwd, timer=None):
    """The step written out from the layer functions, in the order relu, then pool.

    ``timer(name, fn, *args)`` (optional) is called instead of ``fn(*args)`` for
    every layer, to time it. Returns ``loss, grads``.
    """
    call = timer or (lambda name, fn, *args: fn(*args))
    P = model.params
    bn1, bn2 = model.bn_params
    cp = {"stride": 1, "pad": (model.filter_size - 1) // 2}
    a, c_conv = call("conv", conv_fwd, X, P["W1"], P["b1"], cp)
    a, c_sbn = call("spatial batch norm", layers.spatial_batchnorm_forward,
                    a, P["gamma1"], P["beta1"], bn1)
    s, c_relu1 = call("relu (conv block)", layers.relu_forward, a)
    p, c_pool = call("max pool", pool_fwd, s, POOL)
    h, c_fc1 = call("affine 1", layers.affine_forward, p, P["W2"], P["b2"])
    h, c_bn = call("batch norm", layers.batchnorm_forward, h, P["gamma2"], P["beta2"], bn2)
    h, c_relu2 = call("relu (hidden)", layers.relu_forward, h)
    scores, c_fc2 = call("affine 2", layers.affine_forward, h, P["W3"], P["b3"])
    loss, d = call("softmax loss", layers.softmax_loss, scores, y)
    g = {}
    d, g["W3"], g["b3"] = call("affine 2", layers.affine_backward, d, c_fc2)
    d = call("relu (hidden)", layers.relu_backward, d, c_relu2)
    d, g["gamma2"], g["beta2"] = call("batch norm", layers.batchnorm_backward_alt, d, c_bn)
    d, g["W2"], g["b2"] = call("affine 1", layers.affine_backward, d, c_fc1)
    d = call("max pool", pool_bwd, d, c_pool)
    d = call("relu (conv block)", layers.relu_backward, d, c_relu1)
    d, g["gamma1"], g["beta1"] = call("spatial batch norm", layers.spatial_batchnorm_backward,
                                      d, c_sbn)
    _, g["W1"], g["b1"] = call("conv", conv_bwd, d, c_conv)
    return loss, g


def fast_conv_bwd(dout, cache):
    return fast_layers.conv_backward_fast(dout, cache, need_dx=False)


def sandwich_layers(model, X, y, timer):
    """Our step as ConvNet runs it (pool, then relu), each layer through ``timer``."""
    call = timer
    P = model.params
    bn1, bn2 = model.bn_params
    cp = {"stride": 1, "pad": (model.filter_size - 1) // 2}
    a, c_conv = call("conv", fast_layers.conv_forward_fast, X, P["W1"], P["b1"], cp)
    a, c_sbn = call("spatial batch norm", layers.spatial_batchnorm_forward,
                    a, P["gamma1"], P["beta1"], bn1)
    p, c_pool = call("max pool", fast_layers.max_pool_forward_fast, a, POOL)
    p, c_relu1 = call("relu (conv block)", layers.relu_forward, p)
    h, c_fc1 = call("affine 1", layers.affine_forward, p, P["W2"], P["b2"])
    h, c_bn = call("batch norm", layers.batchnorm_forward, h, P["gamma2"], P["beta2"], bn2)
    h, c_relu2 = call("relu (hidden)", layers.relu_forward, h)
    scores, c_fc2 = call("affine 2", layers.affine_forward, h, P["W3"], P["b3"])
    _, d = call("softmax loss", layers.softmax_loss, scores, y)
    d, _, _ = call("affine 2", layers.affine_backward, d, c_fc2)
    d = call("relu (hidden)", layers.relu_backward, d, c_relu2)
    d, _, _ = call("batch norm", layers.batchnorm_backward_alt, d, c_bn)
    d, _, _ = call("affine 1", layers.affine_backward, d, c_fc1)
    d = call("relu (conv block)", layers.relu_backward, d, c_relu1)
    d = call("max pool", fast_layers.max_pool_backward_fast, d, c_pool)
    d, _, _ = call("spatial batch norm", layers.spatial_batchnorm_backward, d, c_sbn)
    call("conv", fast_conv_bwd, d, c_conv)


def torch_step_fn(torch, model, X, y):
    """Our network in torch.nn.functional + autograd, from the model's initial weights.

    Returns ``step``: ``step()`` runs one forward + backward and returns
    ``(loss, grads)`` (torch tensors; each gradient has the shape of our
    parameter of the same name), then resets the parameters' gradients.
    """
    F = torch.nn.functional
    pad = (model.filter_size - 1) // 2
    params = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in model.params.items()}
    stats = [(torch.zeros(NUM_FILTERS), torch.ones(NUM_FILTERS)),
             (torch.zeros(HIDDEN), torch.ones(HIDDEN))]
    xt = torch.from_numpy(X)                                  # the data needs no gradient
    yt = torch.from_numpy(y.astype(np.int64))
    # ours stores affine weights as (D, M); linear wants (M, D): a transposed view.
    W2, W3 = params["W2"], params["W3"]

    def step():
        P = params
        h = F.conv2d(xt, P["W1"], P["b1"], stride=1, padding=pad)
        h = F.batch_norm(h, *stats[0], P["gamma1"], P["beta1"], training=True,
                         momentum=0.1, eps=1e-5)
        h = F.max_pool2d(F.relu(h), 2, 2)
        h = F.linear(h.reshape(h.shape[0], -1), W2.t(), P["b2"])
        h = F.relu(F.batch_norm(h, *stats[1], P["gamma2"], P["beta2"], training=True,
                                momentum=0.1, eps=1e-5))
        scores = F.linear(h, W3.t(), P["b3"])
        loss = F.cross_entropy(scores, yt)
        loss.backward()
        grads = {k: v.grad for k, v in P.items()}
        for v in P.values():
            v.grad = None
        return loss, grads

    return step


def check_against_torch(model, X, y, torch_step, rtol=1e-4):
    """Ours and torch give the same loss and gradients (fail loudly otherwise)."""
    loss, grads = model.loss(X, y)
    tloss, tgrads = torch_step()
    if not abs(loss - tloss.item()) <= rtol * abs(tloss.item()):
        raise AssertionError(f"loss: ours {loss} vs torch {tloss.item()}")
    for name, g in grads.items():
        ref = tgrads[name].numpy().astype(np.float64)
        scale = np.max(np.abs(ref))
        if name in ("b1", "b2"):
            # These biases feed batch norm, which removes any constant shift:
            # their true gradient is 0 and both sides return rounding noise.
            # Measure the difference against the gradient of the norm's beta.
            scale = np.max(np.abs(tgrads["beta" + name[1:]].numpy()))
        err = np.max(np.abs(g - ref)) / max(scale, 1e-30)
        if not err <= rtol:
            raise AssertionError(f"grad {name}: ours differs from torch (max rel err {err:.2e})")


def breakdown(model, X, y, torch, torch_step, repeats, clock):
    """Per-layer time of our step, and torch's per-operator profile."""
    tick = _timing.CLOCKS[clock]
    per_round = []

    def timer_into(acc):
        def call(name, fn, *args):
            t0 = tick()
            r = fn(*args)
            acc[name] = acc.get(name, 0.0) + tick() - t0
            return r
        return call

    sandwich_layers(model, X, y, timer_into({}))              # warm-up
    for _ in range(repeats):
        acc = {}
        sandwich_layers(model, X, y, timer_into(acc))
        per_round.append(acc)
    names = list(per_round[0])
    med = {k: statistics.median(r[k] for r in per_round) for k in names}
    total = sum(med.values())
    rows = [[k, f"{v * 1e3:.1f}", f"{100 * v / total:.0f}%"] for k, v in med.items()]
    rows.append(["sum", f"{total * 1e3:.1f}", "100%"])
    print(f"ours, per layer (forward + backward; {clock} clock, median of {repeats}):")
    print(_timing.format_table(rows, ["layer", "ms", "share"]))
    if torch is None:
        return
    from torch.profiler import ProfilerActivity, profile  # noqa: PLC0415

    for _ in range(2):
        torch_step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(repeats):
            torch_step()
    events = prof.key_averages(group_by_input_shape=True)
    rows = []
    total = sum(e.self_cpu_time_total for e in events) / repeats
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total):
        t = e.self_cpu_time_total / repeats                  # microseconds per step
        if t < 0.01 * total:
            continue
        shape = e.input_shapes[0] if e.input_shapes else ""
        rows.append([e.key, str(shape), f"{t / 1e3:.1f}", f"{100 * t / total:.0f}%"])
    rows.append(["all operators", "", f"{total / 1e3:.1f}", "100%"])
    print(f"\ntorch, per operator (self time from torch.profiler, wall clock, "
          f"mean of {repeats} steps; operators under 1% left out):")
    print(_timing.format_table(rows, ["operator", "first input shape", "ms", "share"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: batch 32, 3 repeats, naive on 1 image")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved rounds (default 21; 3 with --quick)")
    parser.add_argument("--filter-size", type=int, default=7, choices=(3, 5, 7),
                        help="conv filter size, same padding (default 7)")
    parser.add_argument("--clock", choices=sorted(_timing.CLOCKS), default="wall",
                        help="wall time (default) or the thread's CPU time (busy machines)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive layers")
    parser.add_argument("--no-torch", action="store_true", help="skip torch")
    parser.add_argument("--breakdown", action="store_true",
                        help="instead: time of each of our layers, and torch's profile")
    args = parser.parse_args(argv)

    N = 32 if args.quick else 128
    repeats = args.repeats or (3 if args.quick else 21)
    naive_images = 0 if args.no_naive else (1 if args.quick else 2)
    torch = None if args.no_torch else _timing.torch_or_none()
    model, X, y = make_problem(N, args.filter_size)
    pad = (args.filter_size - 1) // 2
    print(_timing.describe_env(torch))
    print(f"batch {N}, conv {NUM_FILTERS} filters {args.filter_size}x{args.filter_size} pad {pad}, "
          f"hidden {HIDDEN}, {CLASSES} classes, float32; {repeats} interleaved rounds, "
          f"{args.clock} clock\n", flush=True)

    torch_step = None
    if torch is not None:
        torch_step = torch_step_fn(torch, model, X, y)
        check_against_torch(model, X, y, torch_step)

    if args.breakdown:
        breakdown(model, X, y, torch, torch_step, repeats, args.clock)
        return

    fns = {}
    if torch_step is not None:
        fns["torch"] = torch_step
    fns["ours"] = lambda: model.loss(X, y)
    fns["ours, layer by layer"] = lambda: layer_step(
        model, X, y, fast_layers.conv_forward_fast, fast_conv_bwd,
        fast_layers.max_pool_forward_fast, fast_layers.max_pool_backward_fast)
    # The two orders (relu then pool, pool then relu) give the same numbers.
    loss, grads = model.loss(X, y)
    loss_l, grads_l = fns["ours, layer by layer"]()
    if loss_l != loss or any(not np.array_equal(grads[k], grads_l[k]) for k in grads):
        raise AssertionError("the layer-by-layer step differs from model.loss")
    res = _timing.compare(fns, repeats=repeats, warmup=2, clock=args.clock)
    base = res["baseline"]

    rows = []
    for name in fns:
        t = res["median"][name]
        rows.append([name, f"{t * 1e3:.1f}", f"{N / t:,.0f}",
                     f"{res['ratio'][name]:.3f}" if base == "torch" else "-"])
    if naive_images:
        n = naive_images
        t = _timing.time_call(lambda: layer_step(
            model, X[:n], y[:n], layers.conv_forward_naive, layers.conv_backward_naive,
            layers.max_pool_forward_naive, layers.max_pool_backward_naive), args.clock) * N / n
        rows.append([f"naive (scaled from {n} image{'s' if n > 1 else ''})",
                     f"{t * 1e3:,.0f}", f"{N / t:.2f}", "-"])
    print(_timing.format_table(rows, ["step", "ms (median)", "images/s", "time / torch"]))
    print()
    if base == "torch":
        r = res["ratio"]["ours"]
        print(f"ours: {1 / r:.2f}x torch's images/s (median per-round time ratio {r:.3f}; "
              f"guard rail: time ratio <= 1.4)")
    if naive_images:
        print(f"ours: {t / res['median']['ours']:,.0f}x the naive layers' images/s")


if __name__ == "__main__":
    main()
