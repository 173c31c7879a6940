"""Bad input to every public function of cs231n/layers.py.

Rule: each function checks its arguments before computing and raises ``TypeError``
(wrong kind of object) or ``ValueError`` (right kind, wrong value or shape) whose
message starts with the argument's name and says what was expected. A call that
raises leaves every dict and array it was given exactly as it was: the param dicts
(``bn_param``, ``ln_param``, ``gn_param``, ``dropout_param``, ``conv_param``,
``pool_param``) are deep-compared, arrays included, with a snapshot taken before
the call.
"""
import copy
import math
import re

import numpy as np
import pytest

from cs231n import fast_layers as F
from cs231n import layers as L


# --------------------------------------------------------------------------
# deep comparison of caller state
# --------------------------------------------------------------------------

def assert_same_state(before, after, path="arg"):
    """Recursive equality: dicts/lists/tuples, arrays (dtype, shape, values), Generators."""
    assert type(before) is type(after), f"{path}: type {type(before)} became {type(after)}"
    if isinstance(before, dict):
        assert list(before) == list(after), f"{path}: keys {list(before)} became {list(after)}"
        for k in before:
            assert_same_state(before[k], after[k], f"{path}[{k!r}]")
    elif isinstance(before, (list, tuple)):
        assert len(before) == len(after), path
        for i, (a, b) in enumerate(zip(before, after)):
            assert_same_state(a, b, f"{path}[{i}]")
    elif isinstance(before, np.ndarray):
        assert before.dtype == after.dtype and before.shape == after.shape, path
        assert np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"), f"{path} changed"
    elif isinstance(before, np.random.Generator):
        assert before.bit_generator.state == after.bit_generator.state, f"{path}: generator advanced"
    elif isinstance(before, float) and math.isnan(before):
        assert math.isnan(after), path
    else:
        assert before == after, f"{path}: {before!r} became {after!r}"


def assert_raises_unchanged(exc, pattern, fn, *args):
    """Call ``fn(*args)``; require ``exc`` matching ``pattern`` and untouched arguments."""
    snapshot = copy.deepcopy(args)
    with pytest.raises(exc, match=pattern):
        fn(*args)
    assert_same_state(snapshot, args)


# --------------------------------------------------------------------------
# valid inputs, to be spoiled one argument at a time
# --------------------------------------------------------------------------

def _rng():
    return np.random.default_rng(5)


def bn_args(mode="train", N=4, D=3):
    r = _rng()
    return [r.standard_normal((N, D)), np.ones(D), np.zeros(D),
            {"mode": mode, "eps": 1e-5, "momentum": 0.9,
             "running_mean": r.standard_normal(D), "running_var": r.uniform(1, 2, D)}]


def sbn_args(mode="train", shape=(2, 3, 2, 2)):
    r = _rng()
    C = shape[1]
    return [r.standard_normal(shape), np.ones(C), np.zeros(C),
            {"mode": mode, "running_mean": r.standard_normal(C), "running_var": r.uniform(1, 2, C)}]


def ln_args():
    r = _rng()
    return [r.standard_normal((4, 3)), np.ones(3), np.zeros(3), {"eps": 1e-5, "mode": "train"}]


def gn_args():
    r = _rng()
    return [r.standard_normal((2, 4, 2, 2)), np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1)), 2, {"eps": 1e-5}]


def with_(args, i, value):
    args = list(args)
    args[i] = value
    return args


def with_key(args, key, value, i=-1):
    args = list(args)
    d = dict(args[i])
    if value is KeyError:
        d.pop(key)
    else:
        d[key] = value
    args[i] = d
    return args


# --------------------------------------------------------------------------
# batch norm and spatial batch norm
# --------------------------------------------------------------------------

NORM_X_CASES = [
    # (spoiled x, exception, message pattern)
    (lambda x: x.tolist(), TypeError, r"^x must be a numpy array"),
    (lambda x: x.astype(np.int64), TypeError, r"^x must be a floating-point array"),
    (lambda x: x.astype(bool), TypeError, r"^x must be a floating-point array"),
]


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("spoil, exc, pattern", NORM_X_CASES)
def test_batchnorm_bad_x_kind(mode, spoil, exc, pattern):
    args = bn_args(mode)
    assert_raises_unchanged(exc, pattern, L.batchnorm_forward, *with_(args, 0, spoil(args[0])))


