"""cs231n.export: a kit model handed to PyTorch computes the same, and comes back unchanged.

Parity: for every model configuration, the exported module in eval mode gives the
kit's test-mode scores and loss; in train mode (dropout off) the kit's loss, the
gradient of every parameter and the updated running statistics. Tolerances:
``|got - expected| <= tol + tol * |expected|`` with tol 1e-10 in float64, 1e-5 in
float32. The expected values come from the kit (``model.loss``, ``softmax_loss``);
the PyTorch side is read through the layer names the export documents, not through
the export's own mapping.

Needs the optional extra (``pip install -e ".[torch]"``); without it these tests
are skipped with that message, except the ones checking the kit without PyTorch.
"""
import copy
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import assert_close

from cs231n.classifiers.cnn import ConvNet, ThreeLayerConvNet
from cs231n.classifiers.fc_net import FullyConnectedNet
from cs231n.layers import softmax_loss

SKIP_REASON = ('PyTorch is not installed; it is the optional extra of cs231n.export: '
               'pip install -e ".[torch]"')
TOL = {np.float64: 1e-10, np.float32: 1e-5}
DTYPES = [np.float64, np.float32]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason=SKIP_REASON)


@pytest.fixture(scope="module")
def export(torch):
    import cs231n.export

    return cs231n.export


# --------------------------------------------------------------------------- #
# Model configurations: every normalisation of every model, with and without dropout
# --------------------------------------------------------------------------- #
CONFIGS = {
    "fc-plain": (FullyConnectedNet, dict(hidden_dims=[7, 6], input_dim=12, num_classes=4), (3, 4)),
    "fc-batchnorm": (FullyConnectedNet, dict(hidden_dims=[7, 6], input_dim=12, num_classes=4,
                                             normalization="batchnorm"), (12,)),
    "fc-layernorm": (FullyConnectedNet, dict(hidden_dims=[7, 6], input_dim=12, num_classes=4,
                                             normalization="layernorm"), (2, 6)),
    "fc-plain-dropout": (FullyConnectedNet, dict(hidden_dims=[7], input_dim=12, num_classes=4,
                                                 dropout_keep_ratio=0.6), (12,)),
    "fc-batchnorm-dropout": (FullyConnectedNet, dict(
        hidden_dims=[7, 6, 5], input_dim=12, num_classes=4, normalization="batchnorm",
        dropout_keep_ratio=0.75), (12,)),
    "fc-layernorm-dropout": (FullyConnectedNet, dict(
        hidden_dims=[7, 6], input_dim=12, num_classes=4, normalization="layernorm",
        dropout_keep_ratio=0.5), (12,)),
    "threelayer": (ThreeLayerConvNet, dict(input_dim=(3, 8, 8), num_filters=4, filter_size=3,
                                           hidden_dim=7, num_classes=5), (3, 8, 8)),
    "threelayer-odd": (ThreeLayerConvNet, dict(input_dim=(2, 7, 9), num_filters=3, filter_size=5,
                                               hidden_dim=6, num_classes=3), (2, 7, 9)),
    "conv-plain": (ConvNet, dict(input_dim=(3, 8, 8), num_filters=(4, 6), hidden_dims=(7,),
                                 num_classes=5), (3, 8, 8)),
    "conv-batchnorm": (ConvNet, dict(input_dim=(3, 8, 8), num_filters=(4, 6), hidden_dims=(7,),
                                     num_classes=5, normalization="batchnorm"), (3, 8, 8)),
    "conv-groupnorm": (ConvNet, dict(input_dim=(3, 8, 8), num_filters=(4, 6), hidden_dims=(7,),
                                     num_classes=5, normalization="groupnorm", num_groups=2),
                       (3, 8, 8)),
    "conv-batchnorm-dropout": (ConvNet, dict(
        input_dim=(3, 8, 8), num_filters=(4,), hidden_dims=(7, 6), num_classes=5,
        normalization="batchnorm", dropout_keep_ratio=0.7), (3, 8, 8)),
    "conv-groupnorm-dropout": (ConvNet, dict(
        input_dim=(3, 8, 8), num_filters=(4,), hidden_dims=(7, 6), num_classes=5,
        normalization="groupnorm", num_groups=4, dropout_keep_ratio=0.7), (3, 8, 8)),
    "conv-batchnorm-nohidden-odd": (ConvNet, dict(
        input_dim=(2, 9, 7), num_filters=(4, 2), filter_size=5, hidden_dims=(), num_classes=3,
        normalization="batchnorm"), (2, 9, 7)),
    "conv-groupnorm-instance": (ConvNet, dict(
        input_dim=(2, 6, 6), num_filters=(3,), hidden_dims=(4,), num_classes=3,
        normalization="groupnorm", num_groups=3), (2, 6, 6)),
}
BN_CONFIGS = [name for name, (_, kw, _) in CONFIGS.items() if kw.get("normalization") == "batchnorm"]


