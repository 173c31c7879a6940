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
# # Batch Normalization
#
# Deep networks are hard to train: the distribution of each layer's input changes
# whenever the layers before it are updated, and a poor weight initialisation makes
# activations vanish or explode as they pass through many layers. Batch normalization
# [1] makes the input of every layer well scaled by construction. During training it
# standardises each feature over the minibatch, then lets the network re-scale and
# shift it with learned parameters $\gamma$ and $\beta$.
#
# For a minibatch $x \in \mathbb{R}^{N \times D}$ and each feature $j$:
#
# $$\mu_j = \frac{1}{N}\sum_{i=1}^N x_{ij}, \qquad
#   \sigma_j^2 = \frac{1}{N}\sum_{i=1}^N (x_{ij} - \mu_j)^2, \qquad
#   \hat x_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}, \qquad
#   y_{ij} = \gamma_j \hat x_{ij} + \beta_j .$$
#
# At test time there may be a single example, so the layer uses running averages of
# the batch statistics kept during training (momentum $m = 0.9$):
#
# $$\mu^{\text{run}} \leftarrow m\,\mu^{\text{run}} + (1 - m)\,\mu, \qquad
#   \sigma^{2,\text{run}} \leftarrow m\,\sigma^{2,\text{run}} + (1 - m)\,\sigma^2 .$$
#
# Layer normalization [2], the second half of this notebook, standardises each
# *sample* over its features instead, and so does not depend on the batch at all.
#
# **How to use this notebook.** You implement the layers in `cs231n/layers.py`
# (`batchnorm_forward`, `batchnorm_backward`, `batchnorm_backward_alt`,
# `layernorm_forward`, `layernorm_backward`) and the normalised network in
# `cs231n/classifiers/fc_net.py`; the cells below check them and run the experiments.
# Each check prints a number next to the magnitude a correct implementation reaches.
#
# The experiments train many networks. Set the environment variable `CS231N_FAST=1`
# before starting Jupyter for a shortened run (fewer epochs and sweep points; CI does
# this); the default is the full experiment.
#
# [1] Sergey Ioffe and Christian Szegedy, "Batch Normalization: Accelerating Deep
# Network Training by Reducing Internal Covariate Shift", ICML 2015.
# [2] Jimmy Lei Ba, Jamie Ryan Kiros and Geoffrey E. Hinton, "Layer Normalization",
# arXiv 2016.

# %%
# Setup
import time

import matplotlib.pyplot as plt
import numpy as np

from cs231n import experiments
from cs231n.classifiers.fc_net import FullyConnectedNet
from cs231n.data_utils import get_CIFAR10_data
from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from cs231n.layers import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)

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


def print_mean_std(x, axis=0):
    print(f"  means: {x.mean(axis=axis)}")
    print(f"  stds:  {x.std(axis=axis)}\n")


# %% [markdown]
# Load the CIFAR-10 data. The experiments below use 1000 training images (the
# assignment's setting) and 1000 validation images. The loader looks for the data in
# `$CS231N_CIFAR10_DIR`, then in the kit's `datasets/` folder; get it with
# `python -m cs231n.datasets download`.

# %%
data = get_CIFAR10_data(num_training=1000, num_validation=1000, num_test=0)
for k, v in data.items():
    print(f"{k}: {v.shape}")

# %% [markdown]
# ## Batch normalization: forward pass
# Implement `batchnorm_forward` in `cs231n/layers.py`: the training-time branch
# (minibatch statistics, running averages) and the test-time branch (running
# averages). First the training-time forward pass: after normalisation with $\gamma = 1, \beta = 0$ every feature should
# have mean close to 0 and standard deviation close to 1; with other $\gamma, \beta$
# the means should be close to $\beta$ and the standard deviations close to $\gamma$.

# %%
# Simulate the forward pass of a two-layer network.
N, D1, D2, D3 = 200, 50, 60, 3
X = rng.standard_normal((N, D1))
W1 = rng.standard_normal((D1, D2))
W2 = rng.standard_normal((D2, D3))
a = np.maximum(0, X.dot(W1)).dot(W2)