@pytest.mark.parametrize("x, pattern", [
    (np.ones(3), r"^x must be 2-dimensional, got shape \(3,\)"),
    (np.ones((4, 3, 1)), r"^x must be 2-dimensional, got shape \(4, 3, 1\)"),
    (np.ones((0, 3)), r"^x must hold at least one example"),
])
def test_batchnorm_bad_x_shape(x, pattern):
    assert_raises_unchanged(ValueError, pattern, L.batchnorm_forward, *with_(bn_args(), 0, x))


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("i, value, exc, pattern", [
    (1, np.ones(4), ValueError,
     r"^gamma has shape \(4,\), expected \(3,\) to match x of shape \(4, 3\) \(one value per feature\)$"),
    (1, np.ones((1, 3)), ValueError, r"^gamma has shape \(1, 3\), expected \(3,\)"),
    (2, np.zeros(2), ValueError, r"^beta has shape \(2,\), expected \(3,\) to match x of shape \(4, 3\)"),
    (1, [1.0, 1.0, 1.0], TypeError, r"^gamma must be a numpy array"),
    (2, None, TypeError, r"^beta must be a numpy array"),
])
def test_batchnorm_bad_gamma_beta(mode, i, value, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.batchnorm_forward, *with_(bn_args(mode), i, value))


BN_PARAM_CASES = [
    ("mode", KeyError, ValueError, r"^bn_param is missing the required key 'mode'"),
    ("mode", "eval", ValueError, r"^bn_param\['mode'\] must be one of 'train', 'test', got 'eval'"),
    ("mode", "TRAIN", ValueError, r"^bn_param\['mode'\] must be one of 'train', 'test'"),
    ("mode", None, ValueError, r"^bn_param\['mode'\] must be one of 'train', 'test', got None"),
    ("eps", -1e-5, ValueError, r"^bn_param\['eps'\] must be a finite number >= 0"),
    ("eps", float("nan"), ValueError, r"^bn_param\['eps'\] must be a finite number >= 0"),
    ("eps", float("inf"), ValueError, r"^bn_param\['eps'\] must be a finite number >= 0"),
    ("eps", "1e-5", TypeError, r"^bn_param\['eps'\] must be a number"),
    ("momentum", 1.5, ValueError, r"^bn_param\['momentum'\] must be in \[0, 1\]"),
    ("momentum", -0.1, ValueError, r"^bn_param\['momentum'\] must be in \[0, 1\]"),
    ("momentum", 1.0000001, ValueError, r"^bn_param\['momentum'\] must be in \[0, 1\]"),
    ("momentum", "0.9", TypeError, r"^bn_param\['momentum'\] must be a number, got str$"),
    ("momentum", True, TypeError, r"^bn_param\['momentum'\] must be a number"),
    ("momentum", None, TypeError, r"^bn_param\['momentum'\] must be a number"),
    ("running_mean", np.zeros(4), ValueError,
     r"^bn_param\['running_mean'\] has shape \(4,\), expected \(3,\) \(one value per feature of x\)$"),
    ("running_var", np.zeros((3, 1)), ValueError,
     r"^bn_param\['running_var'\] has shape \(3, 1\), expected \(3,\)"),
    ("running_mean", [0.0, 0.0, 0.0], TypeError, r"^bn_param\['running_mean'\] must be a numpy array"),
    ("running_var", None, TypeError, r"^bn_param\['running_var'\] must be a numpy array"),
]


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("key, value, exc, pattern", BN_PARAM_CASES)
def test_batchnorm_bad_bn_param(mode, key, value, exc, pattern):
    args = with_key(bn_args(mode), key, value)
    assert_raises_unchanged(exc, pattern, L.batchnorm_forward, *args)


@pytest.mark.parametrize("key, value, exc, pattern", BN_PARAM_CASES)
def test_spatial_batchnorm_bad_bn_param(key, value, exc, pattern):
    args = with_key(sbn_args(), key, value)
    assert_raises_unchanged(exc, pattern, L.spatial_batchnorm_forward, *args)


@pytest.mark.parametrize("bn_param", [None, [("mode", "train")], "train"])
def test_bn_param_must_be_a_dict(bn_param):
    assert_raises_unchanged(TypeError, r"^bn_param must be a dict", L.batchnorm_forward, *with_(bn_args(), 3, bn_param))
    assert_raises_unchanged(TypeError, r"^bn_param must be a dict", L.spatial_batchnorm_forward,
                 *with_(sbn_args(), 3, bn_param))


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("i, value, exc, pattern", [
    (0, np.ones((2, 3, 4)), ValueError, r"^x must be 4-dimensional, got shape \(2, 3, 4\)"),
    (0, np.ones((2, 3, 2, 2), dtype=np.int32), TypeError, r"^x must be a floating-point array"),
    (0, np.ones((0, 3, 2, 2)), ValueError, r"^x must hold at least one example"),
    (1, np.ones(4), ValueError,
     r"^gamma has shape \(4,\), expected \(3,\) to match x of shape \(2, 3, 2, 2\) \(one value per channel\)$"),
    (1, np.ones((1, 3, 1, 1)), ValueError, r"^gamma has shape \(1, 3, 1, 1\), expected \(3,\)"),
    (2, np.ones(2), ValueError, r"^beta has shape \(2,\), expected \(3,\)"),
])
def test_spatial_batchnorm_bad_arrays(mode, i, value, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.spatial_batchnorm_forward, *with_(sbn_args(mode), i, value))