def make_model(name, dtype, rng, reg=0.3):
    """The configuration's model with every array random (biases, gamma, beta and
    running statistics too, so each of them shows in the outputs), and non-default
    eps and momentum in the first norm layer."""
    cls, kw, _ = CONFIGS[name]
    model = cls(reg=reg, dtype=dtype, seed=0, **kw)
    for k, v in model.params.items():
        if k.startswith("gamma"):
            model.params[k] = (1 + 0.3 * rng.standard_normal(v.shape)).astype(dtype)
        elif k.startswith(("b", "beta")):
            model.params[k] = (0.2 * rng.standard_normal(v.shape)).astype(dtype)
        else:   # weights: unit-variance activations whatever the initialisation
            fan_in = v[0].size if v.ndim == 4 else v.shape[0]
            model.params[k] = (rng.standard_normal(v.shape) / np.sqrt(fan_in)).astype(dtype)
    for i, p in enumerate(getattr(model, "bn_params", [])):
        if i == 0:
            p["eps"] = 1e-3
        if model.normalization == "batchnorm":
            C = p_size(model, i + 1)
            p["running_mean"] = (0.3 * rng.standard_normal(C)).astype(dtype)
            p["running_var"] = rng.uniform(0.5, 2.0, C).astype(dtype)
            if i == 0:
                p["momentum"] = 0.7
    return model


def p_size(model, i):
    return model.params[f"gamma{i}"].size


def make_batch(name, n, dtype, rng):
    _, kw, shape = CONFIGS[name]
    X = rng.standard_normal((n, *shape)).astype(dtype)
    y = rng.integers(0, kw["num_classes"], n)
    return X, y


def torch_array(module, kit_name, what="data"):
    """The module's value (or gradient) of a kit parameter, in the kit's layout.

    Names as documented in cs231n.export: W{i}/b{i} -> fc{i} (weight transposed) or
    conv{i}; gamma{i}/beta{i} -> norm{i}.weight/bias.
    """
    kind, i = re.fullmatch(r"([a-zA-Z]+)(\d+)", kit_name).groups()
    if kind in ("W", "b"):
        names = dict(module.named_children())
        layer = names.get(f"fc{i}", names.get(f"conv{i}"))
        t = layer.weight if kind == "W" else layer.bias
        transpose = kind == "W" and f"fc{i}" in names
    else:
        layer = getattr(module, f"norm{i}")
        t = layer.weight if kind == "gamma" else layer.bias
        transpose = False
    t = t.grad if what == "grad" else t
    a = t.detach().numpy()
    return a.T if transpose else a


def as_tensors(torch, X, y=None):
    x = torch.from_numpy(X)
    return x if y is None else (x, torch.from_numpy(y))


