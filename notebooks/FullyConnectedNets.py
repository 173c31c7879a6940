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
# # Fully-Connected Neural Nets
#
# A fully connected network of any depth is built from a few *layers*, each a pair of
# functions: `forward` computes the output from the inputs and keeps in a `cache`
# what the backward pass needs; `backward` receives the upstream gradient
# $\partial L / \partial \text{out}$ and returns the gradients of the inputs (and
# weights). An affine layer and its backward pass, for example:
#
# $$\text{out} = x W + b, \qquad \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \text{out}} W^\top,
#   \qquad \frac{\partial L}{\partial W} = x^\top \frac{\partial L}{\partial \text{out}},
#   \qquad \frac{\partial L}{\partial b} = \sum_i \frac{\partial L}{\partial \text{out}_i}.$$
#
# `FullyConnectedNet` stacks $L - 1$ hidden blocks {affine - [normalization] - ReLU -
# [dropout]} and a final affine layer, and is trained with the softmax loss plus L2
# regularisation of the weights:
#
# $$L = \frac{1}{N}\sum_{i=1}^N -\log\frac{e^{s_{i y_i}}}{\sum_c e^{s_{ic}}}
#   + \frac{\lambda}{2}\sum_{l=1}^{L} \|W_l\|^2 .$$
#
# The `Solver` (`cs231n/solver.py`) runs the training loop; the update rules it uses
# live in `cs231n/optim.py`.
#
# **How to use this notebook.** Implement `FullyConnectedNet` in
# `cs231n/classifiers/fc_net.py` and the update rules `sgd_momentum`, `rmsprop` and
# `adam` in `cs231n/optim.py`; the cells below check them and run the experiments.
# Set `CS231N_FAST=1` before starting Jupyter for a shortened run; the default is the
# full experiment.

# %%
# Setup
import matplotlib.pyplot as plt
import numpy as np

from cs231n import experiments
from cs231n.classifiers.fc_net import FullyConnectedNet
from cs231n.data_utils import get_CIFAR10_data
from cs231n.gradient_check import eval_numerical_gradient, rel_error
from cs231n.optim import adam, rmsprop, sgd_momentum
from cs231n.solver import Solver

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
# Load CIFAR-10 (as float32, the dtype the networks compute in). With the full data
# set this is the assignment's split (49,000 / 1,000 / 1,000); with a smaller copy
# (such as the CI subset) the loader warns and returns what there is.

# %%
data = get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, dtype=np.float32)
for k, v in data.items():
    print(f"{k}: {v.shape}")

# %% [markdown]
# ## Initial loss and gradient check
# Implement `FullyConnectedNet`. As a sanity check, the initial loss of a network with
# small random weights should be close to $\ln C$ for $C$ classes ($\ln 10 \approx
# 2.3$ here), and higher with regularisation. The gradients are then checked
# numerically; the relative errors should be around 1e-7 or less (up to about 1e-5 for
# the first weight matrices, whose centred differences may straddle a ReLU kink).

# %%
N, D, H1, H2, C = 2, 15, 20, 30, 10
X = rng.standard_normal((N, D))
y = rng.integers(C, size=N)

for reg in [0, 3.14]:
    print(f"Running check with reg = {reg}")
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2,
                              dtype=np.float64, seed=231)
    loss, grads = model.loss(X, y)
    print(f"Initial loss: {loss:.4f}")
    for name in sorted(grads):
        f = lambda _: model.loss(X, y)[0]
        grad_num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
        check(f"{name} relative error", rel_error(grad_num, grads[name]),
              1e-5 if name.startswith("W") else 1e-7)
    print()

# %% [markdown]
# ## Overfit 50 examples: three-layer net
# A network that can represent the training data should be able to memorise a tiny set
# of it. Use a three-layer network (two hidden layers of 100 units) to reach 100%
# training accuracy on 50 images within 20 epochs of SGD, by tuning only the learning
# rate and the initialisation scale.