print("Before batch normalization:")
print_mean_std(a, axis=0)

gamma, beta = np.ones(D3), np.zeros(D3)
print("After batch normalization (gamma=1, beta=0): means ~ 0, stds ~ 1")
a_norm, _ = batchnorm_forward(a, gamma, beta, {"mode": "train"})
print_mean_std(a_norm, axis=0)

gamma, beta = np.asarray([1.0, 2.0, 3.0]), np.asarray([11.0, 12.0, 13.0])
print("After batch normalization (gamma=[1, 2, 3], beta=[11, 12, 13]): means ~ beta, stds ~ gamma")
a_norm, _ = batchnorm_forward(a, gamma, beta, {"mode": "train"})
print_mean_std(a_norm, axis=0)
check("|mean - beta|", np.abs(a_norm.mean(axis=0) - beta).max(), 1e-10)
check("|std - gamma| / gamma", np.abs(a_norm.std(axis=0) / gamma - 1).max(), 1e-4)

# %% [markdown]
# Now the test-time forward pass: run many training-time forward passes to warm up
# the running averages, then switch `bn_param['mode']` to `'test'`. The means should
# again be close to 0 and the standard deviations close to 1, but noisier than in
# training, because the running averages only estimate the statistics of this batch.

# %%
N, D1, D2, D3 = 200, 50, 60, 3
W1 = rng.standard_normal((D1, D2))
W2 = rng.standard_normal((D2, D3))
bn_param = {"mode": "train"}
gamma, beta = np.ones(D3), np.zeros(D3)

for t in range(50):
    X = rng.standard_normal((N, D1))
    a = np.maximum(0, X.dot(W1)).dot(W2)
    batchnorm_forward(a, gamma, beta, bn_param)

bn_param["mode"] = "test"
X = rng.standard_normal((N, D1))
a = np.maximum(0, X.dot(W1)).dot(W2)
a_norm, _ = batchnorm_forward(a, gamma, beta, bn_param)

print("After test-time batch normalization: means ~ 0, stds ~ 1 (noisier)")
print_mean_std(a_norm, axis=0)
check("|mean|", np.abs(a_norm.mean(axis=0)).max(), 0.2)
check("|std - 1|", np.abs(a_norm.std(axis=0) - 1).max(), 0.2)

# %% [markdown]
# ## Batch normalization: backward pass
# Implement `batchnorm_backward`. Draw the computational graph of the forward pass
# (mean, centring, variance, inverse standard deviation, product, scale and shift)
# and backpropagate through it one node at a time, summing the gradients where a
# node feeds several others. The gradients of $\gamma$ and $\beta$ are
#
# $$\frac{\partial L}{\partial \gamma_j} = \sum_i \frac{\partial L}{\partial y_{ij}}\hat x_{ij},
#   \qquad \frac{\partial L}{\partial \beta_j} = \sum_i \frac{\partial L}{\partial y_{ij}} .$$
#
# A numerical gradient check follows (float64 data, so the errors are tiny).

# %%
N, D = 4, 5
x = 5 * rng.standard_normal((N, D)) + 12
gamma = rng.standard_normal(D)
beta = rng.standard_normal(D)
dout = rng.standard_normal((N, D))

bn_param = {"mode": "train"}
fx = lambda x: batchnorm_forward(x, gamma, beta, bn_param)[0]
fg = lambda g: batchnorm_forward(x, g, beta, bn_param)[0]
fb = lambda b: batchnorm_forward(x, gamma, b, bn_param)[0]

dx_num = eval_numerical_gradient_array(fx, x, dout)
dgamma_num = eval_numerical_gradient_array(fg, gamma.copy(), dout)
dbeta_num = eval_numerical_gradient_array(fb, beta.copy(), dout)

_, cache = batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = batchnorm_backward(dout, cache)
check("dx error", rel_error(dx_num, dx), 1e-6)
check("dgamma error", rel_error(dgamma_num, dgamma), 1e-8)
check("dbeta error", rel_error(dbeta_num, dbeta), 1e-8)

