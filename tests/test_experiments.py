"""Tests of cs231n.experiments: histories, fast mode, plots, JSON, bad input.

Structure tests train on a tiny synthetic data set (60 random 3x8x8 images), so the
history lengths can be written down here: with 60 training samples a batch of 50
gives one iteration per epoch, a batch of 5 gives twelve. The tests marked slow
train on the real CIFAR-10 subset in fast mode and check the experiments' claims
(batch norm fits faster than the baseline, dropout fits slower, ...).
"""
import copy
import json
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231n import experiments as E  # noqa: E402
from cs231n.data_utils import get_CIFAR10_data  # noqa: E402

N_TRAIN, N_VAL = 60, 30
CURVES = ("loss_history", "train_acc_history", "val_acc_history")


@pytest.fixture
def tiny():
    """60 training and 30 validation images of shape (3, 8, 8), labels 0..9."""
    gen = np.random.default_rng(7)
    return {
        "X_train": gen.standard_normal((N_TRAIN, 3, 8, 8)),
        "y_train": gen.integers(10, size=N_TRAIN),
        "X_val": gen.standard_normal((N_VAL, 3, 8, 8)),
        "y_val": gen.integers(10, size=N_VAL),
    }


@pytest.fixture(autouse=True)
def _no_env_and_close_figures(monkeypatch):
    monkeypatch.delenv("CS231N_FAST", raising=False)
    yield
    plt.close("all")


def labels(history):
    return [r["label"] for r in history["runs"]]


def without_times(history):
    h = copy.deepcopy(history)
    h.pop("seconds")
    for r in h["runs"]:
        r.pop("seconds")
    return h


# --------------------------------------------------------------------------- #
# fast switch
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("YES", True),
                                             ("on", True), ("0", False), ("", False),
                                             ("false", False), ("off", False)])
def test_is_fast_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("CS231N_FAST", value)
    assert E.is_fast() is expected
    assert E.is_fast(None) is expected


def test_is_fast_defaults_to_full_when_unset():
    assert E.is_fast() is False


def test_explicit_fast_flag_beats_the_environment(monkeypatch):
    monkeypatch.setenv("CS231N_FAST", "1")
    assert E.is_fast(False) is False
    monkeypatch.setenv("CS231N_FAST", "0")
    assert E.is_fast(True) is True


def test_unknown_fast_value_is_an_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv("CS231N_FAST", "maybe")
    with pytest.raises(ValueError, match="CS231N_FAST"):
        E.is_fast()


def test_fast_flag_must_be_bool_or_none():
    with pytest.raises(TypeError, match="fast"):
        E.is_fast("yes")


def test_environment_switch_reaches_the_experiment(tiny, monkeypatch):
    monkeypatch.setenv("CS231N_FAST", "1")
    h = E.batchnorm(tiny, progress=False)
    assert h["fast"] is True and h["config"]["num_epochs"] == 4
    monkeypatch.setenv("CS231N_FAST", "0")
    h = E.batchnorm(tiny, progress=False)
    assert h["fast"] is False and h["config"]["num_epochs"] == 10


# --------------------------------------------------------------------------- #
# history structure (synthetic data)
# --------------------------------------------------------------------------- #
def test_batchnorm_history(tiny):
    h = E.batchnorm(tiny, seed=3, fast=True, progress=False)
    assert h["experiment"] == "batchnorm" and h["seed"] == 3 and h["fast"] is True
    assert labels(h) == ["baseline", "batchnorm"]
    assert [r["normalization"] for r in h["runs"]] == [None, "batchnorm"]
    cfg = h["config"]
    assert cfg["hidden_dims"] == [100] * 5 and cfg["batch_size"] == 50
    assert cfg["learning_rate"] == 1e-3 and cfg["weight_scale"] == 2e-2
    assert cfg["num_train"] == N_TRAIN and cfg["num_val"] == N_VAL
    for r in h["runs"]:
        # 60 samples, batch 50: one iteration per epoch, 4 epochs in fast mode.
        assert len(r["loss_history"]) == 4
        # accuracy checks after the first iteration and at each epoch end; with one
        # iteration per epoch the first iteration is also the first epoch end
        assert len(r["train_acc_history"]) == 4 and len(r["val_acc_history"]) == 4
        assert r["best_val_acc"] == max(r["val_acc_history"])
        assert r["final_train_acc"] == r["train_acc_history"][-1]
        assert r["diverged"] is None
        assert all(0.0 <= a <= 1.0 for a in r["train_acc_history"] + r["val_acc_history"])


