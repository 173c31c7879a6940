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
# # Convolutional Networks
#
# So far the networks were fully connected: every unit looks at the whole image, and
# nothing tells the network that nearby pixels belong together or that a cat is a cat
# wherever it appears. A convolutional layer slides small filters over the image and
# shares their weights between positions. For an input $x$ of shape $(N, C, H, W)$,
# filters $w$ of shape $(F, C, H_w, W_w)$, biases $b$ of shape $(F,)$, stride $s$
# and zero padding $P$ on every side ($x_p$ is the padded input):
#
# $$\text{out}[n, f, i, j] = b_f + \sum_{c=1}^{C}\sum_{k=1}^{H_w}\sum_{l=1}^{W_w}
#   w[f, c, k, l]\; x_p[n, c, i s + k, j s + l],$$
#
# $$H' = 1 + \frac{H + 2P - H_w}{s}, \qquad W' = 1 + \frac{W + 2P - W_w}{s}.$$
#
# Max pooling with a $p_h \times p_w$ window and stride $s$ keeps the largest value of
# each window, $\text{out}[n, c, i, j] = \max_{k < p_h,\, l < p_w} x[n, c, i s + k,
# j s + l]$; its backward pass sends the gradient to the position of that maximum.
#
# This notebook checks the naive and fast convolution and pooling layers, the
# three-layer convolutional network, and the spatial versions of batch and group
# normalization, and compares them in training.
#
# **How to use this notebook.** Implement the layers in `cs231n/layers.py`
# (`conv_forward_naive`, `conv_backward_naive`, `max_pool_forward_naive`,
# `max_pool_backward_naive`, `spatial_batchnorm_forward/backward`,
# `spatial_groupnorm_forward/backward`) and `ThreeLayerConvNet` in
# `cs231n/classifiers/cnn.py`. The fast layers (`cs231n/fast_layers.py`, pure numpy,
# nothing to compile) are given. Set `CS231N_FAST=1` before starting Jupyter for a
# shortened run; the default is the full experiment.

# %%
# Setup
import time

import matplotlib.pyplot as plt
import numpy as np

from cs231n import experiments
from cs231n.classifiers.cnn import ThreeLayerConvNet
from cs231n.data_utils import find_cifar10_dir, get_CIFAR10_data, load_CIFAR_batch
from cs231n.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from cs231n.layer_utils import (
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from cs231n.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from cs231n.solver import Solver
from cs231n.vis_utils import visualize_grid

# %matplotlib inline
plt.rcParams["figure.figsize"] = (10.0, 8.0)
plt.rcParams["image.interpolation"] = "nearest"
plt.rcParams["image.cmap"] = "gray"

FAST = experiments.is_fast()
print("CS231N_FAST=1: shortened experiments" if FAST else "full experiments")
np.random.seed(231)  # as in the course: what the kit draws without a seed repeats
rng = np.random.default_rng(231)  # the test inputs below come from this generator


def check(name, error, expected):
    """Print an error next to the magnitude a correct implementation reaches."""
    verdict = "ok" if error <= expected else "TOO LARGE - check your code"
    print(f"{name:>28s}: {error:.2e}   (should be below {expected:.0e})  {verdict}")


def print_mean_std(x, axes):
    print(f"  means: {x.mean(axis=axes)}")
    print(f"  stds:  {x.std(axis=axes)}\n")


# %% [markdown]
# Load CIFAR-10 (as float32, the dtype the networks compute in). With the full data
# set this is the assignment's split (49,000 / 1,000 / 1,000); with a smaller copy
# (such as the CI subset) the loader warns and returns what there is.

# %%
data = get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, dtype=np.float32)
for k, v in data.items():
    print(f"{k}: {v.shape}")

# %% [markdown]
# ## Convolution: naive forward pass
# Implement `conv_forward_naive` with explicit loops; clarity matters more than speed
# here. The expected output below was computed independently (PyTorch's `conv2d` in
# float64, rounded to 8 decimals), so the difference should be around 1e-8.

# %%
x_shape = (2, 3, 4, 4)
w_shape = (3, 3, 4, 4)
x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
b = np.linspace(-0.1, 0.2, num=3)

conv_param = {"stride": 2, "pad": 1}
out, _ = conv_forward_naive(x, w, b, conv_param)
correct_out = np.array([[[[-0.08759809, -0.10987781],
                          [-0.18387192, -0.2109216]],
                         [[0.21027089, 0.21661097],
                          [0.22847626, 0.23004637]],
                         [[0.50813986, 0.54309974],
                          [0.64082444, 0.67101435]]],
                        [[[-0.98053589, -1.03143541],
                          [-1.19128892, -1.24695841]],
                         [[0.69108355, 0.66880383],
                          [0.59480972, 0.56776003]],
                         [[2.36270298, 2.36904306],
                          [2.38090835, 2.38247847]]]])
check("conv forward difference", rel_error(out, correct_out), 1e-7)

# %% [markdown]
# ## Aside: image processing via convolutions
# A convolution with hand-made filters is classic image processing. Two filters applied
# to two CIFAR-10 test images: the first turns the colour image into a grey-scale one
# (a weighted sum of the three channels at each pixel), the second responds to
# horizontal edges (a Sobel filter on the grey level, plus a bias of 128 so that
# "no edge" shows as mid-grey).