# %% [markdown]
# The `dx` error is the largest. The analytic gradient is accurate to about 1e-14; the
# error comes from the centred differences, which lose digits on data with a large mean
# such as this `x`, and shows most in the entries of `dx` close to zero (they sum to
# zero over the batch). A correct implementation typically shows 1e-9 to 1e-7 here.

# %% [markdown]
# ## Batch normalization: alternative backward pass
# Working the derivative out on paper collapses the graph into one expression. With
# $\hat x$ and $\sigma_j$ from the forward pass and $g = \partial L / \partial \hat x
# = \gamma \odot \partial L / \partial y$:
#
# $$\frac{\partial L}{\partial x_{ij}} = \frac{1}{\sqrt{\sigma_j^2 + \epsilon}}
#   \Big( g_{ij} - \frac{1}{N}\sum_k g_{kj} - \hat x_{ij}\,\frac{1}{N}\sum_k g_{kj}\,\hat x_{kj} \Big).$$
#
# Implement it in `batchnorm_backward_alt`. It must give the same result as the
# step-by-step version, and it should be faster.

# %%
N, D = 100, 500
x = 5 * rng.standard_normal((N, D)) + 12
gamma = rng.standard_normal(D)
beta = rng.standard_normal(D)
dout = rng.standard_normal((N, D))

_, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})


def best_time(f, repeats=20):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


dx1, dgamma1, dbeta1 = batchnorm_backward(dout, cache)
dx2, dgamma2, dbeta2 = batchnorm_backward_alt(dout, cache)
t1 = best_time(lambda: batchnorm_backward(dout, cache))
t2 = best_time(lambda: batchnorm_backward_alt(dout, cache))

check("dx difference", rel_error(dx1, dx2), 1e-10)
check("dgamma difference", rel_error(dgamma1, dgamma2), 1e-12)
check("dbeta difference", rel_error(dbeta1, dbeta2), 1e-12)
print(f"speedup of the alternative backward pass: {t1 / t2:.2f}x (best of 20 calls each)")

# %% [markdown]
# ## Fully connected networks with batch normalization
# Add batch normalization to `FullyConnectedNet` in `cs231n/classifiers/fc_net.py`
# (`normalization="batchnorm"`): every hidden layer becomes
# affine - batch norm - ReLU, with parameters `gamma{i}`/`beta{i}` and one `bn_param`
# dict per layer. The sandwich layers in `cs231n/layer_utils.py` help.
#
# Gradient check of a small network: the initial loss should be close to
# $\ln 10 \approx 2.3$ without regularisation, and all relative errors should be small
# (the weight matrices' numerical gradients are the noisiest, because batch
# normalisation makes the loss nearly invariant to their scale).

# %%
N, D, H1, H2, C = 10, 15, 20, 30, 10
X = rng.standard_normal((N, D))
y = rng.integers(C, size=N)

for reg in [0, 3.14]:
    print(f"Running check with reg = {reg}")
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2,
                              dtype=np.float64, normalization="batchnorm", seed=231)
    loss, grads = model.loss(X, y)
    print(f"Initial loss: {loss:.4f}")
    for name in sorted(grads):
        f = lambda _: model.loss(X, y)[0]
        grad_num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
        check(f"{name} relative error", rel_error(grad_num, grads[name]), 1e-5)
    print()

# %% [markdown]
# ## Batch normalization for deep networks
# Train a six-layer network (five hidden layers of 100 units) on 1000 training
# examples with and without batch normalization: Adam with learning rate 1e-3,
# batch size 50, 10 epochs, weight scale 2e-2. Both networks start from the same
# weights and see the same minibatches, so batch normalization is the only difference.
#
# The experiment lives in `cs231n.experiments.batchnorm` (the command
# `python -m cs231n experiment batchnorm` runs the same function and writes the same
# figure to a PNG file).

# %%
bn_history = experiments.batchnorm(data, seed=231)
print(experiments.results_table(bn_history))