def test_valid_numeric_kinds_are_accepted():
    # numpy scalars and ints are fine wherever a number is expected, and act as numbers
    for momentum in (np.float32(0.5), 0, 1, np.float64(0.9), np.int64(1), np.int32(0)):
        args = with_key(bn_args(), "momentum", momentum)
        old_mean = args[3]["running_mean"].copy()
        x = args[0]
        L.batchnorm_forward(*args)
        expected = float(momentum) * old_mean + (1 - float(momentum)) * x.mean(axis=0)
        np.testing.assert_allclose(args[3]["running_mean"], expected, rtol=1e-12)
    for eps in (0, np.float32(1e-3), 1):
        args = with_key(bn_args(), "eps", eps)
        out, _ = L.batchnorm_forward(*args)
        x = args[0]
        xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + float(eps))
        np.testing.assert_allclose(out, xhat, rtol=1e-6, atol=1e-12)   # gamma 1, beta 0
    x = np.ones((2, 2))
    out, _ = L.dropout_forward(x, {"mode": "train", "p": np.float32(0.5), "seed": np.int64(3)})
    assert set(np.unique(out)) <= {0.0, 2.0}                  # kept entries scaled by 1 / p
    out, _ = L.dropout_forward(x, {"mode": "train", "p": 1, "seed": 0})
    np.testing.assert_array_equal(out, x)                     # p = 1 keeps everything


# --------------------------------------------------------------------------
# layer norm and group norm
# --------------------------------------------------------------------------

@pytest.mark.parametrize("i, value, exc, pattern", [
    (0, [[1.0, 2.0]], TypeError, r"^x must be a numpy array"),
    (0, np.ones((4, 3), dtype=np.int16), TypeError, r"^x must be a floating-point array"),
    (0, np.ones((4, 3, 1)), ValueError, r"^x must be 2-dimensional"),
    (0, np.ones((0, 3)), ValueError, r"^x must hold at least one example"),
    (1, np.ones(2), ValueError,
     r"^gamma has shape \(2,\), expected \(3,\) to match x of shape \(4, 3\) \(one value per feature\)$"),
    (2, np.ones(4), ValueError, r"^beta has shape \(4,\), expected \(3,\)"),
    (2, 0.0, TypeError, r"^beta must be a numpy array"),
    (3, None, TypeError, r"^ln_param must be a dict"),
])
def test_layernorm_bad_input(i, value, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.layernorm_forward, *with_(ln_args(), i, value))


@pytest.mark.parametrize("value, exc, pattern", [
    (-1.0, ValueError, r"^ln_param\['eps'\] must be a finite number >= 0"),
    ("small", TypeError, r"^ln_param\['eps'\] must be a number"),
])
def test_layernorm_bad_eps(value, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.layernorm_forward, *with_key(ln_args(), "eps", value))


@pytest.mark.parametrize("i, value, exc, pattern", [
    (0, np.ones((2, 4, 2)), ValueError, r"^x must be 4-dimensional"),
    (0, np.ones((2, 4, 2, 2), dtype=np.int64), TypeError, r"^x must be a floating-point array"),
    (0, np.ones((0, 4, 2, 2)), ValueError, r"^x must hold at least one example"),
    (1, np.ones(4), ValueError, r"^gamma has shape \(4,\), expected \(1, 4, 1, 1\) to match x of shape "
                                r"\(2, 4, 2, 2\) \(shape \(1, C, 1, 1\)\)$"),
    (2, np.ones((1, 2, 1, 1)), ValueError, r"^beta has shape \(1, 2, 1, 1\), expected \(1, 4, 1, 1\)"),
    (1, None, TypeError, r"^gamma must be a numpy array"),
    (3, 3, ValueError, r"^G must divide the number of channels C=4, got G=3"),
    (3, 8, ValueError, r"^G must divide the number of channels C=4, got G=8"),
    (3, 0, ValueError, r"^G must be >= 1, got 0"),
    (3, -2, ValueError, r"^G must be >= 1, got -2"),
    (3, 2.0, TypeError, r"^G must be an integer"),
    (3, True, TypeError, r"^G must be an integer"),
    (3, "2", TypeError, r"^G must be an integer"),
    (4, None, TypeError, r"^gn_param must be a dict"),
])
def test_groupnorm_bad_input(i, value, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.spatial_groupnorm_forward, *with_(gn_args(), i, value))