# %%
X_raw, y_raw = load_CIFAR_batch(find_cifar10_dir() / "test_batch")
cat, dog = int(np.argmax(y_raw == 3)), int(np.argmax(y_raw == 5))  # labels 3 = cat, 5 = dog
images = X_raw[[cat, dog]].transpose(0, 3, 1, 2)  # (2, 3, 32, 32)

w = np.zeros((2, 3, 3, 3))
w[0, :, 1, 1] = [0.3, 0.6, 0.1]                  # grey level of the centre pixel
sobel = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=float)
w[1] = sobel[None] * np.array([0.3, 0.6, 0.1])[:, None, None]
b = np.array([0.0, 128.0])
out, _ = conv_forward_naive(images, w, b, {"stride": 1, "pad": 1})


def imshow_no_ax(img, normalize=True):
    """Show an image without axes; normalise its values to 0..255 unless told not to."""
    if normalize:
        lo, hi = img.min(), img.max()
        img = 255.0 * (img - lo) / (hi - lo)
    plt.imshow(img.astype("uint8"))
    plt.gca().axis("off")


for row in range(2):
    plt.subplot(2, 3, 3 * row + 1)
    imshow_no_ax(X_raw[[cat, dog][row]], normalize=False)
    plt.title("original" if row == 0 else "")
    plt.subplot(2, 3, 3 * row + 2)
    imshow_no_ax(out[row, 0])
    plt.title("grey scale" if row == 0 else "")
    plt.subplot(2, 3, 3 * row + 3)
    imshow_no_ax(out[row, 1])
    plt.title("horizontal edges" if row == 0 else "")
plt.show()

# %% [markdown]
# ## Convolution: naive backward pass
# Implement `conv_backward_naive`. Each output value is a dot product of one filter
# with one window, so its gradient flows back into that window of `x` (weighted by the
# filter), into the filter (weighted by the window), and into the bias. The
# relative errors should be around 1e-8 or less.

# %%
x = rng.standard_normal((4, 3, 5, 5))
w = rng.standard_normal((2, 3, 3, 3))
b = rng.standard_normal(2)
dout = rng.standard_normal((4, 2, 5, 5))
conv_param = {"stride": 1, "pad": 1}

fx = lambda x: conv_forward_naive(x, w, b, conv_param)[0]
fw = lambda w: conv_forward_naive(x, w, b, conv_param)[0]
fb = lambda b: conv_forward_naive(x, w, b, conv_param)[0]
dx_num = eval_numerical_gradient_array(fx, x, dout)
dw_num = eval_numerical_gradient_array(fw, w, dout)
db_num = eval_numerical_gradient_array(fb, b, dout)

out, cache = conv_forward_naive(x, w, b, conv_param)
dx, dw, db = conv_backward_naive(dout, cache)
check("dx error", rel_error(dx, dx_num), 1e-7)
check("dw error", rel_error(dw, dw_num), 1e-7)
check("db error", rel_error(db, db_num), 1e-7)

# %% [markdown]
# ## Max pooling: naive forward pass
# Implement `max_pool_forward_naive`. The expected output was computed independently
# (PyTorch's `max_pool2d`); the difference should be around 1e-8.

# %%
x_shape = (2, 3, 4, 4)
x = np.linspace(-0.3, 0.4, num=np.prod(x_shape)).reshape(x_shape)
pool_param = {"pool_width": 2, "pool_height": 2, "stride": 2}

out, _ = max_pool_forward_naive(x, pool_param)
correct_out = np.array([[[[-0.26315789, -0.24842105],
                          [-0.20421053, -0.18947368]],
                         [[-0.14526316, -0.13052632],
                          [-0.08631579, -0.07157895]],
                         [[-0.02736842, -0.01263158],
                          [0.03157895, 0.04631579]]],
                        [[[0.09052632, 0.10526316],
                          [0.14947368, 0.16421053]],
                         [[0.20842105, 0.22315789],
                          [0.26736842, 0.28210526]],
                         [[0.32631579, 0.34105263],
                          [0.38526316, 0.4]]]])
check("max pool forward difference", rel_error(out, correct_out), 1e-7)

# %% [markdown]
# ## Max pooling: naive backward pass
# Implement `max_pool_backward_naive`. The relative error should be around 1e-12.

# %%
x = rng.standard_normal((3, 2, 8, 8))
dout = rng.standard_normal((3, 2, 4, 4))
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

dx_num = eval_numerical_gradient_array(lambda x: max_pool_forward_naive(x, pool_param)[0], x, dout)
out, cache = max_pool_forward_naive(x, pool_param)
dx = max_pool_backward_naive(dout, cache)
check("dx error", rel_error(dx, dx_num), 1e-10)