def test_full_mode_is_the_assignment_setting(tiny):
    h = E.batchnorm(tiny, fast=False, progress=False)
    assert h["config"]["num_epochs"] == 10
    assert all(len(r["loss_history"]) == 10 for r in h["runs"])


def test_weight_scale_sweep_history(tiny):
    h = E.weight_scale(tiny, fast=True, progress=False)
    scales = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    np.testing.assert_allclose(h["config"]["weight_scales"], scales, rtol=1e-12)
    assert h["config"]["hidden_dims"] == [50] * 7
    assert labels(h) == ["baseline", "batchnorm"] * 5
    np.testing.assert_allclose([r["weight_scale"] for r in h["runs"]],
                               np.repeat(scales, 2), rtol=1e-12)
    assert all(len(r["loss_history"]) == 2 for r in h["runs"])      # 2 epochs x 1 iteration


def test_full_weight_scale_sweep_has_twenty_points(tiny, monkeypatch):
    # Only the configuration is checked: train for zero time by faking the Solver run.
    seen = []
    monkeypatch.setattr(E, "_train", lambda model, data, bar, label, settings, *a: seen.append(
        settings["weight_scale"]) or {"label": label, **settings})
    h = E.weight_scale(tiny, fast=False, progress=False)
    assert len(h["config"]["weight_scales"]) == 20 and len(seen) == 40
    assert seen[0] == pytest.approx(1e-4) and seen[-1] == pytest.approx(1.0)
    assert h["config"]["num_epochs"] == 10


@pytest.mark.parametrize("fn, norm, name", [(E.batch_size, "batchnorm", "batch_size"),
                                            (E.layernorm, "layernorm", "layernorm")])
def test_batch_size_histories(tiny, fn, norm, name):
    h = fn(tiny, fast=True, progress=False)
    assert h["experiment"] == name
    assert [(r["label"], r["batch_size"]) for r in h["runs"]] == [
        ("baseline", 5), (norm, 5), (norm, 10), (norm, 50)]
    # 60 samples, 2 epochs: 12, 12, 6 and 1 iterations per epoch
    assert [len(r["loss_history"]) for r in h["runs"]] == [24, 24, 12, 2]
    # first iteration + 2 epoch ends (the first iteration is an epoch end only at batch 50)
    assert [len(r["val_acc_history"]) for r in h["runs"]] == [3, 3, 3, 2]
    assert h["config"]["learning_rate"] == pytest.approx(10 ** -3.5)


def test_dropout_history(tiny):
    h = E.dropout(tiny, fast=True, progress=False)
    assert labels(h) == ["keep=1", "keep=0.25"]
    assert [r["keep_ratio"] for r in h["runs"]] == [1.0, 0.25]
    assert h["config"]["hidden_dims"] == [500] and h["config"]["learning_rate"] == 5e-4
    assert all(len(r["loss_history"]) == 10 for r in h["runs"])     # 10 epochs x 1 iteration


def test_update_rules_history(tiny):
    h = E.update_rules(tiny, fast=True, progress=False)
    assert labels(h) == ["sgd", "sgd_momentum", "rmsprop", "adam"]
    assert [r["learning_rate"] for r in h["runs"]] == [5e-3, 5e-3, 1e-4, 1e-3]
    assert all(len(r["loss_history"]) == 2 for r in h["runs"])


def test_spatial_norm_history(tiny):
    h = E.spatial_norm(tiny, fast=True, progress=False)
    assert labels(h) == ["none", "batchnorm", "groupnorm"]
    assert h["config"]["num_filters"] == [8, 16]
    assert all(len(r["loss_history"]) == 2 for r in h["runs"])