@pytest.mark.parametrize("value, exc, pattern", [
    (-0.5, ValueError, r"^gn_param\['eps'\] must be a finite number >= 0"),
    ([1e-5], TypeError, r"^gn_param\['eps'\] must be a number"),
])
def test_groupnorm_bad_eps(value, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.spatial_groupnorm_forward, *with_key(gn_args(), "eps", value))


# --------------------------------------------------------------------------
# normalisation backward passes
# --------------------------------------------------------------------------

def _norm_caches():
    x2 = np.ones((4, 3)) + np.arange(12).reshape(4, 3)
    x4 = np.arange(32.0).reshape(2, 4, 2, 2)
    return [
        (L.batchnorm_backward, x2.shape,
         L.batchnorm_forward(x2, np.ones(3), np.zeros(3), {"mode": "train"})[1]),
        (L.batchnorm_backward_alt, x2.shape,
         L.batchnorm_forward(x2, np.ones(3), np.zeros(3), {"mode": "train"})[1]),
        (L.layernorm_backward, x2.shape, L.layernorm_forward(x2, np.ones(3), np.zeros(3), {})[1]),
        (L.spatial_batchnorm_backward, x4.shape,
         L.spatial_batchnorm_forward(x4, np.ones(4), np.zeros(4), {"mode": "train"})[1]),
        (L.spatial_groupnorm_backward, x4.shape,
         L.spatial_groupnorm_forward(x4, np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1)), 2, {})[1]),
    ]


@pytest.mark.parametrize("k", range(5))
def test_norm_backward_bad_dout(k):
    backward, shape, cache = _norm_caches()[k]
    bad = np.ones(shape[:-1] + (shape[-1] + 1,))
    assert_raises_unchanged(ValueError, r"^dout has shape .*, expected .* \(the shape of the forward input x\)$",
                            backward, bad, cache)
    assert_raises_unchanged(TypeError, r"^dout must be a numpy array", backward, np.ones(shape).tolist(), cache)


# --------------------------------------------------------------------------
# dropout
# --------------------------------------------------------------------------

def dropout_args(mode="train", **extra):
    return [_rng().standard_normal((5, 4)), dict({"mode": mode, "p": 0.5}, **extra)]


@pytest.mark.parametrize("key, value, exc, pattern", [
    ("p", KeyError, ValueError, r"^dropout_param is missing the required key 'p'"),
    ("mode", KeyError, ValueError, r"^dropout_param is missing the required key 'mode'"),
    ("mode", "eval", ValueError, r"^dropout_param\['mode'\] must be one of 'train', 'test', got 'eval'"),
    ("mode", 1, ValueError, r"^dropout_param\['mode'\] must be one of 'train', 'test'"),
    ("p", 0, ValueError, r"^dropout_param\['p'\] must be in \(0, 1\], got 0"),
    ("p", 0.0, ValueError, r"^dropout_param\['p'\] must be in \(0, 1\], got 0"),
    ("p", 1.5, ValueError, r"^dropout_param\['p'\] must be in \(0, 1\], got 1.5"),
    ("p", 1.0000001, ValueError, r"^dropout_param\['p'\] must be in \(0, 1\]"),
    ("p", -0.2, ValueError, r"^dropout_param\['p'\] must be in \(0, 1\]"),
    ("p", float("nan"), ValueError, r"^dropout_param\['p'\] must be in \(0, 1\]"),
    ("p", "0.5", TypeError, r"^dropout_param\['p'\] must be a number"),
    ("p", True, TypeError, r"^dropout_param\['p'\] must be a number"),
    ("p", None, TypeError, r"^dropout_param\['p'\] must be a number"),
    ("seed", -1, ValueError, r"^dropout_param\['seed'\] must be >= 0, got -1"),
    ("seed", 1.5, TypeError, r"^dropout_param\['seed'\] must be an integer"),
    ("seed", "1", TypeError, r"^dropout_param\['seed'\] must be an integer"),
    ("seed", True, TypeError, r"^dropout_param\['seed'\] must be an integer"),
    ("rng", "abc", TypeError, r"^dropout_param\['rng'\] must be a numpy.random.Generator, got str"),
    ("rng", 42, TypeError, r"^dropout_param\['rng'\] must be a numpy.random.Generator, got int"),
])
@pytest.mark.parametrize("mode", ["train", "test"])
def test_dropout_bad_param(mode, key, value, exc, pattern):
    args = with_key(dropout_args(mode), key, value)
    assert_raises_unchanged(exc, pattern, L.dropout_forward, *args)