# %% [markdown]
# ## Fast layers
# The naive layers loop in Python and are slow. `cs231n/fast_layers.py` computes the
# same thing with a few large numpy operations: the convolution gathers every input
# window into a column matrix (*im2col*, a strided view, no copy in Python loops) and
# multiplies it by the filter matrix; max pooling takes maxima of strided views. They
# are pure numpy, so there is nothing to compile. Compare them with your naive
# versions: the differences should be around 1e-10 or less (they only sum in another
# order), and the fast versions many times faster. (Fast mode uses 10 instead of 100 images.)

# %%
n_images = 10 if FAST else 100
x = rng.standard_normal((n_images, 3, 31, 31))
w = rng.standard_normal((25, 3, 3, 3))
b = rng.standard_normal(25)
dout = rng.standard_normal((n_images, 25, 16, 16))
conv_param = {"stride": 2, "pad": 1}

t0 = time.perf_counter()
out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
t1 = time.perf_counter()
out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
t2 = time.perf_counter()
print("Testing conv_forward_fast:")
print(f"  naive: {t1 - t0:.4f} s, fast: {t2 - t1:.4f} s, speedup: {(t1 - t0) / (t2 - t1):.0f}x")
check("forward difference", rel_error(out_naive, out_fast), 1e-9)

t0 = time.perf_counter()
dx_naive, dw_naive, db_naive = conv_backward_naive(dout, cache_naive)
t1 = time.perf_counter()
dx_fast, dw_fast, db_fast = conv_backward_fast(dout, cache_fast)
t2 = time.perf_counter()
print("Testing conv_backward_fast:")
print(f"  naive: {t1 - t0:.4f} s, fast: {t2 - t1:.4f} s, speedup: {(t1 - t0) / (t2 - t1):.0f}x")
check("dx difference", rel_error(dx_naive, dx_fast), 1e-9)
check("dw difference", rel_error(dw_naive, dw_fast), 1e-9)
check("db difference", rel_error(db_naive, db_fast), 1e-9)

# %%
x = rng.standard_normal((n_images, 3, 32, 32))
dout = rng.standard_normal((n_images, 3, 16, 16))
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

t0 = time.perf_counter()
out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
t1 = time.perf_counter()
out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
t2 = time.perf_counter()
print("Testing max_pool_forward_fast:")
print(f"  naive: {t1 - t0:.4f} s, fast: {t2 - t1:.4f} s, speedup: {(t1 - t0) / (t2 - t1):.0f}x")
check("forward difference", rel_error(out_naive, out_fast), 1e-12)

t0 = time.perf_counter()
dx_naive = max_pool_backward_naive(dout, cache_naive)
t1 = time.perf_counter()
dx_fast = max_pool_backward_fast(dout, cache_fast)
t2 = time.perf_counter()
print("Testing max_pool_backward_fast:")
print(f"  naive: {t1 - t0:.4f} s, fast: {t2 - t1:.4f} s, speedup: {(t1 - t0) / (t2 - t1):.0f}x")
check("dx difference", rel_error(dx_naive, dx_fast), 1e-12)

# %% [markdown]
# ## Convolutional "sandwich" layers
# `cs231n/layer_utils.py` chains the fast layers into the blocks networks are built
# from. Check them numerically; the errors should be around 1e-8 or less (up to about
# 1e-6 for `dx` of the pooling sandwich: its ReLU and max kinks cost the centred
# differences some digits).

# %%
x = rng.standard_normal((2, 3, 16, 16))
w = rng.standard_normal((3, 3, 3, 3))
b = rng.standard_normal(3)
dout = rng.standard_normal((2, 3, 8, 8))
conv_param = {"stride": 1, "pad": 1}
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

out, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
dx, dw, db = conv_relu_pool_backward(dout, cache)
fx = lambda x: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0]
fw = lambda w: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0]
fb = lambda b: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0]
dx_num = eval_numerical_gradient_array(fx, x, dout)
dw_num = eval_numerical_gradient_array(fw, w, dout)
db_num = eval_numerical_gradient_array(fb, b, dout)
print("conv_relu_pool:")
check("dx error", rel_error(dx_num, dx), 1e-6)
check("dw error", rel_error(dw_num, dw), 1e-7)
check("db error", rel_error(db_num, db), 1e-7)

x = rng.standard_normal((2, 3, 8, 8))
w = rng.standard_normal((3, 3, 3, 3))
b = rng.standard_normal(3)
dout = rng.standard_normal((2, 3, 8, 8))
out, cache = conv_relu_forward(x, w, b, conv_param)
dx, dw, db = conv_relu_backward(dout, cache)
fx = lambda x: conv_relu_forward(x, w, b, conv_param)[0]
fw = lambda w: conv_relu_forward(x, w, b, conv_param)[0]
fb = lambda b: conv_relu_forward(x, w, b, conv_param)[0]
dx_num = eval_numerical_gradient_array(fx, x, dout)
dw_num = eval_numerical_gradient_array(fw, w, dout)
db_num = eval_numerical_gradient_array(fb, b, dout)
print("conv_relu:")
check("dx error", rel_error(dx_num, dx), 1e-7)
check("dw error", rel_error(dw_num, dw), 1e-7)
check("db error", rel_error(db_num, db), 1e-7)