# %% [markdown]
# The batch-normalised network learns much faster: its training loss falls faster
# and its training accuracy pulls ahead (compare the final training accuracies in the
# table above). On held-out data its lead is small: compare the best validation
# accuracies, and look at the validation curve below, where in some epochs the
# baseline is ahead. With 1000 training images both networks overfit; what batch
# normalization buys here is faster optimisation.

# %%
experiments.plot(bn_history)
plt.show()

# %% [markdown]
# ## What batch normalization does to a hidden unit's input
# Ioffe and Szegedy motivate batch normalization with *internal covariate shift*: while
# the layers below a unit learn, the distribution of the unit's input keeps changing,
# and the unit has to chase it. Their Figure 1 shows it: for one hidden unit, the
# 15th, 50th and 85th percentiles of its input over training, without and with batch
# norm, beside the test accuracy.
#
# `experiments.activations` draws the same figure for our six-layer network on
# CIFAR-10. The two networks of the previous experiment are trained again (same
# weights, same minibatches; more training images, up to 5000), and every few steps
# we record, for unit 0 of the last hidden layer, the percentiles of its input to the
# ReLU (the affine output, or batch norm's output $\gamma \hat x + \beta$) over 500
# fixed validation images, and the validation accuracy. The command
# `python -m cs231n experiment activations` writes the same figure to a PNG.
#
# What to look for:
# - **(b) without batch norm** the distribution starts almost at a point (the small
#   initial weights shrink the signal in every layer) and then spreads out many times
#   over and moves as the lower layers learn: the unit's input is a moving target. It
#   may also drift below zero, where the ReLU outputs zero for most images.
# - **(c) with batch norm** the input stays centred with a spread close to
#   $\pm 1$ from the first step: whatever the layers below do, each unit sees
#   standardised inputs, changed only slowly through the learned $\gamma$ and $\beta$.
#   (The two panels have their own vertical scales.)
# - **(a)** the batch-normalised network's validation accuracy typically rises sooner.

# %%
act_data = get_CIFAR10_data(num_training=experiments.EXPERIMENTS["activations"].num_train(FAST),
                            num_validation=1000, num_test=0)
act_history = experiments.activations(act_data, seed=231)
print(experiments.results_table(act_history))
for run in act_history["runs"]:
    width = [p85 - p15 for p15, _, p85 in run["percentiles"]]
    print(f"{run['label']:>9s}: 15th-85th percentile spread {width[0]:.3g} at the start, "
          f"largest {max(width):.3g} ({max(width) / width[0]:.1f} times the first)")
experiments.plot(act_history)
plt.show()

# %% [markdown]
# ## Batch normalization and initialization
# Now a small study of how batch normalization interacts with the weight
# initialisation. An eight-layer network (seven hidden layers of 50 units) is trained
# with and without batch normalization for 20 weight scales between $10^{-4}$ and 1
# (5 scales in fast mode); the plots show the best training and validation accuracy
# and the final training loss against the scale. This is the longest experiment of the
# notebook (a few minutes in full mode).

# %%
ws_history = experiments.weight_scale(data, seed=231)
experiments.plot(ws_history)
plt.show()

# %% [markdown]
# ## Inline Question 1:
# Describe the results of this experiment. How does the weight initialization scale
# affect models with and without batch normalization differently, and why?

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* Without batch normalization the network trains only in a narrow band of
# scales (roughly $10^{-2}$ to $10^{-1}$). With smaller weights the activations shrink
# by a constant factor in each of the eight layers, so the scores are almost zero, the
# gradients that reach the first layers vanish and the network stays at chance
# accuracy (about 10%). With larger weights the activations grow layer after layer;
# the scores become huge, the softmax saturates and the final training loss explodes
# (to $10^5$ and more at scale 1). With batch normalization every hidden layer's
# input is re-standardised, so the scale of the weights no longer compounds through
# the depth: batch norm is invariant to a rescaling of the preceding weights,
# $\mathrm{BN}(aWx) = \mathrm{BN}(Wx)$. The normalised network therefore trains over
# the whole range, reaches a higher best accuracy almost everywhere, and its loss stays
# bounded. Only at the largest scales does it degrade too, because the first affine
# layer (before any normalisation) and the unnormalised last layer still see huge
# weights.
# ### END SOLUTION

