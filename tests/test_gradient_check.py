"""cs231n/gradient_check.py: numerical gradients and ``rel_error``.

The functions are checked on functions whose gradients are known in closed form.
For ``f(x) = sum(x**3)`` the centred difference is exactly ``3 x**2 + h**2``
(the odd terms cancel), while a one-sided difference would be ``3 x**2 + 3 x h +
h**2``; with a large ``h`` that tells the two apart.
"""
import numpy as np
import pytest

from cs231n.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    eval_numerical_gradient_blobs,
    grad_check_sparse,
    rel_error,
)


# --------------------------------------------------------------------------
# rel_error
# --------------------------------------------------------------------------

def test_rel_error_known_values():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)       # 2 / 4
    # maximum over elements
    assert rel_error(np.array([1.0, 1.0]), np.array([1.0, 3.0])) == pytest.approx(0.5)
    # denominator floored at 1e-8: |0 - 1e-10| / 1e-8 = 0.01
    assert rel_error(np.array([0.0]), np.array([1e-10])) == pytest.approx(0.01)
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(2.0, -2.0) == pytest.approx(1.0)
    assert isinstance(rel_error(1.0, 2.0), float)


def test_rel_error_is_symmetric_and_scale_free(rng):
    a, b = rng.standard_normal(10), rng.standard_normal(10)
    assert rel_error(a, b) == pytest.approx(rel_error(b, a))
    assert rel_error(1e3 * a, 1e3 * b) == pytest.approx(rel_error(a, b))


def test_rel_error_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shape"):
        rel_error(np.ones(3), np.ones(4))


def test_rel_error_empty_is_zero():
    assert rel_error(np.ones(0), np.ones(0)) == 0.0


# --------------------------------------------------------------------------
# eval_numerical_gradient
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 2, 3)])
def test_gradient_of_sum_of_squares_is_2x(rng, shape):
    x = rng.standard_normal(shape)
    grad = eval_numerical_gradient(lambda v: np.sum(v ** 2), x, verbose=False)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8, atol=1e-10)


def test_centred_difference_exact_form(rng):
    x = rng.standard_normal(6)
    h = 1e-2
    grad = eval_numerical_gradient(lambda v: np.sum(v ** 3), x, verbose=False, h=h)
    np.testing.assert_allclose(grad, 3 * x ** 2 + h ** 2, rtol=1e-10, atol=1e-12)


def test_x_is_restored_and_perturbed_in_place(rng):
    x = rng.standard_normal((3, 3))
    x0 = x.copy()
    seen = []

    def f(v):
        seen.append(v is x)
        return float(np.sum(np.sin(v)))

    grad = eval_numerical_gradient(f, x, verbose=False)
    assert np.array_equal(x, x0)                # bit-for-bit restored
    assert all(seen) and len(seen) == 2 * x.size
    np.testing.assert_allclose(grad, np.cos(x0), rtol=1e-8, atol=1e-10)


def test_verbose_prints_each_index(rng, capsys):
    x = rng.standard_normal(3)
    eval_numerical_gradient(lambda v: np.sum(v), x, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("(0,)")
    eval_numerical_gradient(lambda v: np.sum(v), x, verbose=False)
    assert capsys.readouterr().out == ""


def test_float32_gradient_keeps_dtype():
    x = np.array([1.0, 2.0], dtype=np.float32)
    grad = eval_numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x,
                                   verbose=False, h=1e-2)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, [2.0, 4.0], rtol=1e-3)


@pytest.mark.parametrize("fn", [eval_numerical_gradient, eval_numerical_gradient_array])
def test_bad_input(fn):
    args = (lambda v: 0.0,) if fn is eval_numerical_gradient else (lambda v: v,)
    tail = () if fn is eval_numerical_gradient else (np.ones(2),)
    with pytest.raises(TypeError, match="^x must be"):
        fn(*args, [1.0, 2.0], *tail)
    with pytest.raises(TypeError, match="^x must be a floating-point array"):
        fn(*args, np.array([1, 2]), *tail)
    with pytest.raises(ValueError, match="^h must be"):
        fn(*args, np.ones(2), *tail, h=0.0)
    with pytest.raises(ValueError, match="^h must be"):
        fn(*args, np.ones(2), *tail, h=-1e-5)