def test_dropout_bad_rng_legacy_randomstate_and_state_kept():
    # a legacy RandomState is not a Generator; the dict (with its generator) is untouched
    args = dropout_args(rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match=r"^dropout_param\['rng'\] must be a numpy.random.Generator"):
        L.dropout_forward(*args)
    gen = np.random.default_rng(1)
    args = [np.ones((3, 3), dtype=np.int32), {"mode": "train", "p": 0.5, "rng": gen}]
    assert_raises_unchanged(TypeError, r"^x must be a floating-point array", L.dropout_forward, *args)


def test_dropout_seed_out_of_range():
    assert_raises_unchanged(ValueError, r"^dropout_param\['seed'\] must be below 2\*\*32",
                            L.dropout_forward, *dropout_args(seed=2**32))


@pytest.mark.parametrize("x, exc, pattern", [
    ([1.0, 2.0], TypeError, r"^x must be a numpy array"),
    (np.ones(3, dtype=np.int64), TypeError, r"^x must be a floating-point array"),
])
@pytest.mark.parametrize("mode", ["train", "test"])
def test_dropout_bad_x(mode, x, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.dropout_forward, *with_(dropout_args(mode), 0, x))


@pytest.mark.parametrize("param", [None, "train", [("p", 0.5)]])
def test_dropout_param_must_be_a_dict(param):
    assert_raises_unchanged(TypeError, r"^dropout_param must be a dict", L.dropout_forward, np.ones(3), param)


def test_dropout_backward_bad_dout():
    x = np.ones((5, 4))
    _, cache = L.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 0})
    assert_raises_unchanged(ValueError, r"^dout has shape \(4, 5\), expected \(5, 4\) \(the shape of the forward input x\)$",
                 L.dropout_backward,
                 np.ones((4, 5)), cache)
    assert_raises_unchanged(TypeError, r"^dout must be a numpy array", L.dropout_backward, [[1.0]], cache)
    _, cache = L.dropout_forward(x, {"mode": "test", "p": 0.5})
    assert_raises_unchanged(TypeError, r"^dout must be a numpy array", L.dropout_backward, [[1.0]], cache)


# --------------------------------------------------------------------------
# affine, relu, losses
# --------------------------------------------------------------------------

def affine_args():
    r = _rng()
    return [r.standard_normal((2, 3, 2)), r.standard_normal((6, 4)), r.standard_normal(4)]


@pytest.mark.parametrize("i, value, exc, pattern", [
    (0, [[1.0] * 6] * 2, TypeError, r"^x must be a numpy array"),
    (0, np.array(1.0), ValueError, r"^x must have at least 1 dimensions"),
    (0, np.ones((2, 5)), ValueError, r"^w has shape \(6, 4\), expected \(5, M\)"),
    (1, np.ones(6), ValueError, r"^w must be 2-dimensional"),
    (1, np.ones((6, 4, 1)), ValueError, r"^w must be 2-dimensional"),
    (1, "w", TypeError, r"^w must be a numpy array"),
    (1, np.ones((7, 4)), ValueError, r"^w has shape \(7, 4\), expected \(6, M\)"),
    (2, np.ones(5), ValueError, r"^b has shape \(5,\), expected \(4,\) to match w of shape \(6, 4\)"),
    (2, np.ones((1, 4)), ValueError, r"^b has shape \(1, 4\), expected \(4,\)"),
    (2, [0.0] * 4, TypeError, r"^b must be a numpy array"),
])
def test_affine_forward_bad_input(i, value, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.affine_forward, *with_(affine_args(), i, value))


def test_affine_backward_bad_dout():
    _, cache = L.affine_forward(*affine_args())
    assert_raises_unchanged(ValueError, r"^dout has shape \(2, 5\), expected \(2, 4\) \(the shape of the forward output\)$",
                 L.affine_backward,
                 np.ones((2, 5)), cache)
    assert_raises_unchanged(ValueError, r"^dout has shape \(4,\), expected \(2, 4\)", L.affine_backward,
                 np.ones(4), cache)


def test_relu_bad_input():
    assert_raises_unchanged(TypeError, r"^x must be a numpy array", L.relu_forward, [1.0, -1.0])
    _, cache = L.relu_forward(np.ones((2, 3)))
    assert_raises_unchanged(ValueError, r"^dout has shape \(3, 2\), expected \(2, 3\) \(the shape of the forward input\)$",
                 L.relu_backward,
                 np.ones((3, 2)), cache)
    assert_raises_unchanged(TypeError, r"^dout must be a numpy array", L.relu_backward, 1.0, cache)