# %% [markdown]
# ## Batch normalization and batch size
# Batch normalization estimates the mean and variance from the minibatch, so its
# behaviour depends on the batch size. Train the six-layer network with batch
# normalization at batch sizes 5, 10 and 50, and a baseline without normalization at
# batch size 5 (Adam, learning rate $10^{-3.5}$).

# %%
bs_history = experiments.batch_size(data, seed=231)
print(experiments.results_table(bs_history))
experiments.plot(bs_history)
plt.show()

# %% [markdown]
# ## Inline Question 2:
# Describe the results of this experiment. What does it imply about the relationship
# between batch normalization and batch size? Why is this relationship observed?

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* The larger the batch, the better batch normalization works: in the full
# run, with batch size 50 the normalised network fits the training data much faster
# than the baseline, at batch size 10 the advantage is gone (about the baseline's
# training accuracy), and at batch size 5 it is clearly worse than the unnormalised
# baseline trained with the same batch size (the shortened fast-mode run is too short
# to show this reliably). The reason is that the normalisation uses the batch mean and variance as
# estimates of the statistics of the whole data set. With 5 samples these estimates are
# very noisy: every example is normalised with statistics that depend strongly on the
# four other examples it happens to be batched with, which adds noise to the
# activations and gradients. At test time the layer switches to the running averages,
# which differ from the noisy batch statistics the network was trained with, so
# training and test behaviour disagree. Batch normalization therefore needs batches
# that are large enough for reliable statistics.
# ### END SOLUTION

# %% [markdown]
# # Layer Normalization
# Batch normalization needs reasonably large batches, which limits it where memory
# (large models, high-resolution inputs) or the structure of the model (recurrent
# networks, online learning) only allows small ones. Layer normalization [2]
# standardises each sample over its *features*:
#
# $$\mu_i = \frac{1}{D}\sum_{j=1}^D x_{ij}, \qquad
#   \sigma_i^2 = \frac{1}{D}\sum_{j=1}^D (x_{ij} - \mu_i)^2, \qquad
#   y_{ij} = \gamma_j \frac{x_{ij} - \mu_i}{\sqrt{\sigma_i^2 + \epsilon}} + \beta_j .$$
#
# The statistics never mix samples, so training and test time compute the same
# thing, there are no running averages, and the batch size does not matter.

# %% [markdown]
# ## Inline Question 3:
# Which of these data preprocessing steps is analogous to batch normalization, and which
# is analogous to layer normalization?
#
# 1. Scaling each image in the dataset, so that the RGB channels for each row of pixels
#    within an image sum up to 1.
# 2. Scaling each image in the dataset, so that the RGB channels for all pixels within an
#    image sum up to 1.
# 3. Subtracting the mean image of the dataset from each image in the dataset.
# 4. Setting all RGB values to either 0 or 1 depending on a given threshold.

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* **3 is analogous to batch normalization**: the mean image is a statistic of
# each feature (pixel and channel) computed across the examples of the data set, and
# it is subtracted feature by feature, just as batch normalization uses per-feature
# statistics computed across the batch. **2 is analogous to layer normalization**: each
# image is rescaled by a statistic of that image alone, computed over all of its
# features, as layer normalization uses per-sample statistics over all features.
# Option 1 normalises each image by statistics of a subset of its features (one row);
# it is a per-sample normalisation over groups of features, closer to group
# normalization than to either. Option 4 is a fixed thresholding, not a normalisation
# by any statistic.
# ### END SOLUTION

# %% [markdown]
# ## Layer normalization: forward pass
# Implement `layernorm_forward` in `cs231n/layers.py`. It is batch normalization of the
# transposed data $x^T$ (statistics of each sample over its features), except that
# $\gamma$ and $\beta$ still act per feature and no running statistics are kept: train
# and test are the same. After normalisation every *sample* (row) should have
# mean close to 0 and standard deviation close to 1 when $\gamma = 1, \beta = 0$.