# %% [markdown]
# ## Three-layer convolutional network
# Implement `ThreeLayerConvNet` in `cs231n/classifiers/cnn.py`:
# conv - relu - 2x2 max pool - affine - relu - affine - softmax.
#
# **Sanity check of the loss.** With small random weights the scores are almost equal,
# so the softmax loss of a 10-class problem should be close to $\ln 10 \approx 2.303$;
# adding regularisation should make it go up a little.

# %%
model = ThreeLayerConvNet(seed=231)
N = 50
X = rng.standard_normal((N, 3, 32, 32))
y = rng.integers(10, size=N)

loss, grads = model.loss(X, y)
print(f"Initial loss (no regularization): {loss:.4f}  (expect about {np.log(10):.4f})")
check("|loss - ln 10|", abs(loss - np.log(10)), 0.05)
model.reg = 0.5
loss_reg, grads = model.loss(X, y)
print(f"Initial loss (with regularization): {loss_reg:.4f}  (expect a little more)")

# %% [markdown]
# **Gradient check** on a small float64 network. The check uses weight scale 0.1 (the
# default 1e-3 makes the activations as small as the finite-difference step, and the
# step then crosses ReLU kinks everywhere). The errors should be around 1e-6 or less.
# If one parameter shows an error near 1 while the others are tiny, a step crossed a
# kink: draw new inputs and check again.

# %%
num_inputs = 2
input_dim = (3, 16, 16)
reg = 0.0
num_classes = 10
X = rng.standard_normal((num_inputs, *input_dim))
y = rng.integers(num_classes, size=num_inputs)

model = ThreeLayerConvNet(num_filters=3, filter_size=3, input_dim=input_dim, hidden_dim=7,
                          weight_scale=0.1, dtype=np.float64, reg=reg, seed=231)
loss, grads = model.loss(X, y)
for name in sorted(model.params):
    f = lambda _: model.loss(X, y)[0]
    param_grad_num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
    check(f"{name} max relative error", rel_error(param_grad_num, grads[name]), 1e-6)

# %% [markdown]
# **Overfit a small data set.** With only 100 training images the network should
# reach a high training accuracy quickly while the validation accuracy stays low:
# it memorises.

# %%
num_train = 100
small_data = {
    "X_train": data["X_train"][:num_train], "y_train": data["y_train"][:num_train],
    "X_val": data["X_val"], "y_val": data["y_val"],
}
model = ThreeLayerConvNet(weight_scale=1e-2, seed=231)
solver = Solver(model, small_data, num_epochs=8 if FAST else 15, batch_size=50,
                update_rule="adam", optim_config={"learning_rate": 1e-3},
                num_val_samples=200 if FAST else None, verbose=True, print_every=1000, seed=231)
solver.train()
print(f"Final training accuracy: {solver.train_acc_history[-1]:.3f} "
      f"(expect 0.8 or more in the full run), best validation accuracy: {solver.best_val_acc:.3f}")

# %%
plt.subplot(2, 1, 1)
plt.plot(solver.loss_history, "o")
plt.xlabel("iteration")
plt.ylabel("loss")
plt.subplot(2, 1, 2)
plt.plot(solver.train_acc_history, "-o", label="train")
plt.plot(solver.val_acc_history, "-o", label="val")
plt.legend(loc="upper left")
plt.xlabel("epoch")
plt.ylabel("accuracy")
plt.show()

# %% [markdown]
# **Train the net.** One epoch over the whole training set (500 images in fast mode),
# hidden layer of 500 units. With the full CIFAR-10 training set this reaches more than
# 40% validation accuracy; with a smaller copy of the data the accuracy is lower.

# %%
n_train = 500 if FAST else len(data["y_train"])
train_data = {
    "X_train": data["X_train"][:n_train], "y_train": data["y_train"][:n_train],
    "X_val": data["X_val"], "y_val": data["y_val"],
}
model = ThreeLayerConvNet(weight_scale=0.001, hidden_dim=500, reg=0.001, seed=231)
solver = Solver(model, train_data, num_epochs=1, batch_size=50, update_rule="adam",
                optim_config={"learning_rate": 1e-3}, verbose=True, print_every=200, seed=231)
solver.train()
print(f"Trained on {n_train} images: best validation accuracy {solver.best_val_acc:.3f}")

# %% [markdown]
# **Visualize the filters** of the first layer. After training on the full data they
# show oriented edges and colour blobs.

# %%
grid = visualize_grid(model.params["W1"].transpose(0, 2, 3, 1))
plt.imshow(grid.astype("uint8"))
plt.axis("off")
plt.gcf().set_size_inches(5, 5)
plt.show()