# %%
num_train = 50
small_data = {
    "X_train": data["X_train"][:num_train], "y_train": data["y_train"][:num_train],
    "X_val": data["X_val"], "y_val": data["y_val"],
}

weight_scale = 1e-3    # Experiment with this!
learning_rate = 1e-4   # Experiment with this!
# TODO: Choose the weight scale and the SGD learning rate so that the three-layer net
# reaches 100% training accuracy within 20 epochs.
### BEGIN SOLUTION
weight_scale = 1e-2
learning_rate = 1e-2
### END SOLUTION
model = FullyConnectedNet([100, 100], weight_scale=weight_scale, dtype=np.float64, seed=231)
solver = Solver(model, small_data, print_every=10, num_epochs=20, batch_size=25,
                update_rule="sgd", optim_config={"learning_rate": learning_rate}, seed=231)
solver.train()
print(f"final training accuracy: {solver.train_acc_history[-1]:.2f} (the goal: 1.00)")

plt.plot(solver.loss_history)
plt.title("Training loss history (three-layer net)")
plt.xlabel("Iteration")
plt.ylabel("Training loss")
plt.grid(linestyle="--", linewidth=0.5)
plt.show()

# %% [markdown]
# ## Overfit 50 examples: five-layer net
# The same with a five-layer network (four hidden layers of 100 units).

# %%
weight_scale = 1e-3    # Experiment with this!
learning_rate = 1e-4   # Experiment with this!
# TODO: Choose the weight scale and the SGD learning rate so that the five-layer net
# reaches 100% training accuracy within 20 epochs.
### BEGIN SOLUTION
weight_scale = 1e-1
learning_rate = 2e-3
### END SOLUTION
model = FullyConnectedNet([100, 100, 100, 100], weight_scale=weight_scale, dtype=np.float64,
                          seed=231)
solver = Solver(model, small_data, print_every=10, num_epochs=20, batch_size=25,
                update_rule="sgd", optim_config={"learning_rate": learning_rate}, seed=231)
solver.train()
print(f"final training accuracy: {solver.train_acc_history[-1]:.2f} (the goal: 1.00)")

plt.plot(solver.loss_history)
plt.title("Training loss history (five-layer net)")
plt.xlabel("Iteration")
plt.ylabel("Training loss")
plt.grid(linestyle="--", linewidth=0.5)
plt.show()

# %% [markdown]
# ## Inline Question 1:
# Did you notice anything about the comparative difficulty of training the three-layer
# network vs. training the five-layer network? In particular, based on your experience,
# which network seemed more sensitive to the initialization scale? Why do you think
# that is the case?

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* The five-layer network is much more sensitive to the initialisation scale.
# The three-layer net memorises the 50 images for a wide range of weight scales and
# learning rates; the five-layer net works only in a narrow band (around weight scale
# 0.1 here): a little smaller and the loss does not move for many epochs, a little
# larger and the loss explodes. The signal passes through one more matrix product per
# layer, so its scale is multiplied by roughly the same factor (depending on the
# weight scale and the layer width) at every layer, in the forward pass and again for
# the gradients in the backward pass. With five layers a factor slightly below one
# makes the scores and the gradients of the first layers vanish, and a factor slightly
# above one makes them explode; the effect compounds exponentially with depth, so the
# deeper network tolerates a much smaller range of scales (and of learning rates,
# which must fit the resulting gradient size).
# ### END SOLUTION

# %% [markdown]
# # Update rules
# So far the updates were vanilla SGD, $w \leftarrow w - \alpha\, \nabla_w L$. Better
# rules make deep networks train much faster.
#
# ## SGD + Momentum
# Momentum keeps a velocity $v$, an exponentially decaying sum of past gradients, and
# moves along it, which damps oscillations across steep directions and accelerates
# along consistent ones ($\mu = 0.9$ by default):
#
# $$v \leftarrow \mu v - \alpha\, \nabla_w L, \qquad w \leftarrow w + v .$$
#
# Implement `sgd_momentum` in `cs231n/optim.py`. The expected values below are computed
# from the equations directly; the errors should be around 1e-8 or less.