# --------------------------------------------------------------------------
# eval_numerical_gradient_array
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_array_version_is_vector_jacobian_product(rng, shape):
    x = rng.standard_normal(shape)
    df = rng.standard_normal(shape)
    x0 = x.copy()
    grad = eval_numerical_gradient_array(lambda v: v ** 2, x, df)
    np.testing.assert_allclose(grad, 2 * x * df, rtol=1e-8, atol=1e-10)
    assert np.array_equal(x, x0)


def test_array_version_with_a_different_output_shape(rng):
    # f: R^(2x3) -> R^4 linear, so the VJP is A^T df exactly
    A = rng.standard_normal((4, 6))
    x = rng.standard_normal((2, 3))
    df = rng.standard_normal(4)
    grad = eval_numerical_gradient_array(lambda v: A @ v.ravel(), x, df)
    np.testing.assert_allclose(grad, (A.T @ df).reshape(2, 3), rtol=1e-8, atol=1e-10)


def test_array_version_copes_with_f_returning_a_view(rng):
    # f returns x itself: the two evaluations must not alias one buffer
    x = rng.standard_normal(5)
    df = rng.standard_normal(5)
    grad = eval_numerical_gradient_array(lambda v: v, x, df)
    np.testing.assert_allclose(grad, df, rtol=1e-8, atol=1e-10)


def test_array_version_exact_centred_form(rng):
    x = rng.standard_normal(4)
    df = np.ones(4)
    h = 1e-2
    grad = eval_numerical_gradient_array(lambda v: v ** 3, x, df, h=h)
    np.testing.assert_allclose(grad, 3 * x ** 2 + h ** 2, rtol=1e-10, atol=1e-12)


def test_blobs_version(rng):
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    out = rng.standard_normal(3)
    a0, b0 = a.copy(), b.copy()
    da, db = eval_numerical_gradient_blobs(lambda u, v: u * v, (a, b), out)
    np.testing.assert_allclose(da, b * out, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(db, a * out, rtol=1e-8, atol=1e-10)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)


# --------------------------------------------------------------------------
# grad_check_sparse
# --------------------------------------------------------------------------

def test_grad_check_sparse_correct_gradient(rng, capsys):
    x = rng.standard_normal((4, 5))
    x0 = x.copy()
    errors = grad_check_sparse(lambda v: np.sum(v ** 2), x, 2 * x, num_checks=7, seed=0)
    assert len(errors) == 7
    assert max(errors) < 1e-7
    assert np.array_equal(x, x0)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 7 and all("relative error" in line for line in out)


def test_grad_check_sparse_detects_a_wrong_gradient(rng, capsys):
    x = rng.standard_normal((4, 5)) + 3.0          # gradient clearly nonzero
    errors = grad_check_sparse(lambda v: np.sum(v ** 2), x, 3 * x, num_checks=5, seed=1)
    # numeric 2x vs analytic 3x: |2x - 3x| / (|2x| + |3x|) = 0.2
    np.testing.assert_allclose(errors, 0.2, rtol=1e-6)


def test_grad_check_sparse_seed_reproducible(rng, capsys):
    x = rng.standard_normal((6, 6))
    wrong = 2 * x + rng.standard_normal((6, 6))   # entry-dependent errors
    e1 = grad_check_sparse(lambda v: np.sum(v ** 2), x, wrong, num_checks=5, seed=3)
    e2 = grad_check_sparse(lambda v: np.sum(v ** 2), x, wrong, num_checks=5, seed=3)
    assert e1 == e2


def test_grad_check_sparse_bad_input(capsys):
    with pytest.raises(ValueError, match="^analytic_grad has shape"):
        grad_check_sparse(lambda v: 0.0, np.ones((2, 2)), np.ones(4))
    with pytest.raises(TypeError, match="^analytic_grad must be a numpy array"):
        grad_check_sparse(lambda v: 0.0, np.ones((2, 2)), [[1.0, 1.0], [1.0, 1.0]])
    with pytest.raises(TypeError, match="^x must be a floating-point array"):
        grad_check_sparse(lambda v: 0.0, np.ones((2, 2), dtype=int), np.ones((2, 2)))


def test_grad_check_sparse_does_not_touch_global_random_state(rng, capsys):
    before = np.random.get_state(legacy=True)
    x = rng.standard_normal(5)
    grad_check_sparse(lambda v: np.sum(v ** 2), x, 2 * x, num_checks=3)
    after = np.random.get_state(legacy=True)
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]