@pytest.mark.parametrize("loss", [L.softmax_loss, L.svm_loss])
@pytest.mark.parametrize("x, y, exc, pattern", [
    ([[1.0, 2.0]], np.array([0]), TypeError, r"^x must be a numpy array"),
    (np.ones((2, 3), dtype=np.int64), np.array([0, 1]), TypeError, r"^x must be a floating-point array"),
    (np.ones(3), np.array([0]), ValueError, r"^x must be 2-dimensional"),
    (np.ones((2, 0)), np.array([0, 0]), ValueError, r"^x must have at least one class column"),
    (np.ones((2, 3)), np.array([0.0, 1.0]), TypeError, r"^y must hold integer class labels"),
    (np.ones((2, 3)), [0, 1], TypeError, r"^y must be a numpy array"),
    (np.ones((2, 3)), np.array([[0, 1]]), ValueError, r"^y must be 1-dimensional"),
    (np.ones((2, 3)), np.array([0, 1, 2]), ValueError, r"^y has 3 labels, expected 2"),
    (np.ones((2, 3)), np.array([0, 3]), ValueError, r"^y must satisfy 0 <= y < 3, got values in \[0, 3\]"),
    (np.ones((2, 3)), np.array([-1, 2]), ValueError, r"^y must satisfy 0 <= y < 3, got values in \[-1, 2\]"),
])
def test_loss_bad_input(loss, x, y, exc, pattern):
    assert_raises_unchanged(exc, pattern, loss, x, y)


@pytest.mark.parametrize("loss", [L.softmax_loss, L.svm_loss])
def test_loss_accepts_last_class_and_single_class(loss):
    # boundary labels are valid: y == C - 1; and with one class (C == 1) both
    # losses are 0 (softmax: -log 1; SVM: no other class) with zero gradient
    x = np.array([[0.0, 1.0, 2.0]])
    assert np.isfinite(loss(x, np.array([2]))[0])
    value, dx = loss(np.array([[3.0], [-1.0]]), np.array([0, 0]))
    assert value == 0.0
    np.testing.assert_array_equal(dx, [[0.0], [0.0]])


# --------------------------------------------------------------------------
# convolution and pooling
# --------------------------------------------------------------------------

def conv_args():
    r = _rng()
    return [r.standard_normal((2, 3, 5, 5)), r.standard_normal((2, 3, 3, 3)), r.standard_normal(2),
            {"stride": 1, "pad": 1}]


@pytest.mark.parametrize("i, value, exc, pattern", [
    (0, np.ones((3, 5, 5)), ValueError, r"^x must be 4-dimensional"),
    (0, "x", TypeError, r"^x must be a numpy array"),
    (1, np.ones((3, 3, 3)), ValueError, r"^w must be 4-dimensional"),
    (1, np.ones((2, 4, 3, 3)), ValueError,
     r"^w has shape \(2, 4, 3, 3\), expected \(F, 3, HH, WW\): its channels must match x"),
    (2, np.ones(3), ValueError, r"^b has shape \(3,\), expected \(2,\) to match w of shape \(2, 3, 3, 3\)$"),
    (2, None, TypeError, r"^b must be a numpy array"),
    (3, None, TypeError, r"^conv_param must be a dict"),
])
def test_conv_forward_bad_arrays(i, value, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.conv_forward_naive, *with_(conv_args(), i, value))


@pytest.mark.parametrize("key, value, exc, pattern", [
    ("stride", 0, ValueError, r"^conv_param\['stride'\] must be >= 1, got 0"),
    ("stride", 1.0, TypeError, r"^conv_param\['stride'\] must be an integer"),
    ("stride", None, TypeError, r"^conv_param\['stride'\] must be an integer"),
    ("pad", -1, ValueError, r"^conv_param\['pad'\] must be >= 0, got -1"),
    ("pad", "1", TypeError, r"^conv_param\['pad'\] must be an integer"),
    ("pad", False, TypeError, r"^conv_param\['pad'\] must be an integer"),
])
def test_conv_forward_bad_conv_param(key, value, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.conv_forward_naive, *with_key(conv_args(), key, value))