# %%
N, D = 4, 5
w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)

config = {"learning_rate": 1e-3, "velocity": v.copy()}
next_w, _ = sgd_momentum(w, dw, config=config)

expected_velocity = 0.9 * v - 1e-3 * dw
expected_next_w = w + expected_velocity
check("next_w error", rel_error(next_w, expected_next_w), 1e-8)
check("velocity error", rel_error(expected_velocity, config["velocity"]), 1e-8)

# %% [markdown]
# Train a six-layer network (five hidden layers of 100 units, weight scale 5e-2) with
# SGD and with SGD + momentum (learning rate 5e-3), and, further below, with RMSProp
# and Adam. All four runs start from the same weights and see the same minibatches: the
# update rule is the only difference. SGD + momentum should converge faster than SGD.
# The experiment is `cs231n.experiments.update_rules` (also
# `python -m cs231n experiment update_rules`); its figure comes after the RMSProp and
# Adam checks.

# %% [markdown]
# ## RMSProp and Adam
# RMSProp [1] divides each step by a running average of the squared gradient, so every
# parameter gets its own effective learning rate ($\rho = 0.99$, $\epsilon = 10^{-8}$):
#
# $$c \leftarrow \rho\, c + (1 - \rho)\, (\nabla_w L)^2, \qquad
#   w \leftarrow w - \alpha \frac{\nabla_w L}{\sqrt{c} + \epsilon} .$$
#
# Adam [2] combines this with momentum and corrects the bias of the averages, which
# start at zero ($\beta_1 = 0.9$, $\beta_2 = 0.999$; $t$ counts the steps and is
# incremented before use):
#
# $$m \leftarrow \beta_1 m + (1 - \beta_1) \nabla_w L, \quad
#   v \leftarrow \beta_2 v + (1 - \beta_2) (\nabla_w L)^2, \quad
#   \hat m = \frac{m}{1 - \beta_1^t}, \quad \hat v = \frac{v}{1 - \beta_2^t}, \quad
#   w \leftarrow w - \alpha \frac{\hat m}{\sqrt{\hat v} + \epsilon} .$$
#
# Implement `rmsprop` and `adam` in `cs231n/optim.py`. The errors should be around
# 1e-7 or less.
#
# [1] Tijmen Tieleman and Geoffrey Hinton, "Lecture 6.5 - rmsprop: Divide the gradient
# by a running average of its recent magnitude", COURSERA: Neural Networks for Machine
# Learning, 2012.
# [2] Diederik Kingma and Jimmy Ba, "Adam: A Method for Stochastic Optimization",
# ICLR 2015.

# %%
N, D = 4, 5
w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
cache = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)

config = {"learning_rate": 1e-2, "cache": cache.copy()}
next_w, _ = rmsprop(w, dw, config=config)

expected_cache = 0.99 * cache + 0.01 * dw ** 2
expected_next_w = w - 1e-2 * dw / (np.sqrt(expected_cache) + 1e-8)
check("RMSProp next_w error", rel_error(expected_next_w, next_w), 1e-7)
check("RMSProp cache error", rel_error(expected_cache, config["cache"]), 1e-7)

# %%
m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)

config = {"learning_rate": 1e-2, "m": m.copy(), "v": v.copy(), "t": 5}
next_w, _ = adam(w, dw, config=config)

t = 6
expected_m = 0.9 * m + 0.1 * dw
expected_v = 0.999 * v + 0.001 * dw ** 2
m_hat = expected_m / (1 - 0.9 ** t)
v_hat = expected_v / (1 - 0.999 ** t)
expected_next_w = w - 1e-2 * m_hat / (np.sqrt(v_hat) + 1e-8)
check("Adam next_w error", rel_error(expected_next_w, next_w), 1e-7)
check("Adam v error", rel_error(expected_v, config["v"]), 1e-7)
check("Adam m error", rel_error(expected_m, config["m"]), 1e-7)
print(f"Adam t: {config['t']} (expect {t})")