# %% [markdown]
# # Spatial Batch Normalization
# Batch normalization for convolutional layers must respect the convolution: a filter
# computes the same feature at every position, so all positions of a channel should be
# normalised alike. Spatial batch normalization therefore takes, for an input of shape
# $(N, C, H, W)$, one mean and one variance per *channel*, over the batch and all
# positions:
#
# $$\mu_c = \frac{1}{NHW}\sum_{n,h,w} x_{nchw}, \qquad
#   \sigma_c^2 = \frac{1}{NHW}\sum_{n,h,w} (x_{nchw} - \mu_c)^2, \qquad
#   y_{nchw} = \gamma_c\,\frac{x_{nchw} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c,$$
#
# with running averages for test time exactly as in batch normalization.
#
# ## Spatial batch normalization: forward pass
# Implement `spatial_batchnorm_forward` in `cs231n/layers.py`: a few lines on top of
# your `batchnorm_forward`. Move the channel axis last (`x.transpose(0, 2, 3, 1)`),
# reshape to $(N \cdot H \cdot W, C)$ so that every pixel is a row and every channel a
# feature, call your batch norm and bring the result back to $(N, C, H, W)$ (a plain
# reshape without the transpose would mix channels). Each channel should end with mean
# close to $\beta$ and standard deviation close to $\gamma$.

# %%
N, C, H, W = 2, 3, 4, 5
x = 4 * rng.standard_normal((N, C, H, W)) + 10

print("Before spatial batch normalization:")
print(f"  shape: {x.shape}")
print_mean_std(x, axes=(0, 2, 3))

gamma, beta = np.ones(C), np.zeros(C)
bn_param = {"mode": "train"}
out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
print("After spatial batch normalization (gamma=1, beta=0): means ~ 0, stds ~ 1")
print(f"  shape: {out.shape}")
print_mean_std(out, axes=(0, 2, 3))

gamma, beta = np.asarray([3.0, 4.0, 5.0]), np.asarray([6.0, 7.0, 8.0])
out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
print("After spatial batch normalization (gamma=[3, 4, 5], beta=[6, 7, 8]): means ~ beta, stds ~ gamma")
print_mean_std(out, axes=(0, 2, 3))
check("|mean - beta|", np.abs(out.mean(axis=(0, 2, 3)) - beta).max(), 1e-10)
check("|std - gamma| / gamma", np.abs(out.std(axis=(0, 2, 3)) / gamma - 1).max(), 1e-4)

# %% [markdown]
# Test time: warm up the running averages with training-mode passes, then normalise a
# new batch in test mode. Means close to 0 and standard deviations close to 1 (noisier).

# %%
N, C, H, W = 10, 4, 11, 12
bn_param = {"mode": "train"}
gamma, beta = np.ones(C), np.zeros(C)
for t in range(50):
    x = 2.3 * rng.standard_normal((N, C, H, W)) + 13
    spatial_batchnorm_forward(x, gamma, beta, bn_param)
bn_param["mode"] = "test"
x = 2.3 * rng.standard_normal((N, C, H, W)) + 13
a_norm, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)

print("After spatial batch normalization (test time): means ~ 0, stds ~ 1")
print_mean_std(a_norm, axes=(0, 2, 3))
check("|mean|", np.abs(a_norm.mean(axis=(0, 2, 3))).max(), 0.1)
check("|std - 1|", np.abs(a_norm.std(axis=(0, 2, 3)) - 1).max(), 0.1)

# %% [markdown]
# ## Spatial batch normalization: backward pass
# Implement `spatial_batchnorm_backward` the same way, with your
# `batchnorm_backward_alt` on the $(N \cdot H \cdot W, C)$ view. (As for batch
# normalization, the `dx` error is the largest; up to about 1e-6 is correct.)

# %%
N, C, H, W = 2, 3, 4, 5
x = 5 * rng.standard_normal((N, C, H, W)) + 12
gamma = rng.standard_normal(C)
beta = rng.standard_normal(C)
dout = rng.standard_normal(x.shape)

bn_param = {"mode": "train"}
fx = lambda x: spatial_batchnorm_forward(x, gamma, beta, bn_param)[0]
fg = lambda g: spatial_batchnorm_forward(x, g, beta, bn_param)[0]
fb = lambda b: spatial_batchnorm_forward(x, gamma, b, bn_param)[0]

dx_num = eval_numerical_gradient_array(fx, x, dout)
dg_num = eval_numerical_gradient_array(fg, gamma.copy(), dout)
db_num = eval_numerical_gradient_array(fb, beta.copy(), dout)

_, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
check("dx error", rel_error(dx_num, dx), 1e-6)
check("dgamma error", rel_error(dg_num, dgamma), 1e-8)
check("dbeta error", rel_error(db_num, dbeta), 1e-8)

# %% [markdown]
# ## Inline Question 1:
# Why does spatial batch normalization compute one mean and one variance per channel
# over the batch *and* all spatial positions, rather than one per channel and
# position as plain batch normalization on the flattened $(N, C \cdot H \cdot W)$
# activations would?

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* Because of weight sharing: a channel is the response of one filter at every
# position, so its values at different positions are samples of the same feature and
# should be transformed alike. Per-position statistics (and per-position $\gamma,
# \beta$) would normalise the same feature differently depending on where it appears,
# breaking the translation equivariance of the convolution, and would multiply the
# number of normalisation parameters by $H W$. Pooling over positions also gives each
# statistic $N H W$ samples instead of $N$, so the estimates are much less noisy,
# which (as the batch-size experiment showed) matters a lot for small batches.
# ### END SOLUTION