# --------------------------------------------------------------------------- #
# Eval mode = the kit's test mode
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("n", [1, 6])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_eval_mode_scores_and_loss_equal_the_kits_test_mode(export, torch, name, dtype, n, rng):
    model = make_model(name, dtype, rng)
    X, y = make_batch(name, n, dtype, rng)
    expected_scores = model.loss(X)
    data_loss, _ = softmax_loss(expected_scores, y)
    Ws = [v for k, v in model.params.items() if k.startswith("W")]
    expected_loss = data_loss + 0.5 * model.reg * sum(float(np.sum(W.astype(np.float64) ** 2)) for W in Ws)

    module = export.to_torch(model).eval()
    x, yt = as_tensors(torch, X, y)
    with torch.no_grad():
        scores = module(x)
        loss = module.loss(x, yt)
    assert scores.dtype == {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    tol = TOL[dtype]
    assert_close(name, "eval scores", scores.numpy(), expected_scores, rtol=tol, atol=tol,
                 against="the kit's test-mode scores")
    assert_close(name, "eval loss", loss.item(), expected_loss, rtol=tol, atol=tol,
                 against="the kit's test-mode loss")


# --------------------------------------------------------------------------- #
# Train mode (dropout off) = the kit's train mode: loss, gradients, running statistics
# --------------------------------------------------------------------------- #
def dropout_off(model):
    """A copy of the model whose dropout keeps every unit (p = 1), so the kit's
    train mode is deterministic; the export of it has Dropout(p=0)."""
    model = copy.deepcopy(model)
    if model.__dict__.get("use_dropout"):
        model.dropout_param["p"] = 1.0
    return model


@pytest.mark.parametrize("n", [1, 6])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_train_step_loss_gradients_and_running_stats_equal_the_kits(export, torch, name, dtype,
                                                                    n, rng):
    model = dropout_off(make_model(name, dtype, rng))
    X, y = make_batch(name, n, dtype, rng)
    module = export.to_torch(model)           # exported before the kit's step
    assert module.training
    loss_kit, grads_kit = model.loss(X, y)

    loss = module.loss(*as_tensors(torch, X, y))
    loss.backward()
    tol = TOL[dtype]
    assert_close(name, "train loss", loss.item(), loss_kit, rtol=tol, atol=tol,
                 against="the kit's loss")
    assert sorted(grads_kit) == sorted(model.params)
    for k, g in grads_kit.items():
        assert_close(name, f"d{k}", torch_array(module, k, "grad").reshape(g.shape), g,
                     rtol=tol, atol=tol, against="the kit's gradient")
    # every module parameter is one of the kit's (none left untested)
    assert sum(p.numel() for p in module.parameters()) == sum(v.size for v in model.params.values())
    if getattr(model, "normalization", None) == "batchnorm":
        for i, p in enumerate(model.bn_params, start=1):
            norm = getattr(module, f"norm{i}")
            for stat in ("running_mean", "running_var"):
                assert_close(name, f"norm{i}.{stat}", getattr(norm, stat).numpy(), p[stat],
                             rtol=tol, atol=tol, against="the kit's updated statistic")


@pytest.mark.parametrize("name", ["fc-batchnorm", "conv-batchnorm"])
def test_several_train_steps_then_eval_still_agree(export, torch, name, rng):
    """Running statistics accumulated over steps in both, then test mode on new data."""
    model = make_model(name, np.float64, rng)
    module = export.to_torch(model)
    for _ in range(3):
        X, y = make_batch(name, 5, np.float64, rng)
        model.loss(X, y)
        module.loss(*as_tensors(torch, X, y))
    X, _ = make_batch(name, 4, np.float64, rng)
    with torch.no_grad():
        got = module.eval()(torch.from_numpy(X)).numpy()
    assert_close(name, "eval after 3 steps", got, model.loss(X), rtol=1e-10, atol=1e-10)


def test_plain_torch_batchnorm_differs_only_in_the_running_variance(export, torch, rng):
    """batchnorm='torch': PyTorch's own layers. Outputs and running_mean as the kit's;
    running_var gets the unbiased batch variance, N/(N-1) times the kit's."""
    name, n = "conv-batchnorm", 5
    model = make_model(name, np.float64, rng)
    old = copy.deepcopy(model.bn_params)
    module = export.to_torch(model, batchnorm="torch")
    assert type(module.norm1) is torch.nn.BatchNorm2d and type(module.norm3) is torch.nn.BatchNorm1d
    X, y = make_batch(name, n, np.float64, rng)
    with torch.no_grad():
        assert_close(name, "eval", module.eval()(torch.from_numpy(X)).numpy(), model.loss(X),
                     rtol=1e-10, atol=1e-10)
    loss_kit, _ = model.loss(X, y)
    loss = module.train().loss(*as_tensors(torch, X, y))
    assert_close(name, "train loss", loss.item(), loss_kit, rtol=1e-10, atol=1e-10)
    values_per_channel = {1: n * 8 * 8, 2: n * 4 * 4, 3: n}   # conv1, conv2 (after a pool), fc3
    for i, N in values_per_channel.items():
        m = old[i - 1].get("momentum", 0.9)
        norm, new = getattr(module, f"norm{i}"), model.bn_params[i - 1]
        assert_close(name, f"norm{i} mean", norm.running_mean.numpy(), new["running_mean"],
                     rtol=1e-10, atol=1e-10)
        batch_var = (new["running_var"] - m * old[i - 1]["running_var"]) / (1 - m)
        expected = m * old[i - 1]["running_var"] + (1 - m) * batch_var * N / (N - 1)
        assert_close(name, f"norm{i} var", norm.running_var.numpy(), expected,
                     rtol=1e-10, atol=1e-10, against="the kit's, with the N/(N-1) factor")
        assert not np.allclose(norm.running_var.numpy(), new["running_var"], rtol=1e-6)


def test_conventions_are_converted(export, torch, rng):
    model = make_model("conv-batchnorm-dropout", np.float64, rng)
    module = export.to_torch(model)
    assert module.norm1.momentum == pytest.approx(0.3)        # kit 0.7 (set above)
    assert module.norm2.momentum == pytest.approx(0.1)        # kit default 0.9
    assert module.norm1.eps == 1e-3 and module.norm2.eps == 1e-5
    assert module.drop2.p == pytest.approx(0.3)               # kit keeps 0.7
    assert module.reg == 0.3
    # PyTorch's dropout in train mode: units dropped with p = 0.3, kept ones / 0.7
    torch.manual_seed(0)
    out = module.drop2(torch.ones(200_000, dtype=torch.float64)).numpy()
    assert set(np.unique(out).round(12)) == {0.0, round(1 / 0.7, 12)}
    assert abs(np.mean(out == 0) - 0.3) < 0.005


# --------------------------------------------------------------------------- #
# Back to the kit
# --------------------------------------------------------------------------- #
def kit_arrays(model):
    out = {k: v for k, v in model.params.items()}
    for i, p in enumerate(getattr(model, "bn_params", [])):
        out.update({(i, k): v for k, v in p.items() if isinstance(v, np.ndarray)})
    return out


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_round_trip_leaves_every_array_unchanged(export, name, dtype, rng):
    model = make_model(name, dtype, rng)
    before = copy.deepcopy(kit_arrays(model))
    returned = export.from_torch(export.to_torch(model), model)
    assert returned is model
    after = kit_arrays(model)
    assert sorted(after, key=str) == sorted(before, key=str)
    for k, v in before.items():
        assert after[k].dtype == v.dtype and after[k].shape == v.shape, k
        np.testing.assert_array_equal(after[k], v, err_msg=str(k))


def test_round_trip_of_an_untrained_batchnorm_model_gives_the_kits_default_statistics(export):
    """Before its first train-mode step the kit has no running statistics and uses
    zeros; the export carries zeros, and they come back as zeros."""
    model = ConvNet(input_dim=(3, 8, 8), num_filters=(4,), hidden_dims=(5,), num_classes=3,
                    normalization="batchnorm", dtype=np.float64, seed=0)
    params = copy.deepcopy(model.params)
    module = export.to_torch(model)
    assert not module.norm1.running_var.any() and not module.norm2.running_mean.any()
    export.from_torch(module, model)
    for k, v in params.items():
        np.testing.assert_array_equal(model.params[k], v)
    for p, C in zip(model.bn_params, (4, 5)):
        for stat in ("running_mean", "running_var"):
            assert p[stat].dtype == np.float64
            np.testing.assert_array_equal(p[stat], np.zeros(C))


def test_module_and_model_share_no_memory(export, torch, rng):
    model = make_model("fc-batchnorm", np.float64, rng)
    before = copy.deepcopy(kit_arrays(model))
    module = export.to_torch(model)
    with torch.no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            t.add_(1)
    for k, v in before.items():
        np.testing.assert_array_equal(kit_arrays(model)[k], v)
    export.from_torch(module, model)
    with torch.no_grad():
        module.fc1.bias.add_(1)
        module.norm1.running_var.add_(1)
    np.testing.assert_array_equal(model.params["b1"], before["b1"] + 1)
    np.testing.assert_array_equal(model.bn_params[0]["running_var"],
                                  before[(0, "running_var")] + 1)


@pytest.mark.parametrize("name", ["fc-batchnorm-dropout", "conv-groupnorm", "conv-batchnorm"])
def test_trained_in_torch_then_back_in_the_kit(export, torch, name, rng):
    """A few Adam steps in PyTorch (dropout on), then from_torch: the kit's test mode
    gives the module's eval scores, and its arrays are the module's."""
    model = make_model(name, np.float32, rng)
    module = export.to_torch(model)
    opt = torch.optim.Adam(module.parameters(), lr=1e-2)
    torch.manual_seed(0)
    for _ in range(4):
        X, y = make_batch(name, 8, np.float32, rng)
        opt.zero_grad()
        module.loss(*as_tensors(torch, X, y)).backward()
        opt.step()
    before = copy.deepcopy(model.params)
    export.from_torch(module, model)
    assert all(not np.array_equal(model.params[k], v) for k, v in before.items())
    X, _ = make_batch(name, 10, np.float32, rng)
    with torch.no_grad():
        expected = module.eval()(torch.from_numpy(X)).numpy()
    assert_close(name, "kit after from_torch", model.loss(X), expected, rtol=1e-5, atol=1e-5,
                 against="the module's eval scores")
    for k, v in model.params.items():
        assert v.dtype == np.float32
        np.testing.assert_array_equal(v, torch_array(module, k).reshape(v.shape), err_msg=k)


def test_sync_batchnorm_conversion_keeps_everything(export, torch, rng):
    """The multi-GPU route: convert_sync_batchnorm, and from_torch still reads it."""
    model = make_model("conv-batchnorm", np.float64, rng)
    before = copy.deepcopy(kit_arrays(model))
    module = torch.nn.SyncBatchNorm.convert_sync_batchnorm(export.to_torch(model))
    assert isinstance(module.norm1, torch.nn.SyncBatchNorm)
    assert module.norm1.momentum == pytest.approx(0.3)
    export.from_torch(module, model)
    for k, v in before.items():
        np.testing.assert_array_equal(kit_arrays(model)[k], v, err_msg=str(k))


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #
def test_bad_arguments_are_refused_naming_them(export, torch, rng):
    model = make_model("conv-groupnorm", np.float64, rng)
    with pytest.raises(TypeError, match="model must be a FullyConnectedNet"):
        export.to_torch(object())
    with pytest.raises(ValueError, match="batchnorm must be 'kit' or 'torch'"):
        export.to_torch(model, batchnorm="sync")
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        export.from_torch(model.params, model)
    model.bn_params[1]["eps"] = -1.0
    with pytest.raises(ValueError, match=r"bn_params\[1\]\['eps'\]"):
        export.to_torch(model)


@pytest.mark.parametrize("source, change, target, match", [
    ("conv-groupnorm", dict(hidden_dims=(8,)), "conv-groupnorm",
     r"module.fc3.weight has shape \(8, 24\), expected \(7, 24\)"),
    ("conv-groupnorm", dict(num_groups=3, num_filters=(3, 6)), "conv-groupnorm",
     "module.norm1 must be a group norm with 2 groups, got GroupNorm with 3"),
    ("conv-batchnorm", {}, "conv-groupnorm",
     "module.norm1 must be a group norm with 2 groups, got KitBatchNorm2d"),
    ("conv-groupnorm", {}, "conv-batchnorm", "module.norm1 has no tensor 'running_mean'"),
    ("conv-plain", {}, "conv-batchnorm", "module has no layer 'norm1'"),
])
def test_from_torch_refuses_another_architecture_and_leaves_the_model(
        export, rng, source, change, target, match):
    cls, kw, _ = CONFIGS[source]
    module = export.to_torch(cls(**dict(kw, **change), dtype=np.float64, seed=1))
    model = make_model(target, np.float64, rng)
    before = copy.deepcopy(kit_arrays(model))
    with pytest.raises(ValueError, match=match):
        export.from_torch(module, model)
    after = kit_arrays(model)
    assert sorted(after, key=str) == sorted(before, key=str)
    for k, v in before.items():
        np.testing.assert_array_equal(after[k], v, err_msg=str(k))


# --------------------------------------------------------------------------- #
# Without PyTorch
# --------------------------------------------------------------------------- #
def run_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_the_kit_never_imports_torch():
    code = ("import sys, cs231n, cs231n.layers, cs231n.fast_layers, cs231n.layer_utils, "
            "cs231n.classifiers.fc_net, cs231n.classifiers.cnn, cs231n.solver, cs231n.optim, "
            "cs231n.experiments, cs231n.data_utils, cs231n.gradient_check; "
            "print('torch' in sys.modules)")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_without_torch_to_torch_names_the_extra():
    code = ("import sys; sys.modules['torch'] = None\n"       # as if not installed
            "import numpy as np\n"
            "import cs231n.export as e\n"
            "from cs231n.classifiers.fc_net import FullyConnectedNet\n"
            "m = FullyConnectedNet([3], input_dim=4, num_classes=2, seed=0)\n"
            "print(m.loss(np.ones((2, 4))).shape)\n"               # the kit works as before
            "try:\n    e.to_torch(m)\nexcept ImportError as exc:\n    print('ImportError:', exc)\n")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "(2, 2)"
    assert lines[1].startswith("ImportError:") and 'pip install -e ".[torch]"' in lines[1]
    assert "torch==2.13.0" in lines[1]


# --------------------------------------------------------------------------- #
# A model trained in the kit keeps its validation accuracy in PyTorch
# --------------------------------------------------------------------------- #
@pytest.mark.slow
def test_kit_trained_convnet_has_the_same_validation_accuracy_in_torch(export, torch,
                                                                       cifar10_dir):
    from cs231n.data_utils import get_CIFAR10_data
    from cs231n.solver import Solver

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the subset warning
        data = get_CIFAR10_data(num_training=500, num_validation=300, num_test=0,
                                cifar10_dir=cifar10_dir, dtype=np.float32)
    scale = float(data["X_train"].std())
    data = {k: (v / scale).astype(np.float32) if k.startswith("X") else v
            for k, v in data.items()}
    model = ConvNet(input_dim=(3, 32, 32), num_filters=(8,), hidden_dims=(32,),
                    normalization="batchnorm", dtype=np.float32, seed=0)
    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 2e-3},
                    batch_size=50, num_epochs=2, verbose=False, seed=0)
    solver.train()
    X_val, y_val = data["X_val"], data["y_val"]
    kit_pred = np.argmax(model.loss(X_val), axis=1)
    kit_acc = float(np.mean(kit_pred == y_val))
    assert kit_acc > 0.2                      # it learned something (chance: 0.1)

    module = export.to_torch(model).eval()
    with torch.no_grad():
        torch_pred = module(torch.from_numpy(X_val)).argmax(dim=1).numpy()
    assert float(np.mean(torch_pred == y_val)) == kit_acc
    np.testing.assert_array_equal(torch_pred, kit_pred)