@pytest.mark.parametrize("x_shape, w_shape, pad, pattern", [
    ((1, 1, 4, 6), (1, 1, 5, 3), 0, r"^the filter \(5x3\) is larger than the padded input \(4x6\)"),
    ((1, 1, 6, 4), (1, 1, 3, 5), 0, r"^the filter \(3x5\) is larger than the padded input \(6x4\)"),
    ((1, 1, 2, 2), (1, 1, 5, 5), 1, r"^the filter \(5x5\) is larger than the padded input \(4x4\)"),
    # padding counts twice (both sides), not three times: only one dimension too small
    ((1, 1, 2, 6), (1, 1, 5, 3), 1, r"^the filter \(5x3\) is larger than the padded input \(4x8\)"),
    ((1, 1, 6, 2), (1, 1, 3, 5), 1, r"^the filter \(3x5\) is larger than the padded input \(8x4\)"),
])
def test_conv_filter_larger_than_padded_input(x_shape, w_shape, pad, pattern):
    assert_raises_unchanged(ValueError, pattern + r".*conv_param\['pad'\]", L.conv_forward_naive,
                 np.ones(x_shape), np.ones(w_shape), np.ones(1), {"stride": 1, "pad": pad})


def test_conv_backward_bad_dout():
    out, cache = L.conv_forward_naive(*conv_args())
    assert_raises_unchanged(ValueError,
                 r"^dout has shape \(2, 2, 5, 4\), expected \(2, 2, 5, 5\) \(the shape of the forward output\)$",
                 L.conv_backward_naive, np.ones((2, 2, 5, 4)), cache)


def pool_args():
    return [_rng().standard_normal((2, 3, 4, 4)), {"pool_height": 2, "pool_width": 2, "stride": 2}]


@pytest.mark.parametrize("key, value, exc, pattern", [
    ("pool_height", KeyError, ValueError, r"^pool_param is missing the required key 'pool_height'"),
    ("pool_width", KeyError, ValueError, r"^pool_param is missing the required key 'pool_width'"),
    ("stride", KeyError, ValueError, r"^pool_param is missing the required key 'stride'"),
    ("pool_height", 0, ValueError, r"^pool_param\['pool_height'\] must be >= 1, got 0"),
    ("pool_width", 2.0, TypeError, r"^pool_param\['pool_width'\] must be an integer"),
    ("pool_width", 0, ValueError, r"^pool_param\['pool_width'\] must be >= 1, got 0"),
    ("stride", 0, ValueError, r"^pool_param\['stride'\] must be >= 1, got 0"),
    ("stride", "2", TypeError, r"^pool_param\['stride'\] must be an integer"),
    ("pool_height", 5, ValueError, r"^the pool \(5x2\) is larger than the input \(4x4 of x with shape"),
    ("pool_width", 5, ValueError, r"^the pool \(2x5\) is larger than the input \(4x4"),
])
def test_max_pool_bad_pool_param(key, value, exc, pattern):
    assert_raises_unchanged(exc, pattern, L.max_pool_forward_naive, *with_key(pool_args(), key, value))


def test_max_pool_bad_x_and_dout():
    assert_raises_unchanged(ValueError, r"^x must be 4-dimensional", L.max_pool_forward_naive,
                 np.ones((3, 4, 4)), pool_args()[1])
    assert_raises_unchanged(TypeError, r"^pool_param must be a dict", L.max_pool_forward_naive, np.ones((1, 1, 2, 2)), None)
    out, cache = L.max_pool_forward_naive(*pool_args())
    assert_raises_unchanged(ValueError,
                 r"^dout has shape \(2, 3, 2, 1\), expected \(2, 3, 2, 2\) \(the shape of the forward output\)$",
                 L.max_pool_backward_naive, np.ones((2, 3, 2, 1)), cache)


def test_pool_and_conv_exact_fit_is_valid():
    # boundaries of the size checks: a pool or filter exactly as large as the input is fine
    out, _ = L.max_pool_forward_naive(np.arange(16.0).reshape(1, 1, 4, 4),
                                      {"pool_height": 4, "pool_width": 4, "stride": 1})
    assert out.shape == (1, 1, 1, 1) and out[0, 0, 0, 0] == 15.0
    out, _ = L.conv_forward_naive(np.ones((1, 1, 2, 3)), np.ones((1, 1, 4, 5)), np.zeros(1),
                                  {"stride": 1, "pad": 1})
    assert out.shape == (1, 1, 1, 1) and out[0, 0, 0, 0] == 6.0


# --------------------------------------------------------------------------
# checks come first: a failing call computes nothing and stores nothing
# --------------------------------------------------------------------------