# %%
N, D1, D2, D3 = 4, 50, 60, 3
X = rng.standard_normal((N, D1))
W1 = rng.standard_normal((D1, D2))
W2 = rng.standard_normal((D2, D3))
a = np.maximum(0, X.dot(W1)).dot(W2)

print("Before layer normalization (statistics per sample):")
print_mean_std(a, axis=1)

gamma, beta = np.ones(D3), np.zeros(D3)
print("After layer normalization (gamma=1, beta=0): means ~ 0, stds ~ 1")
a_norm, _ = layernorm_forward(a, gamma, beta, {"mode": "train"})
print_mean_std(a_norm, axis=1)
check("|mean|", np.abs(a_norm.mean(axis=1)).max(), 1e-10)
check("|std - 1|", np.abs(a_norm.std(axis=1) - 1).max(), 1e-4)

gamma, beta = np.asarray([3.0, 3.0, 3.0]), np.asarray([5.0, 5.0, 5.0])
print("After layer normalization (gamma=3, beta=5): means ~ 5, stds ~ 3")
a_norm, _ = layernorm_forward(a, gamma, beta, {"mode": "train"})
print_mean_std(a_norm, axis=1)

# %% [markdown]
# ## Layer normalization: backward pass
# Implement `layernorm_backward`. It is the batch-norm backward pass with the roles of
# the two axes swapped: the sums over the batch become sums over the features.

# %%
N, D = 4, 5
x = 5 * rng.standard_normal((N, D)) + 12
gamma = rng.standard_normal(D)
beta = rng.standard_normal(D)
dout = rng.standard_normal((N, D))

ln_param = {}
fx = lambda x: layernorm_forward(x, gamma, beta, ln_param)[0]
fg = lambda g: layernorm_forward(x, g, beta, ln_param)[0]
fb = lambda b: layernorm_forward(x, gamma, b, ln_param)[0]

dx_num = eval_numerical_gradient_array(fx, x, dout)
dgamma_num = eval_numerical_gradient_array(fg, gamma.copy(), dout)
dbeta_num = eval_numerical_gradient_array(fb, beta.copy(), dout)

_, cache = layernorm_forward(x, gamma, beta, ln_param)
dx, dgamma, dbeta = layernorm_backward(dout, cache)
check("dx error", rel_error(dx_num, dx), 1e-6)
check("dgamma error", rel_error(dgamma_num, dgamma), 1e-8)
check("dbeta error", rel_error(dbeta_num, dbeta), 1e-8)

# %% [markdown]
# ## Layer normalization and batch size
# Add layer normalization to `FullyConnectedNet` (`normalization="layernorm"`) and
# repeat the batch-size experiment with it.

# %%
ln_history = experiments.layernorm(data, seed=231)
print(experiments.results_table(ln_history))
experiments.plot(ln_history)
plt.show()

# %% [markdown]
# ## Inline Question 4:
# When is layer normalization likely to not work well, and why?
#
# 1. Using it in a very deep network
# 2. Having a very small dimension of features
# 3. Having a high regularization term

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* **2.** Layer normalization estimates a mean and a variance from the $D$
# features of each sample. With very few features these estimates are as noisy as
# batch statistics from a tiny batch (the experiment above shows what that does to
# batch normalization), and the normalisation removes a large part of the information
# of the sample: with $D = 2$, for example, every normalised sample is $(\pm 1, \mp 1)$.
# **3** can hurt as well: a strong L2 penalty shrinks the weights that feed each
# normalised layer. Layer normalization divides by the per-sample standard deviation,
# which shrinks with them, so at first nothing changes; but once $\sigma_i^2$ becomes
# comparable with $\epsilon$ the division no longer restores the scale, the normalised
# features collapse towards zero and the signal vanishes, while the unnormalised
# output layer is penalised as in any network. The network then underfits.
# **1** is not a problem: depth is where normalisation helps most, as the weight-scale
# experiment showed for batch normalization, and layer normalization keeps every
# layer's input standardised whatever the depth.
# ### END SOLUTION