# %% [markdown]
# # Spatial Group Normalization
# Layer normalization works well in fully connected networks but less so in
# convolutional ones: normalising all channels of a sample together assumes they all
# contribute alike, while some channels respond strongly (a clear edge) and others
# hardly at all. Group normalization [1] splits the $C$ channels of each sample into
# $G$ groups of $C/G$ contiguous channels and normalises each group over its channels
# and positions. With $S_{ng}$ the $\frac{C}{G} H W$ entries of group $g$ of sample $n$:
#
# $$\mu_{ng} = \frac{1}{|S_{ng}|}\sum_{k \in S_{ng}} x_k, \qquad
#   \sigma_{ng}^2 = \frac{1}{|S_{ng}|}\sum_{k \in S_{ng}} (x_k - \mu_{ng})^2, \qquad
#   y_{nchw} = \gamma_c \frac{x_{nchw} - \mu_{ng(c)}}{\sqrt{\sigma_{ng(c)}^2 + \epsilon}} + \beta_c .$$
#
# $G = 1$ is layer normalization over $(C, H, W)$; $G = C$ normalises every channel of
# every sample on its own (instance normalization). The statistics never mix samples,
# so group normalization behaves the same at any batch size and at test time.
#
# [1] Yuxin Wu and Kaiming He, "Group Normalization", ECCV 2018.

# %% [markdown]
# ## Inline Question 2:
# How is group normalization different from layer normalization, and why does it suit
# convolutional networks better? What does it give up compared with batch
# normalization?

# %% [markdown]
# ### BEGIN SOLUTION
# *Answer:* Layer normalization shares one mean and variance among all the features of a
# sample; group normalization computes them separately for groups of channels. In a
# convolutional layer different channels detect different patterns and have very
# different magnitudes; forcing all of them through one normalisation lets a few
# strong channels dominate the statistics and suppresses the others. Groups of related
# channels (which the network can learn to form) can be normalised fairly while the
# statistics are still pooled over many positions, so they are reliable even for a
# single image. Like layer normalization it is independent of the batch, so it works
# with batch size 1 or 2 (detection, segmentation, video) and behaves identically in
# training and test. What it gives up is the regularising noise of batch statistics and
# the *cross-sample* standardisation: with large batches batch normalization usually
# trains a little faster and generalises a little better.
# ### END SOLUTION

# %% [markdown]
# ## Spatial group normalization: forward pass
# Implement `spatial_groupnorm_forward` in `cs231n/layers.py`: reshape x into
# $(N, G, C/G, H, W)$, so that each group of consecutive channels has an axis of its own,
# standardise over the last three axes, reshape back and scale and shift per channel.
# Note that here $\gamma$ and $\beta$ have shape $(1, C, 1, 1)$. Every group of every sample should end with mean close to 0 and
# standard deviation close to 1.

# %%
N, C, H, W = 2, 6, 4, 5
G = 2
x = 4 * rng.standard_normal((N, C, H, W)) + 10
x_g = x.reshape((N * G, -1))
print("Before spatial group normalization (statistics per sample and group):")
print(f"  shape: {x.shape}")
print_mean_std(x_g, axes=1)

gamma, beta = np.ones((1, C, 1, 1)), np.zeros((1, C, 1, 1))
out, _ = spatial_groupnorm_forward(x, gamma, beta, G, {})
out_g = out.reshape((N * G, -1))
print("After spatial group normalization: means ~ 0, stds ~ 1")
print(f"  shape: {out.shape}")
print_mean_std(out_g, axes=1)
check("|mean|", np.abs(out_g.mean(axis=1)).max(), 1e-10)
check("|std - 1|", np.abs(out_g.std(axis=1) - 1).max(), 1e-4)

# %% [markdown]
# ## Spatial group normalization: backward pass
# Implement `spatial_groupnorm_backward`: per group, the closed form of the batch-norm
# backward pass with means over the group's $C/G \cdot H \cdot W$ values.

# %%
N, C, H, W = 2, 6, 4, 5
G = 2
x = 5 * rng.standard_normal((N, C, H, W)) + 12
gamma = rng.standard_normal((1, C, 1, 1))
beta = rng.standard_normal((1, C, 1, 1))
dout = rng.standard_normal(x.shape)

gn_param = {}
fx = lambda x: spatial_groupnorm_forward(x, gamma, beta, G, gn_param)[0]
fg = lambda g: spatial_groupnorm_forward(x, g, beta, G, gn_param)[0]
fb = lambda b: spatial_groupnorm_forward(x, gamma, b, G, gn_param)[0]

dx_num = eval_numerical_gradient_array(fx, x, dout)
dg_num = eval_numerical_gradient_array(fg, gamma.copy(), dout)
db_num = eval_numerical_gradient_array(fb, beta.copy(), dout)

_, cache = spatial_groupnorm_forward(x, gamma, beta, G, gn_param)
dx, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
check("dx error", rel_error(dx_num, dx), 1e-6)
check("dgamma error", rel_error(dg_num, dgamma), 1e-8)
check("dbeta error", rel_error(db_num, dbeta), 1e-8)

