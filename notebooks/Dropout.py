# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Dropout
#
# Dropout [1] regularises a neural network by randomly setting some hidden units to
# zero during the forward pass of training. No unit can rely on any particular other
# unit being present, which discourages co-adapted features; training with dropout
# is like training a large ensemble of thinned networks that share their weights.
#
# In this kit the dropout parameter $p$ is the probability of **keeping** a unit.
# *Inverted* dropout rescales the kept units during training, so the expected output
# equals the input and the test-time forward pass needs no change:
#
# $$\text{train:}\quad m_j \sim \mathrm{Bernoulli}(p), \qquad y = \frac{m \odot x}{p};
#   \qquad\qquad \text{test:}\quad y = x .$$
#
# Then $\mathbb{E}[y_j] = p \cdot x_j / p = x_j$. The backward pass routes the
# upstream gradient through the same mask: $\partial L / \partial x = m \odot
# (\partial L / \partial y) / p$.
#
# **How to use this notebook.** Implement `dropout_forward` and `dropout_backward` in
# `cs231n/layers.py` and dropout in `FullyConnectedNet` (`dropout_keep_ratio`); the
# cells below check them and run the experiment. Set `CS231N_FAST=1` before starting
# Jupyter for a shortened run; the default is the full experiment.
#
# [1] Nitish Srivastava, Geoffrey Hinton, Alex Krizhevsky, Ilya Sutskever and Ruslan
# Salakhutdinov, "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
# JMLR 15, 2014.

# %%
# Setup
import matplotlib.pyplot as plt
import numpy as np

from cs231n import experiments
from cs231n.classifiers.fc_net import FullyConnectedNet
from cs231n.data_utils import get_CIFAR10_data
from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from cs231n.layers import dropout_backward, dropout_forward

# %matplotlib inline
plt.rcParams["figure.figsize"] = (10.0, 8.0)

FAST = experiments.is_fast()
print("CS231N_FAST=1: shortened experiments" if FAST else "full experiments")
np.random.seed(231)  # as in the course: what the kit draws without a seed repeats
rng = np.random.default_rng(231)  # the test inputs below come from this generator


def check(name, error, expected):
    """Print an error next to the magnitude a correct implementation reaches."""
    verdict = "ok" if error <= expected else "TOO LARGE - check your code"
    print(f"{name:>28s}: {error:.2e}   (should be below {expected:.0e})  {verdict}")


# %% [markdown]
# Load CIFAR-10: the regularisation experiment trains on only 500 images (so that the
# network can overfit them) and validates on 1000.

# %%
data = get_CIFAR10_data(num_training=500, num_validation=1000, num_test=0)
for k, v in data.items():
    print(f"{k}: {v.shape}")

# %% [markdown]
# ## Dropout: forward pass
# Implement `dropout_forward`. Draw the mask's uniform numbers with `rng.random(x.shape)`
# from the generator the layer picks for you: `np.random.RandomState(seed)` when
# `dropout_param['seed']` is given, so that the same mask comes back on every call
# (gradient checks need this); else a `numpy.random.Generator` in `dropout_param['rng']`;
# else numpy's global random state, as in the course, so `np.random.seed(231)` above
# makes the masks below repeat.
#
# In training mode the fraction of zeros should be close to $1 - p$ and the mean of
# the output close to the mean of the input; in test mode the output equals the input.

# %%
x = rng.standard_normal((500, 500)) + 10

for p in [0.25, 0.4, 0.7]:
    out, _ = dropout_forward(x, {"mode": "train", "p": p})
    out_test, _ = dropout_forward(x, {"mode": "test", "p": p})

    print(f"Running tests with p = {p}")
    print(f"  mean of input:                 {x.mean():.4f}")
    print(f"  mean of train-time output:     {out.mean():.4f}")
    print(f"  mean of test-time output:      {out_test.mean():.4f}")
    print(f"  train-time output set to zero: {(out == 0).mean():.4f} (expect {1 - p:.2f})")
    print(f"  test-time output set to zero:  {(out_test == 0).mean():.4f} (expect 0)")
    check("|train zeros - (1 - p)|", abs((out == 0).mean() - (1 - p)), 0.01)
    check("|train mean / input mean - 1|", abs(out.mean() / x.mean() - 1), 0.01)
    check("|test output - input|", np.abs(out_test - x).max(), 1e-12)
    print()

# %% [markdown]
# ## Dropout: backward pass
# Implement `dropout_backward` and check it numerically (with a seed, so the mask is
# the same in every forward pass the numerical gradient makes).

# %%
x = rng.standard_normal((10, 10)) + 10
dout = rng.standard_normal(x.shape)

