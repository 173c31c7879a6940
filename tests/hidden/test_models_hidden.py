"""Hidden tests of the models (instructor only).

The committed ``tests/data/models.npz`` must be what ``fixtures_models.py``
produces; the models' scores are checked against the manual forward passes on
fresh random parameters, inputs and running statistics.
"""
import fixtures_models as fx
import numpy as np
import pytest
from _fixtures import assert_committed_data_is_fresh
from conftest import assert_close, load_expected

from cs231n.classifiers.cnn import ThreeLayerConvNet
from cs231n.classifiers.fc_net import FullyConnectedNet


def test_committed_data_matches_the_generator():
    assert_committed_data_is_fresh("models", fx.generate, rtol=1e-12, atol=1e-14)


@pytest.mark.graded("fc_net", "scores")
@pytest.mark.parametrize("norm, keep", [(None, 1), ("batchnorm", 1), ("layernorm", 1),
                                        (None, 0.6), ("batchnorm", 0.6), ("layernorm", 0.6)])
def test_fc_net_scores_match_manual_forward(norm, keep):
    """Test-mode scores equal an explicit numpy forward pass (running statistics, no dropout)."""
    gen = np.random.default_rng(11)
    model = FullyConnectedNet(fx.FC_HIDDEN, input_dim=fx.FC_INPUT, num_classes=fx.FC_CLASSES,
                              dtype=np.float64, normalization=norm, dropout_keep_ratio=keep)
    model.params = fx.fc_params(gen, norm or "none")
    running = None
    if norm == "batchnorm":
        running = [(gen.normal(size=h), gen.uniform(0.3, 3.0, size=h)) for h in fx.FC_HIDDEN]
        for bn_param, (m, v) in zip(model.bn_params, running):
            bn_param["running_mean"], bn_param["running_var"] = m.copy(), v.copy()
    X = gen.standard_normal((6, 3, 2))
    assert_close("FullyConnectedNet.loss", f"test-mode scores, {norm}, keep {keep}", model.loss(X),
                 fx.ref_fc_forward(model.params, X, norm, running), rtol=1e-10, atol=1e-12,
                 what="scores")
    if keep == 1:
        y = gen.integers(fx.FC_CLASSES, size=6)
        loss, _ = model.loss(X, y)
        assert_close("FullyConnectedNet.loss", f"train-mode loss, {norm}", loss,
                     fx.softmax_loss_value(fx.ref_fc_forward(model.params, X, norm), y),
                     rtol=1e-10, what="loss")


@pytest.mark.graded("three_layer_convnet", "scores")
def test_three_layer_convnet_scores_match_manual_forward():
    gen = np.random.default_rng(12)
    model = ThreeLayerConvNet(input_dim=(2, 6, 7), num_filters=4, filter_size=3, hidden_dim=5,
                              num_classes=3, dtype=np.float64)
    model.params = {k: gen.normal(scale=0.5, size=v.shape) for k, v in model.params.items()}
    X = gen.standard_normal((2, 2, 6, 7))
    assert_close("ThreeLayerConvNet.loss", "scores, input (2, 6, 7)", model.loss(X),
                 fx.ref_three_layer_forward(model.params, X, 3), rtol=1e-10, atol=1e-12, what="scores")