# %% [markdown]
# ## Spatial normalization in training
# Finally, train the same convolutional network
# ([conv 3x3 - norm - relu - 2x2 pool] x 2 - affine - norm - relu - affine; 32 and 64
# filters, He initialisation) without normalization, with spatial batch normalization
# and with group normalization (8 groups; layer normalization in the affine block) on
# 2000 training images for 5 epochs (Adam 1e-3, batch 50; a small network on 300
# images for 2 epochs in fast mode). The experiment is
# `cs231n.experiments.spatial_norm` (also `python -m cs231n experiment spatial_norm`).
# It first divides the images by their standard deviation (about 63 after the mean
# is subtracted): He initialisation assumes inputs of unit variance, and without
# this the plain network would start at a loss in the hundreds and look far worse
# than it is. In full runs on the CI subset spatial batch normalization trains
# fastest and generalises best; group normalization trains at about the plain
# network's pace and lands between the two on validation (the table below prints
# this run's accuracies; `docs/NOTEBOOKS.md` lists full runs over several seeds).

# %%
sn_history = experiments.spatial_norm(data, seed=231)
print(experiments.results_table(sn_history))
experiments.plot(sn_history)
plt.show()

# %% [markdown]
# # Continue in PyTorch
# A network you built by hand is ready for bigger things: the full data set, a GPU,
# several machines. The engine for that is PyTorch. `cs231n.export.to_torch(model)`
# turns a kit model into a `torch.nn.Module` with the same layers in the same order
# (named after the kit's parameters: `conv1`, `norm1`, ..., `fc4`), the same weights
# and the same running statistics; `from_torch(module, model)` copies them back. It
# needs the optional extra: `pip install -e ".[torch]"` in the kit's folder.
#
# Train the batch-normalised network of the experiment above in the kit (the same
# configuration and input scaling; fewer images and epochs in fast mode), then export it
# and check that both give the same scores on the validation set.

# %%
import copy

import torch  # the optional extra: pip install -e ".[torch]"

from cs231n.classifiers.cnn import ConvNet
from cs231n.export import from_torch, to_torch

n_train = 300 if FAST else 2000
scale = float(data["X_train"][:n_train].std())   # unit-variance inputs, as in the experiment
pt_data = {"X_train": data["X_train"][:n_train] / scale, "y_train": data["y_train"][:n_train],
           "X_val": data["X_val"] / scale, "y_val": data["y_val"]}
convnet = ConvNet(num_filters=(8, 16) if FAST else (32, 64), filter_size=3,
                  hidden_dims=(32,) if FAST else (128,), normalization="batchnorm", seed=231)
kit_solver = Solver(convnet, pt_data, update_rule="adam", optim_config={"learning_rate": 1e-3},
                    batch_size=50, num_epochs=2 if FAST else 5, verbose=False, seed=231)
kit_solver.train()

module = to_torch(convnet).eval()    # eval mode = the kit's test mode (running statistics)
print(module)
X_val, y_val = pt_data["X_val"], pt_data["y_val"]
kit_scores = convnet.loss(X_val)
with torch.no_grad():
    torch_scores = module(torch.from_numpy(X_val)).numpy()
kit_acc = np.mean(kit_scores.argmax(axis=1) == y_val)
torch_acc = np.mean(torch_scores.argmax(axis=1) == y_val)
print(f"validation accuracy: kit {kit_acc:.4f}, PyTorch {torch_acc:.4f} "
      f"({len(y_val)} images, {np.sum(kit_scores.argmax(1) != torch_scores.argmax(1))} "
      "predictions differ)")
check("scores: max diff / max |score|",
      np.abs(torch_scores - kit_scores).max() / np.abs(kit_scores).max(), 1e-5)

# %% [markdown]
# ## Two conventions that trip people up
# The next cell takes one minibatch of 50 images through one train-mode step in the kit
# and in two exports of the same network: the default one, whose batch norm layers are
# `KitBatchNorm2d`/`KitBatchNorm1d`, and `to_torch(convnet, batchnorm="torch")`, with
# PyTorch's own `nn.BatchNorm2d`/`nn.BatchNorm1d`. It prints, for channel 0 of the first
# (spatial) and the last (affine) batch norm layer, the old running variance, the new
# one of each, and the batch variance each of them put into its update.
#
# *Momentum.* The first printed line shows the kit's `momentum` next to the exported
# layer's. The kit (like the course) updates
# `running = momentum * running + (1 - momentum) * batch`: its momentum weighs the
# **old** average. PyTorch's `momentum` weighs the **new** batch,
# `running = (1 - momentum) * running + momentum * batch`, so the two printed numbers add
# up to 1 and `to_torch` converts one into the other. Copying the number unchanged would
# make PyTorch's running averages forget almost everything at every step.
#
# *Variance.* Both normalise the batch with its biased variance
# $\frac{1}{N}\sum (x - \mu)^2$ ($N$ = values per channel: batch size times $H W$ in a
# spatial layer, batch size in an affine one). The kit also puts that biased variance
# into its running average; PyTorch's `nn.BatchNorm` puts the unbiased one,
# $\frac{1}{N-1}\sum (x - \mu)^2$, there. The printed ratio of the two batch variances is
# that factor $N / (N - 1)$, printed beside it: close to 1 in the spatial layer (tens of
# thousands of values per channel) but visible in the affine layer, where $N$ is the
# batch size. The default export's `KitBatchNorm` layers update with the biased variance,
# so their running statistics stay equal to the kit's (the check lines confirm it).
# Evaluation needs no conversion: all three normalise with the stored running variance.