dropout_param = {"mode": "train", "p": 0.2, "seed": 123}
out, cache = dropout_forward(x, dropout_param)
dx = dropout_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda xx: dropout_forward(xx, dropout_param)[0], x, dout)

# A value of 1e-10 or below: the layer is linear, so centred differences are exact
# up to round-off.
check("dx relative error", rel_error(dx, dx_num), 1e-10)

# %% [markdown]
# ## Inline Question 1:
# What happens if we do not divide the values being passed through inverse dropout by
# `p` in the dropout layer? Why does that happen?

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* Without the division the expected output of a unit in training is
# $\mathbb{E}[m_j x_j] = p\,x_j$, but at test time (no dropout) it is $x_j$. The layers
# after the dropout layer are trained on inputs that are, on average, $p$ times smaller
# than the ones they receive at test time, so at test time every activation after it
# is scaled up by $1/p$ (more with several dropout layers), the scores are too large
# and the predictions degrade. One would have to multiply the activations by $p$ at
# test time instead (the original, non-inverted dropout). Dividing by $p$ during
# training keeps the expectations equal in both modes and leaves the test-time
# forward pass untouched.
# ### END SOLUTION

# %% [markdown]
# ## Fully connected networks with dropout
# Add dropout to `FullyConnectedNet` in `cs231n/classifiers/fc_net.py`: with
# `dropout_keep_ratio` below 1, a dropout layer follows every ReLU. Gradient check
# with a fixed seed (the model passes it to `dropout_param['seed']`, so every
# forward pass drops the same units). The relative errors should be 1e-6 or less for
# most parameters; the first weight matrices can reach a few times 1e-6 (they sit
# behind the most ReLUs, whose kinks the centred differences may straddle).

# %%
N, D, H1, H2, C = 2, 15, 20, 30, 10
X = rng.standard_normal((N, D))
y = rng.integers(C, size=N)

for keep_ratio in [1, 0.75, 0.5]:
    print(f"Running check with dropout_keep_ratio = {keep_ratio}")
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=5e-2,
                              dtype=np.float64, dropout_keep_ratio=keep_ratio, seed=123)
    loss, grads = model.loss(X, y)
    print(f"Initial loss: {loss:.4f}")
    for name in sorted(grads):
        f = lambda _: model.loss(X, y)[0]
        grad_num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
        check(f"{name} relative error", rel_error(grad_num, grads[name]),
              1e-5 if name.startswith("W") else 1e-6)
    print()

# %% [markdown]
# ## Regularization experiment
# Train two-layer networks (500 hidden units) on 500 training examples, one without
# dropout (keep ratio 1) and one that keeps a quarter of the hidden units (keep ratio
# 0.25): Adam, learning rate 5e-4, batch size 100, 25 epochs (10 in fast mode). Both
# start from the same weights and see the same minibatches. The experiment is
# `cs231n.experiments.dropout` (also `python -m cs231n experiment dropout`).

# %%
do_history = experiments.dropout(data, seed=231)
print(experiments.results_table(do_history))
experiments.plot(do_history)
plt.show()

# %% [markdown]
# ## Inline Question 2:
# Compare the validation and training accuracies with and without dropout. What do
# your results suggest about dropout as a regularizer?

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* Without dropout the network memorises the 500 training images: its
# training accuracy climbs towards 100% while the validation accuracy stops improving
# early, a large generalisation gap. With dropout (keep ratio 0.25) the training
# accuracy rises more slowly and stays lower, while the validation accuracy holds up
# (compare the best validation and final training accuracies in the table printed
# above, and the two curves). Dropout makes the training
# problem harder (every step trains a random thinned network) and so reduces
# overfitting: the gap between training and validation accuracy shrinks without
# hurting, here even slightly helping, validation accuracy. That is what a regularizer
# does; its benefit is modest in this tiny setting, where the data (500 images) is the
# main limit.
# ### END SOLUTION

# %% [markdown]
# ## Inline Question 3:
# Suppose we are training a deep fully connected network for image classification,
# with dropout after hidden layers (parameterized by keep probability $p$). If we are
# concerned about overfitting, how should we modify $p$ (if at all) when we decide to
# decrease the size of the hidden layers (that is, the number of nodes in each layer)?

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* We should *increase* $p$, keeping more units. A smaller network already
# has less capacity and so overfits less, and it needs a smaller dose of
# regularisation. Moreover a layer of $n$ units passes on average $pn$ active units:
# dropping the same fraction of a smaller layer leaves very few units to carry the
# signal, which makes the network underfit and its gradients noisy. Keeping the
# expected number of active units $pn$ roughly constant (for example doubling $p$ when
# halving $n$, up to $p = 1$) is a reasonable rule of thumb; the right value is then
# tuned on the validation set.
# ### END SOLUTION