def test_spatial_norm_trains_on_unit_variance_images(tiny):
    # CIFAR-10 after mean subtraction has a standard deviation near 60: He
    # initialisation would start the plain net at a loss in the hundreds unless
    # the experiment rescales the images (the caller's arrays stay as they are)
    data = {k: (60.0 * v if k.startswith("X") else v) for k, v in tiny.items()}
    before = {k: v.copy() for k, v in data.items()}
    h = E.spatial_norm(data, fast=True, progress=False)
    assert h["config"]["input_std"] == pytest.approx(float(data["X_train"].std()), rel=1e-3)
    first_losses = [r["loss_history"][0] for r in h["runs"]]
    assert max(first_losses) < 2 * np.log(10), first_losses   # log(C) at a fair start
    assert all(np.array_equal(data[k], before[k]) for k in data)


def test_same_seed_same_history_other_seed_other_history(tiny):
    a = E.batchnorm(tiny, seed=5, fast=True, progress=False)
    b = E.batchnorm(tiny, seed=5, fast=True, progress=False)
    c = E.batchnorm(tiny, seed=6, fast=True, progress=False)
    assert without_times(a) == without_times(b)
    assert a["runs"][0]["loss_history"] != c["runs"][0]["loss_history"]


def test_runs_of_an_experiment_share_initial_weights(tiny):
    # Same seed, same weights and minibatches: the two update rules without state
    # beyond the learning rate take the same first step, so the first loss (computed
    # before any update) is identical across all four runs.
    h = E.update_rules(tiny, seed=11, fast=True, progress=False)
    first = {r["loss_history"][0] for r in h["runs"]}
    assert len(first) == 1


def test_dropout_masks_change_between_steps(tiny):
    # With a fixed dropout seed every step would drop the same units; the experiment
    # must draw fresh masks. Keep ratio 0.25 on a 500-unit layer: the losses of
    # consecutive steps on the same single batch differ.
    data = {k: v[:50] if k.endswith("train") else v for k, v in tiny.items()}
    h = E.dropout(data, fast=True, progress=False)
    losses = h["runs"][1]["loss_history"]
    assert len(set(losses)) == len(losses)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_is_recorded_not_raised(tiny):
    # Inputs near the float32 limit overflow in the first affine layer: nan loss.
    huge = dict(tiny, X_train=tiny["X_train"] * 1e38, X_val=tiny["X_val"] * 1e38)
    h = E.batchnorm(huge, fast=True, progress=False)
    for r in h["runs"]:
        assert r["diverged"].startswith("Training diverged: the loss is nan at iteration 1")
        assert r["loss_history"] == [] and r["best_val_acc"] is None
    json.dumps(h, allow_nan=False)          # still strict JSON
    assert E.results_table(h).count("(diverged)") == 2
    E.plot(h)                               # plots what there is


def test_caller_data_is_untouched(tiny):
    before = {k: v.copy() for k, v in tiny.items()}
    E.batchnorm(tiny, fast=True, progress=False)
    assert set(tiny) == set(before)
    for k in before:
        np.testing.assert_array_equal(tiny[k], before[k])


# --------------------------------------------------------------------------- #
# progress and verbose output
# --------------------------------------------------------------------------- #
def test_progress_bar_counts_every_iteration(tiny, capsys):
    E.batchnorm(tiny, fast=True, progress=True)
    err = capsys.readouterr().err
    assert "batchnorm" in err and "8/8" in err          # 2 runs x 4 iterations