def test_failed_train_call_does_not_update_running_stats():
    # the last check to run fails (running_var): running_mean must not be updated either
    args = with_key(bn_args("train"), "running_var", np.ones(5))
    assert_raises_unchanged(ValueError, r"^bn_param\['running_var'\]", L.batchnorm_forward, *args)
    args = with_key(sbn_args("train"), "running_var", np.ones(5))
    assert_raises_unchanged(ValueError, r"^bn_param\['running_var'\]", L.spatial_batchnorm_forward, *args)


def test_failed_dropout_call_leaves_the_dict_unchanged():
    param = {"mode": "train", "p": 2.0}
    with pytest.raises(ValueError):
        L.dropout_forward(np.ones(3), param)
    assert param == {"mode": "train", "p": 2.0}


# --------------------------------------------------------------------------
# np.matrix: an ndarray whose * is a matrix product (silently wrong results)
# --------------------------------------------------------------------------

def _matrix_cases():
    r = _rng()
    x = r.standard_normal((3, 3))
    M = np.matrix(r.standard_normal((3, 3)))
    relu_cache = L.relu_forward(x)[1]
    drop_cache = L.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 1})[1]
    bn_cache = L.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})[1]
    aff_cache = L.affine_forward(x, np.ones((3, 2)), np.zeros(2))[1]
    return [
        ("x", L.relu_forward, (M,)),
        ("dout", L.relu_backward, (M, relu_cache)),
        ("x", L.dropout_forward, (M, {"mode": "train", "p": 0.5, "seed": 1})),
        ("dout", L.dropout_backward, (M, drop_cache)),
        ("x", L.affine_forward, (M, np.ones((3, 2)), np.zeros(2))),
        ("dout", L.affine_backward, (np.matrix(np.ones((3, 2))), aff_cache)),
        ("x", L.softmax_loss, (M, np.array([0, 1, 2]))),
        ("x", L.svm_loss, (M, np.array([0, 1, 2]))),
        ("x", L.batchnorm_forward, (M, np.ones(3), np.zeros(3), {"mode": "train"})),
        ("gamma", L.batchnorm_forward, (x, np.matrix(np.ones(3)), np.zeros(3), {"mode": "train"})),
        ("dout", L.batchnorm_backward_alt, (M, bn_cache)),
        ("dout", L.batchnorm_backward, (M, bn_cache)),
        ("x", L.layernorm_forward, (M, np.ones(3), np.zeros(3), {})),
    ]


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("k", range(13))
def test_np_matrix_is_refused_by_name(k):
    name, fn, args = _matrix_cases()[k]
    assert_raises_unchanged(TypeError, rf"^{name} must be a numpy array, not np.matrix; "
                            rf"convert it with np.asarray\({name}\)$", fn, *args)


# --------------------------------------------------------------------------
# zero-length axes: a clear error, not a numpy reshape error deep inside
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fn, args", [
    (L.layernorm_forward, (np.zeros((3, 0)), np.zeros(0), np.zeros(0), {})),
    (L.spatial_batchnorm_forward, (np.zeros((2, 3, 0, 4)), np.ones(3), np.zeros(3), {"mode": "train"})),
    (L.spatial_groupnorm_forward, (np.zeros((2, 0, 4, 4)), np.ones((1, 0, 1, 1)),
                                   np.zeros((1, 0, 1, 1)), 1, {})),
    (L.spatial_groupnorm_forward, (np.zeros((2, 4, 4, 0)), np.ones((1, 4, 1, 1)),
                                   np.zeros((1, 4, 1, 1)), 2, {})),
])
def test_norm_layers_refuse_statistics_over_nothing(fn, args):
    # (no statistics at all, as batch norm with zero features, gives empty results:
    # test_empty_feature_axis_gives_empty_results)
    assert_raises_unchanged(ValueError, r"^x has shape \(.*\): each statistic would be a mean "
                            r"over no element \(axes \(", fn, *args)


@pytest.mark.parametrize("w_shape", [(0, 2, 3, 3), (2, 2, 0, 3), (2, 2, 3, 0)])
@pytest.mark.parametrize("conv", [L.conv_forward_naive, F.conv_forward_fast])
def test_conv_refuses_empty_filters(conv, w_shape):
    x = np.zeros((1, 2, 5, 5))
    assert_raises_unchanged(ValueError, r"^w has shape .*: filters, channels and the filter's "
                            r"height and width must each be at least 1$", conv, x,
                            np.zeros(w_shape), np.zeros(w_shape[0]), {"stride": 1, "pad": 1})
    x0 = np.zeros((1, 0, 5, 5))
    assert_raises_unchanged(ValueError, r"^w has shape \(2, 0, 3, 3\)", conv, x0,
                            np.zeros((2, 0, 3, 3)), np.zeros(2), {"stride": 1, "pad": 1})
