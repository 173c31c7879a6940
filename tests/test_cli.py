"""Tests of the command line ``python -m cs231n`` (cs231n/__main__.py)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import pytest  # noqa: E402

import cs231n  # noqa: E402
import cs231n.datasets  # noqa: E402
from cs231n import experiments as E  # noqa: E402
from cs231n import layers  # noqa: E402
from cs231n.__main__ import main  # noqa: E402

REPO = Path(cs231n.__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
EXPERIMENTS = ["batchnorm", "activations", "weight_scale", "batch_size", "layernorm",
               "dropout", "update_rules", "spatial_norm"]
LAYERS = ["affine", "relu", "softmax_loss", "svm_loss", "batchnorm", "batchnorm_alt",
          "layernorm", "spatial_batchnorm", "spatial_groupnorm", "dropout", "conv_naive",
          "conv_fast", "max_pool_naive", "max_pool_fast"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("CS231N_FAST", raising=False)
    monkeypatch.delenv("CS231N_CIFAR10_DIR", raising=False)


@pytest.fixture
def no_download(monkeypatch):
    """Fail the test if the CLI tries to download."""
    def refuse(*args, **kwargs):
        raise AssertionError("the CLI must not download here")
    monkeypatch.setattr(cs231n.datasets, "download_cifar10", refuse)


def table_rows(text):
    """``{(layer, param): (error, tolerance, status)}`` from the gradcheck table."""
    rows = {}
    for line in text.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 5 and parts[0] in LAYERS:
            rows[(parts[0], parts[1])] = (parts[2], parts[3], parts[4])
    return rows


# --------------------------------------------------------------------------- #
# usage
# --------------------------------------------------------------------------- #
def test_help_returns_zero(capsys):
    assert main(["--help"]) == 0
    assert "experiment" in capsys.readouterr().out


def test_experiment_list(capsys):
    assert main(["experiment", "--list"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.strip().splitlines()] == EXPERIMENTS


def test_experiment_without_name_is_a_usage_error(capsys):
    assert main(["experiment"]) == 2
    assert "NAME" in capsys.readouterr().err


def test_unknown_experiment_is_a_usage_error(capsys):
    assert main(["experiment", "nope"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_negative_seed_is_a_usage_error(capsys, no_download):
    assert main(["experiment", "batchnorm", "--seed", "-1"]) == 2


# --------------------------------------------------------------------------- #
# experiment on the real subset
# --------------------------------------------------------------------------- #
def test_unwritten_todo_is_a_clear_error_not_a_traceback(cifar10_dir, tmp_path, capsys,
                                                         no_download, monkeypatch):
    # the student kit: a layer the experiment needs still raises its stub
    def stub(*args, **kwargs):
        raise NotImplementedError("cs231n/layers.py:batchnorm_forward: Implement the forward pass.")

    monkeypatch.setitem(E.EXPERIMENTS, "batchnorm", E.EXPERIMENTS["batchnorm"]._replace(function=stub))
    code = main(["experiment", "batchnorm", "--fast", "--data-dir", str(cifar10_dir),
                 "--out", str(tmp_path / "bn")])
    _, stderr = capsys.readouterr()
    assert code == 1
    assert "error: this needs code that is not written yet: cs231n/layers.py:batchnorm_forward" in stderr
    assert "Traceback" not in stderr and not (tmp_path / "bn").exists()


@pytest.mark.parametrize("under", ["afile/sub", "afile"])
def test_unusable_out_fails_before_the_run(tmp_path, capsys, monkeypatch, under):
    # checked first: a run whose results cannot be written is not started
    (tmp_path / "afile").write_text("not a folder")
    calls = []
    monkeypatch.setitem(E.EXPERIMENTS, "batchnorm", E.EXPERIMENTS["batchnorm"]._replace(
        function=lambda *a, **k: calls.append(1)))
    code = main(["experiment", "batchnorm", "--fast", "--no-download",
                 "--data-dir", str(tmp_path / "no-data-here"), "--out", str(tmp_path / under)])
    _, stderr = capsys.readouterr()
    assert code == 1 and calls == []
    assert stderr.startswith("error: --out ") and "Traceback" not in stderr
    assert ("is a file" if under == "afile/sub" else "is not a folder") in stderr


def test_experiment_writes_pngs_and_summary(cifar10_dir, tmp_path, capsys, no_download):
    out = tmp_path / "bn"
    code = main(["experiment", "batchnorm", "--fast", "--data-dir", str(cifar10_dir),
                 "--out", str(out), "--seed", "3"])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == ["batchnorm.png", "history.json",
                                                      "summary.json"]
    assert (out / "batchnorm.png").read_bytes()[:8] == PNG
    summary = json.loads((out / "summary.json").read_text())
    assert summary["experiment"] == "batchnorm" and summary["fast"] is True
    assert summary["seed"] == 3 and summary["config"]["num_epochs"] == 4
    assert [r["label"] for r in summary["results"]] == ["baseline", "batchnorm"]
    for r in summary["results"]:
        assert 0.0 <= r["best_val_acc"] <= 1.0 and 0.0 <= r["final_train_acc"] <= 1.0
        assert "loss_history" not in r
    assert summary["data"]["cifar10_dir"] == str(cifar10_dir)
    assert summary["data"]["num_train_loaded"] == 1000
    # what was loaded, named apart from what the experiment used (config)
    assert summary["data"]["num_val_loaded"] == 1000 and "num_val" not in summary["data"]
    assert summary["seconds"] > 0
    # the full history redraws the figure
    history = E.load_history(out / "history.json")
    assert len(history["runs"][0]["loss_history"]) == 4 * 20   # 4 epochs x 1000/50
    assert list(E.plot(history)) == ["batchnorm"]
    assert str(out / "summary.json") in stdout and "best val acc" in stdout
    # the progress bar went to stderr and counted every iteration (2 runs x 80)
    assert "160/160" in stderr


def test_activations_experiment_writes_figure_1(cifar10_dir, tmp_path, capsys, no_download):
    out = tmp_path / "act"
    code = main(["experiment", "activations", "--fast", "--quiet", "--data-dir",
                 str(cifar10_dir), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["activations.png", "history.json",
                                                      "summary.json"]
    image = matplotlib.image.imread(out / "activations.png")
    assert image.shape[:2] == (460, 1500)                       # three panels in a row
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["num_train"] == 1000 and summary["config"]["layer"] == 5
    assert "percentiles" not in summary["results"][0]
    history = E.load_history(out / "history.json")
    assert len(history["runs"][1]["percentiles"]) == len(history["runs"][1]["iterations"]) == 80


def test_environment_variables_select_data_and_fast_mode(cifar10_dir, tmp_path, monkeypatch,
                                                         no_download, capsys):
    monkeypatch.setenv("CS231N_FAST", "1")
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(cifar10_dir))
    out = tmp_path / "do"
    assert main(["experiment", "dropout", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fast"] is True and summary["config"]["num_epochs"] == 10
    assert (out / "dropout.png").read_bytes()[:8] == PNG
    assert "it/s" not in capsys.readouterr().err     # --quiet: no progress bar


def test_default_output_folder_is_runs_name(cifar10_dir, tmp_path, monkeypatch, no_download):
    monkeypatch.chdir(tmp_path)
    assert main(["experiment", "update_rules", "--fast", "--quiet",
                 "--data-dir", str(cifar10_dir)]) == 0
    assert (tmp_path / "runs" / "update_rules" / "update_rules.png").is_file()


def test_bad_fast_variable_fails_cleanly(monkeypatch, capsys, no_download):
    monkeypatch.setenv("CS231N_FAST", "sometimes")
    assert main(["experiment", "batchnorm"]) == 1
    assert "CS231N_FAST" in capsys.readouterr().err


# --------------------------------------------------------------------------- #
# missing data: download, or fail with instructions
# --------------------------------------------------------------------------- #
def test_no_download_fails_with_instructions(tmp_path, capsys, no_download):
    missing = tmp_path / "nowhere"
    code = main(["experiment", "batchnorm", "--no-download", "--data-dir", str(missing),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and str(missing) in err
    assert "--no-download" in err and "CS231N_CIFAR10_DIR" in err
    assert "python -m cs231n.datasets download" in err
    assert not (tmp_path / "out").exists()


def test_missing_data_is_downloaded(tmp_path, monkeypatch, make_cifar10_tree, capsys):
    calls = []

    def fake_download(dest=None, **kwargs):
        calls.append(Path(dest))
        folder, *_ = make_cifar10_tree(dest, n_train=250, n_test=3)
        return folder

    monkeypatch.setattr(cs231n.datasets, "download_cifar10", fake_download)
    target = tmp_path / "data"
    code = main(["experiment", "dropout", "--fast", "--quiet", "--data-dir", str(target),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert calls == [target]
    assert "downloading" in err
    # 1250 training images in the fake archive: 1000 validation, 250 training
    assert "note:" in err and "250 training" in err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["config"]["num_train"] == 250


def test_download_goes_beside_a_named_batches_folder(tmp_path, monkeypatch,
                                                     make_cifar10_tree, capsys):
    calls = []

    def fake_download(dest=None, **kwargs):
        calls.append(Path(dest))
        folder, *_ = make_cifar10_tree(dest, n_train=250, n_test=3)
        return folder

    monkeypatch.setattr(cs231n.datasets, "download_cifar10", fake_download)
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(tmp_path / "d" / "cifar-10-batches-py"))
    assert main(["experiment", "dropout", "--fast", "--quiet",
                 "--out", str(tmp_path / "out")]) == 0
    assert calls == [tmp_path / "d"]


def test_offline_download_fails_fast_with_hand_placement(tmp_path, monkeypatch, capsys):
    def offline(dest=None, **kwargs):
        raise cs231n.datasets.DownloadError(
            "Could not download https://example.invalid: no network.\n"
            "To install CIFAR-10 by hand: ...")

    monkeypatch.setattr(cs231n.datasets, "download_cifar10", offline)
    code = main(["experiment", "batchnorm", "--data-dir", str(tmp_path / "x"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "error: Could not download" in err and "by hand" in err
    assert "Traceback" not in err


def test_missing_data_end_to_end_exit_code_and_no_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    env.pop("CS231N_CIFAR10_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "cs231n", "experiment", "batchnorm", "--no-download",
         "--data-dir", str(tmp_path / "none")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "CIFAR-10 not found" in proc.stderr


# --------------------------------------------------------------------------- #
# gradcheck
# --------------------------------------------------------------------------- #
def test_gradcheck_passes_every_layer(capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out)
    assert {layer for layer, _ in rows} == set(LAYERS)
    assert len(rows) == 30
    for (layer, param), (err, tol, status) in rows.items():
        assert status == "PASS", (layer, param)
        assert float(err) <= float(tol)
    assert "30 of 30 gradients within tolerance" in out
    # tolerances as documented: 1e-4 only for normalisation dx, nothing looser
    assert max(float(tol) for _, tol, _ in rows.values()) == 1e-4


def test_gradcheck_flags_a_wrong_backward(monkeypatch, capsys):
    # A ReLU backward that forgets the mask passes dout straight through.
    monkeypatch.setattr(layers, "relu_backward", lambda dout, cache: dout)
    assert main(["gradcheck", "--seed", "1"]) == 1
    out = capsys.readouterr().out
    rows = table_rows(out)
    assert rows[("relu", "x")][2] == "FAIL"
    assert float(rows[("relu", "x")][0]) > 1e-2
    assert rows[("affine", "x")][2] == "PASS"
    assert "1 FAILED" in out


def test_gradcheck_reports_unimplemented_layers(monkeypatch, capsys):
    def todo(dout, cache):
        raise NotImplementedError("cs231n/layers.py:layernorm_backward: implement it")

    monkeypatch.setattr(layers, "layernorm_backward", todo)
    assert main(["gradcheck"]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("layernorm "))
    assert "TODO" in line and "implement it" in line
    assert "batchnorm_alt" in out          # the other layers still ran


def test_gradcheck_seed_changes_the_inputs(capsys):
    main(["gradcheck", "--seed", "1"])
    a = table_rows(capsys.readouterr().out)
    main(["gradcheck", "--seed", "2"])
    b = table_rows(capsys.readouterr().out)
    assert a[("affine", "w")][0] != b[("affine", "w")][0]


def test_gradcheck_negative_seed_is_a_usage_error(capsys):
    assert main(["gradcheck", "--seed", "-3"]) == 2


# --------------------------------------------------------------------------- #
# notebooks
# --------------------------------------------------------------------------- #
NOTEBOOKS = sorted(p.stem for p in (REPO / "notebooks").glob("*.py"))


@pytest.fixture
def nbformat():
    """nbformat, or a skip naming the extra (the notebook command needs jupytext too)."""
    reason = 'needs the notebook tools: pip install -e ".[notebooks]"'
    pytest.importorskip("jupytext", reason=reason)
    return pytest.importorskip("nbformat", reason=reason)


def test_notebooks_command_writes_ipynb_copies(tmp_path, capsys, nbformat):
    assert NOTEBOOKS == ["BatchNormalization", "ConvolutionalNetworks", "Dropout",
                         "FullyConnectedNets"]
    assert main(["notebooks", "--dest", str(tmp_path)]) == 0
    for name in NOTEBOOKS:
        nb = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(not c.outputs for c in code)
        assert nb.metadata.kernelspec.name == "python3"
        # jupytext restores the magic that is commented out in the .py source
        assert any(c.source.startswith("# Setup") and "%matplotlib inline" in c.source
                   for c in code)


def test_notebooks_command_keeps_existing_work(tmp_path, capsys, nbformat):
    assert main(["notebooks", "Dropout", "--dest", str(tmp_path)]) == 0
    target = tmp_path / "Dropout.ipynb"
    target.write_text("my work")
    assert main(["notebooks", "Dropout", "--dest", str(tmp_path)]) == 0
    assert target.read_text() == "my work"
    assert "kept" in capsys.readouterr().out
    assert main(["notebooks", "Dropout", "--dest", str(tmp_path), "--force"]) == 0
    nbformat.validate(nbformat.read(target, as_version=4))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dropout.ipynb"]


def test_notebooks_command_rejects_unknown_names(tmp_path, capsys):
    assert main(["notebooks", "Nope", "--dest", str(tmp_path)]) == 2
    assert "Nope" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_main_returns_the_exit_status_instead_of_exiting(capsys):
    # argparse's own exits (--help, a bad command) come back as return values
    assert main(["--help"]) == 0
    assert main(["bogus"]) == 2
    assert main(["gradcheck", "--seed", "x"]) == 2


# --------------------------------------------------------------------------- #
# messages on a fresh clone
# --------------------------------------------------------------------------- #
def test_both_commands_wait_the_same_time_offline(tmp_path, monkeypatch, capsys):
    import urllib.error
    import urllib.request

    from cs231n.datasets._cli import main as datasets_main

    seen = []

    def offline(request, timeout=None):
        seen.append(timeout)
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert main(["experiment", "batchnorm", "--data-dir", str(tmp_path / "a"),
                 "--out", str(tmp_path / "out")]) == 1
    experiment_err = capsys.readouterr().err
    assert datasets_main(["download", "--dest", str(tmp_path / "b")]) == 1
    download_err = capsys.readouterr().err
    assert len(set(seen)) == 1 and seen[0] == 15.0
    assert "timeout 15 s" in experiment_err and "timeout 15 s" in download_err


def test_a_mistyped_data_variable_is_named_before_downloading(tmp_path, monkeypatch, capsys):
    def offline(dest=None, **kwargs):
        raise cs231n.datasets.DownloadError("Could not download: no network.")

    monkeypatch.setattr(cs231n.datasets, "download_cifar10", offline)
    typo = tmp_path / "cifar-10-batchs-py"
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(typo))
    assert main(["experiment", "batchnorm", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"$CS231N_CIFAR10_DIR={typo}" in err and "mistyped" in err
    assert err.index("CS231N_CIFAR10_DIR") < err.index("error: Could not download")