# %%
X_batch, y_batch = pt_data["X_train"][:50], pt_data["y_train"][:50]
stepped = {"kit": copy.deepcopy(convnet), "KitBatchNorm": to_torch(convnet),
           "nn.BatchNorm": to_torch(convnet, batchnorm="torch")}
stepped["kit"].loss(X_batch, y_batch)                     # a train-mode forward pass
for name in ("KitBatchNorm", "nn.BatchNorm"):
    stepped[name].train().loss(torch.from_numpy(X_batch), torch.from_numpy(y_batch))

layers = {1: X_batch.shape[0] * 32 * 32, convnet.num_layers - 1: X_batch.shape[0]}
m_kit = convnet.bn_params[0].get("momentum", 0.9)
m_torch = stepped["KitBatchNorm"].norm1.momentum
print(f"momentum: kit {m_kit:g} (weight of the old average), "
      f"PyTorch {m_torch:g} (weight of the new batch)")
for i, N in layers.items():
    old = float(convnet.bn_params[i - 1]["running_var"][0])
    new = {"kit": float(stepped["kit"].bn_params[i - 1]["running_var"][0])}
    for name in ("KitBatchNorm", "nn.BatchNorm"):
        new[name] = float(getattr(stepped[name], f"norm{i}").running_var[0])
    # the batch variance each one averaged in: new = m_kit * old + (1 - m_kit) * batch_var
    batch_var = {name: (v - m_kit * old) / (1 - m_kit) for name, v in new.items()}
    print(f"norm{i} ({type(getattr(stepped['nn.BatchNorm'], f'norm{i}')).__name__}, "
          f"N = {N} values per channel), channel 0:")
    print(f"  running_var before the step: {old:.6f}")
    for name in new:
        print(f"  after, {name:>12s}: {new[name]:.6f}   batch variance used: {batch_var[name]:.6f}")
    print(f"  nn.BatchNorm / kit batch variance: {batch_var['nn.BatchNorm'] / batch_var['kit']:.5f}"
          f"   N / (N - 1) = {N / (N - 1):.5f}")
    kit_stats = stepped["kit"].bn_params[i - 1]["running_var"]
    check(f"norm{i} KitBatchNorm vs kit", np.abs(
        getattr(stepped["KitBatchNorm"], f"norm{i}").running_var.numpy() - kit_stats).max()
        / np.abs(kit_stats).max(), 1e-5)

# %% [markdown]
# ## Training on in PyTorch
# Now continue training the exported network with a PyTorch optimizer (Adam, the same
# learning rate) for a few iterations, on minibatches drawn as before. `module.loss` is
# the kit's loss (softmax cross-entropy plus `0.5 * reg * sum(W**2)` over the weights),
# so the curve continues the kit's. Then `from_torch` brings the weights and running
# statistics back, and the kit's test mode agrees with PyTorch's eval mode again.
#
# On a GPU the same code runs after `module.to("cuda")` and moving each batch there.
# For several GPUs or machines, read PyTorch's *DistributedDataParallel* tutorial and
# the documentation of `torch.nn.SyncBatchNorm`:
# `torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)` makes every batch norm layer
# compute its batch statistics across all devices, as the kit computes them across a
# batch (it keeps PyTorch's unbiased running variance).

# %%
torch.manual_seed(231)
module.train()
optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
torch_losses = []
for it in range(20 if FAST else 200):
    idx = rng.choice(len(pt_data["y_train"]), 50, replace=False)
    x, y = torch.from_numpy(pt_data["X_train"][idx]), torch.from_numpy(pt_data["y_train"][idx])
    optimizer.zero_grad()
    loss = module.loss(x, y)
    loss.backward()
    optimizer.step()
    torch_losses.append(loss.item())
module.eval()
with torch.no_grad():
    torch_scores = module(torch.from_numpy(X_val)).numpy()
from_torch(module, convnet)
kit_scores = convnet.loss(X_val)
print(f"after {len(torch_losses)} PyTorch iterations: validation accuracy "
      f"PyTorch {np.mean(torch_scores.argmax(1) == y_val):.4f}, "
      f"kit after from_torch {np.mean(kit_scores.argmax(1) == y_val):.4f}")
check("scores: max diff / max |score|",
      np.abs(torch_scores - kit_scores).max() / np.abs(kit_scores).max(), 1e-5)

n_kit = len(kit_solver.loss_history)
plt.figure(figsize=(10, 4))
plt.plot(np.arange(n_kit), kit_solver.loss_history, "o-", label="kit (numpy)")
plt.plot(np.arange(n_kit, n_kit + len(torch_losses)), torch_losses, "o-", label="PyTorch")
plt.xlabel("iteration")
plt.ylabel("training loss")
plt.legend()
plt.show()