# %% [markdown]
# Now train the six-layer network with all four rules: 4000 training images (1000 in
# fast mode; a smaller copy of the data set gives what it holds), 5 epochs (2 in fast
# mode), batch size 100, learning rates 5e-3 (SGD, SGD + momentum), 1e-4 (RMSProp) and
# 1e-3 (Adam).

# %%
ur_history = experiments.update_rules(data, seed=231)
print(experiments.results_table(ur_history))
experiments.plot(ur_history)
plt.show()

# %% [markdown]
# ## Inline Question 2:
# AdaGrad, like Adam, is a per-parameter optimization method that uses the following
# update rule:
#
# ```
# cache += dw**2
# w += - learning_rate * dw / (np.sqrt(cache) + eps)
# ```
#
# John notices that when he was training a network with AdaGrad that the updates
# became very small, and that his network was learning slowly. Using your knowledge of
# the AdaGrad update rule, why do you think the updates would become very small? Would
# Adam have the same issue?

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* AdaGrad's `cache` is a *sum* of all squared gradients seen so far. It can
# only grow: after $t$ steps with gradients of typical size $g$ it is about $t g^2$, so
# the step $\alpha\, g / \sqrt{t g^2} = \alpha / \sqrt{t}$ shrinks like $1/\sqrt{t}$
# whatever the gradients do. The effective learning rate decays towards zero and
# learning stalls long before a good solution is reached, especially in non-convex
# problems such as neural networks. Adam does not have this issue: its second-moment
# estimate $v$ is an exponentially decaying *average* ($\beta_2 = 0.999$), which
# forgets old gradients and tracks the current gradient size, so the step stays about
# $\alpha\, \hat m / \sqrt{\hat v}$, of order $\alpha$, for the whole run (RMSProp
# fixes AdaGrad in the same way; Adam adds momentum and bias correction).
# ### END SOLUTION

# %% [markdown]
# # Train a good model
# Train the best fully connected model you can on CIFAR-10 and store it in
# `best_model`. Batch normalization and dropout help (see the other notebooks). With
# the full training set, aim for at least 50% validation accuracy; with a smaller copy
# of the data the accuracy will be lower. Fast mode trains on 1000 images for 2 epochs.

# %%
best_model = None
n_train = 1000 if FAST else len(data["y_train"])
train_data = {
    "X_train": data["X_train"][:n_train], "y_train": data["y_train"][:n_train],
    "X_val": data["X_val"], "y_val": data["y_val"],
}
# TODO: Train the best FullyConnectedNet you can on train_data and store it in
# best_model (tune the architecture, normalization, dropout and the Solver's settings).
### BEGIN SOLUTION
# No seed: weights and dropout masks come from numpy's global state (seeded above), so
# every step drops other units (an int seed would drop the same ones at every step).
best_model = FullyConnectedNet([256, 128], normalization="batchnorm", dropout_keep_ratio=0.5,
                               weight_scale=5e-2)
solver = Solver(best_model, train_data, num_epochs=2 if FAST else 10, batch_size=100,
                update_rule="adam", optim_config={"learning_rate": 1e-3}, lr_decay=0.95,
                verbose=False, seed=231)
solver.train()
### END SOLUTION

# %% [markdown]
# ## Test the model
# Run the best model on the validation and test sets.

# %%
y_val_pred = np.argmax(best_model.loss(data["X_val"]), axis=1)
y_test_pred = np.argmax(best_model.loss(data["X_test"]), axis=1)
print(f"Validation set accuracy: {(y_val_pred == data['y_val']).mean():.3f}")
print(f"Test set accuracy:       {(y_test_pred == data['y_test']).mean():.3f}")