def test_no_output_without_progress_or_verbose(tiny, capsys):
    E.batchnorm(tiny, fast=True, progress=False, verbose=False)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_verbose_prints_one_line_per_run(tiny, capsys):
    E.dropout(tiny, fast=True, progress=False, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("keep=1") and "best val acc" in lines[0]


# --------------------------------------------------------------------------- #
# JSON, summaries, plots
# --------------------------------------------------------------------------- #
def test_history_round_trips_through_json(tiny, tmp_path):
    h = E.dropout(tiny, fast=True, progress=False)
    path = E.save_history(h, tmp_path / "history.json")
    back = E.load_history(path)
    assert back == h
    json.loads((tmp_path / "history.json").read_text())     # plain JSON


def test_summary_drops_curves_and_keeps_accuracies(tiny):
    h = E.batchnorm(tiny, fast=True, progress=False)
    s = E.summarize(h)
    assert s["experiment"] == "batchnorm" and s["config"] == h["config"]
    assert [r["label"] for r in s["results"]] == ["baseline", "batchnorm"]
    for r, run in zip(s["results"], h["runs"]):
        assert not set(CURVES) & set(r)
        assert r["best_val_acc"] == max(run["val_acc_history"])
        assert r["final_train_acc"] == run["train_acc_history"][-1]
    table = E.results_table(h)
    assert len(table.splitlines()) == 2 and "best val acc" in table


@pytest.mark.parametrize("fn, n_axes, n_lines", [
    (E.batchnorm, 3, 2), (E.weight_scale, 3, 2), (E.batch_size, 2, 4), (E.layernorm, 2, 4),
    (E.dropout, 2, 2), (E.update_rules, 3, 4), (E.spatial_norm, 3, 3),
    (E.activations, 3, 2)])
def test_plots(tiny, tmp_path, fn, n_axes, n_lines):
    h = fn(tiny, fast=True, progress=False)
    figs = E.plot(E.load_history(E.save_history(h, tmp_path / "h.json")))
    assert list(figs) == [h["experiment"]]
    fig = figs[h["experiment"]]
    assert isinstance(fig, matplotlib.figure.Figure)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == n_axes
    assert len(axes[0].get_lines()) == n_lines
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for ax in axes:                        # every panel says what it plots
        assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()
        if ax.get_xlabel() == "Epoch":     # whole epochs only, even for short runs
            ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
            assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_weight_scale_plot_uses_a_log_axis(tiny):
    fig = E.plot_weight_scale(E.weight_scale(tiny, fast=True, progress=False))["weight_scale"]
    assert fig.axes[0].get_xscale() == "log"
    xs = fig.axes[0].get_lines()[0].get_xdata()
    np.testing.assert_allclose(xs, [1e-4, 1e-3, 1e-2, 1e-1, 1.0], rtol=1e-12)


def test_registry_lists_every_experiment():
    assert list(E.EXPERIMENTS) == ["batchnorm", "activations", "weight_scale", "batch_size",
                                   "layernorm", "dropout", "update_rules", "spatial_norm"]
    assert E.EXPERIMENTS["spatial_norm"].images is True
    assert E.EXPERIMENTS["update_rules"].num_train(False) == 4000


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #
def test_data_must_be_a_dict():
    with pytest.raises(TypeError, match="data must be a dict"):
        E.batchnorm([1, 2, 3], fast=True)


def test_missing_key_is_named(tiny):
    del tiny["y_val"]
    with pytest.raises(ValueError, match="y_val"):
        E.dropout(tiny, fast=True)


def test_label_count_mismatch_is_named(tiny):
    tiny["y_train"] = tiny["y_train"][:-1]
    with pytest.raises(ValueError, match="y_train"):
        E.batchnorm(tiny, fast=True)


def test_arrays_required(tiny):
    tiny["X_val"] = tiny["X_val"].tolist()
    with pytest.raises(TypeError, match="X_val"):
        E.batchnorm(tiny, fast=True)


def test_spatial_norm_needs_images(tiny):
    flat = {k: (v.reshape(len(v), -1) if k.startswith("X") else v) for k, v in tiny.items()}
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        E.spatial_norm(flat, fast=True)


@pytest.mark.parametrize("seed, exc", [(-1, ValueError), ("1", TypeError), (True, TypeError),
                                       (1.5, TypeError)])
def test_bad_seed(tiny, seed, exc):
    with pytest.raises(exc, match="seed"):
        E.batchnorm(tiny, seed=seed, fast=True)


@pytest.mark.parametrize("kwargs, name", [({"verbose": None}, "verbose"),
                                          ({"progress": "yes"}, "progress"),
                                          ({"fast": 1}, "fast")])
def test_bad_flags(tiny, kwargs, name):
    with pytest.raises(TypeError, match=name):
        E.dropout(tiny, **kwargs)


def test_batch_size_rejects_other_normalisations(tiny):
    with pytest.raises(ValueError, match="normalization"):
        E.batch_size(tiny, fast=True, normalization="groupnorm")


def test_unknown_experiment_lists_the_names(tiny):
    with pytest.raises(ValueError, match="batchnorm.*spatial_norm"):
        E.run("nope", tiny)


# --------------------------------------------------------------------------- #
# activations: Ioffe and Szegedy's Figure 1
# --------------------------------------------------------------------------- #
def _relu(a):
    return np.maximum(a, 0)


def _layer5_input(params, X, batchnorm):
    """The input to the 5th hidden ReLU, written out with numpy (batch norm over X)."""
    h = X.reshape(len(X), -1).astype(params["W1"].dtype)
    for i in range(1, 6):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        if batchnorm:
            mu, var = a.mean(0), a.var(0)
            a = params[f"gamma{i}"] * (a - mu) / np.sqrt(var + 1e-5) + params[f"beta{i}"]
        h = _relu(a)
    return a


def test_activations_history(tiny):
    h = E.activations(tiny, seed=2, fast=True, progress=False)
    assert h["experiment"] == "activations" and labels(h) == ["baseline", "batchnorm"]
    cfg = h["config"]
    assert cfg["layer"] == 5 and cfg["unit"] == 0 and cfg["percentiles"] == [15, 50, 85]
    assert cfg["num_train"] == N_TRAIN and cfg["probe_size"] == N_VAL
    assert cfg["num_epochs"] == 4 and cfg["record_every"] == 1     # 4 iterations
    for r in h["runs"]:
        assert r["iterations"] == [0, 1, 2, 3]
        assert len(r["percentiles"]) == 4 and len(r["val_acc_by_iteration"]) == 4
        for p15, p50, p85 in r["percentiles"]:
            assert p15 <= p50 <= p85
        assert all(0 <= a <= 1 and a * N_VAL == round(a * N_VAL)
                   for a in r["val_acc_by_iteration"])
    # the first record is the untrained net: the same weights for both runs
    from cs231n.classifiers.fc_net import FullyConnectedNet
    for r, norm in zip(h["runs"], (None, "batchnorm")):
        model = FullyConnectedNet([100] * 5, input_dim=3 * 8 * 8, normalization=norm,
                                  weight_scale=2e-2, seed=np.random.default_rng([2, 0]))
        z = _layer5_input(model.params, tiny["X_val"], norm is not None)[:, 0]
        np.testing.assert_allclose(r["percentiles"][0], np.percentile(z, [15, 50, 85]),
                                   rtol=1e-4, atol=1e-7)
    # summaries leave the per-iteration records out
    assert not {"iterations", "percentiles", "val_acc_by_iteration"} & set(
        E.summarize(h)["results"][0])


def _rgb(hex_colour):
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255


def test_activations_figure_panels_and_labels(tiny, tmp_path):
    h = E.activations(tiny, fast=True, progress=False)
    fig = E.plot(h)["activations"]
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [
        "(a) Validation accuracy", "(b) Without batch norm", "(c) With batch norm"]
    assert [ax.get_xlabel() for ax in axes] == ["Iteration"] * 3
    assert axes[0].get_ylabel() == "Validation accuracy"
    assert axes[1].get_ylabel() == axes[2].get_ylabel() == "Input to ReLU (layer 5, unit 0)"
    # (a): one accuracy curve per run; (b), (c): the three percentiles of one run
    a_lines = axes[0].get_lines()
    assert [line.get_label() for line in a_lines] == ["without batch norm", "with batch norm"]
    np.testing.assert_array_equal(a_lines[1].get_ydata(), h["runs"][1]["val_acc_by_iteration"])
    for ax, run in zip(axes[1:], h["runs"]):
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == [
            "15th percentile", "50th percentile", "85th percentile"]
        for j, line in enumerate(lines):
            np.testing.assert_array_equal(line.get_xdata(), run["iterations"])
            np.testing.assert_array_equal(line.get_ydata(), [p[j] for p in run["percentiles"]])
        assert ax.get_legend() is not None
    # the PNG: three panels side by side, each with its curves drawn in it
    path = tmp_path / "activations.png"
    fig.savefig(path, dpi=100)
    image = matplotlib.image.imread(path)[..., :3]
    assert image.shape[:2] == (460, 1500)
    renderer = fig.canvas.get_renderer()
    blue, orange = _rgb("#1f77b4"), _rgb("#ff7f0e")
    boxes = [ax.get_window_extent(renderer) for ax in axes]
    assert boxes[0].x1 < boxes[1].x0 and boxes[1].x1 < boxes[2].x0      # side by side
    for k, box in enumerate(boxes):
        top = image.shape[0] - int(box.y1)
        crop = image[top:image.shape[0] - int(box.y0), int(box.x0):int(box.x1)]
        for colour in ([blue, orange] if k == 0 else [blue]):
            near = np.abs(crop - colour).max(axis=-1) < 0.05
            assert near.sum() > 50, f"panel {k} lacks the colour {colour}"


def test_plot_rejects_a_history_of_another_experiment(tiny):
    h = E.dropout(tiny, fast=True, progress=False)
    with pytest.raises(ValueError, match="dropout"):
        E.plot_batchnorm(h)
    with pytest.raises(TypeError, match="history"):
        E.plot([1, 2])


# --------------------------------------------------------------------------- #
# the experiments' claims, on the real CIFAR-10 subset (fast mode)
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def cifar(cifar10_dir):
    return get_CIFAR10_data(num_training=1000, num_validation=1000, num_test=0,
                            cifar10_dir=cifar10_dir, dtype=np.float32)


def by_label(history, key, **match):
    return [r[key] for r in history["runs"]
            if all(r.get(k) == v for k, v in match.items())]


@pytest.mark.slow
def test_batchnorm_fits_faster_than_the_baseline(cifar):
    h = E.batchnorm(cifar, seed=0, fast=True, progress=False)
    assert h["config"]["num_train"] == 1000
    (base,), (bn,) = by_label(h, "final_train_acc", label="baseline"), \
        by_label(h, "final_train_acc", label="batchnorm")
    # measured: 0.57 vs 0.39 (seed 0); a wide margin
    assert bn > base + 0.05
    assert all(math.isfinite(v) for r in h["runs"] for v in r["loss_history"])


@pytest.mark.slow
def test_dropout_lowers_training_accuracy(cifar):
    h = E.dropout(cifar, seed=0, fast=True, progress=False)
    assert h["config"]["num_train"] == 500
    (full,), (drop,) = by_label(h, "final_train_acc", keep_ratio=1.0), \
        by_label(h, "final_train_acc", keep_ratio=0.25)
    assert full > drop + 0.05              # measured: 0.93 vs 0.75


@pytest.mark.slow
def test_adaptive_rules_beat_plain_sgd(cifar):
    h = E.update_rules(cifar, seed=0, fast=True, progress=False)
    acc = dict(zip(labels(h), by_label(h, "final_train_acc")))
    assert acc["adam"] > acc["sgd"] and acc["rmsprop"] > acc["sgd"]   # measured 0.40, 0.46 vs 0.23


@pytest.mark.slow
def test_batch_norm_prefers_larger_batches(cifar):
    h = E.batch_size(cifar, seed=0, fast=True, progress=False)
    (bs5,), (bs50,) = by_label(h, "final_train_acc", label="batchnorm", batch_size=5), \
        by_label(h, "final_train_acc", label="batchnorm", batch_size=50)
    assert bs50 > bs5                      # measured: 0.40 vs 0.29


@pytest.mark.slow
def test_batch_norm_keeps_a_units_input_distribution_steady(cifar):
    h = E.activations(cifar, seed=0, fast=True, progress=False)
    spread = {}
    for r in h["runs"]:
        pct = np.array(r["percentiles"])
        width = pct[:, 2] - pct[:, 0]               # 85th minus 15th percentile
        spread[r["label"]] = width.max() / width[0]
    # measured (fast, seeds 0-2): the baseline's spread grows 190-360x from its tiny
    # start, batch norm's stays within 1.25x of its first value
    assert spread["baseline"] > 10
    assert spread["batchnorm"] < 2
