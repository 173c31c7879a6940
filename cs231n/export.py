"""Hand a model trained in the kit over to PyTorch, and take it back.

When the networks outgrow numpy (the full data set, a GPU, several machines),
:func:`to_torch` turns a kit model into a ``torch.nn.Module`` that computes the same
function, layer for layer, and :func:`from_torch` copies what PyTorch learned back
into the kit model. PyTorch is an optional extra, imported by this module only::

    pip install -e ".[torch]"        # from the kit's folder (CPU build torch==2.13.0)

Supported models: :class:`~cs231n.classifiers.fc_net.FullyConnectedNet` (no norm,
batch norm, layer norm; dropout), :class:`~cs231n.classifiers.cnn.ThreeLayerConvNet`
and :class:`~cs231n.classifiers.cnn.ConvNet` (no norm, spatial batch norm, group norm
with layer norm in the affine blocks; dropout).

Layers and names
----------------
The exported module is an :class:`ExportedNet`, a ``torch.nn.Sequential`` whose
layers are named after the kit's parameter indices, in the kit's order::

    FullyConnectedNet  flatten, fc1, [norm1], relu1, [drop1], ..., fcL
    ThreeLayerConvNet  conv1, relu1, pool1, flatten, fc2, relu2, fc3
    ConvNet            conv1, [norm1], relu1, pool1, ..., flatten,
                       fcK+1, [normK+1], reluK+1, [dropK+1], ..., fcL

``W{i}`` is ``fc{i}.weight`` transposed (PyTorch stores ``(out, in)``, the kit
``(in, out)``) or ``conv{i}.weight`` as it is (both store ``(F, C, HH, WW)`` and both
compute a cross-correlation); ``b{i}`` is the bias; ``gamma{i}``/``beta{i}`` are
``norm{i}.weight``/``norm{i}.bias`` (group norm's ``(1, C, 1, 1)`` reshaped to
``(C,)``); ``bn_params[i-1]['running_mean'/'running_var']`` are ``norm{i}``'s buffers.
:meth:`ExportedNet.loss` adds the kit's ``0.5 * reg * sum(W**2)`` over the weights
(not biases, not gamma/beta) to the mean cross-entropy, so its gradients are the
kit's ``grads``.

The two conventions that differ
-------------------------------
*Momentum.* The kit (like the course) updates ``running = m * running + (1 - m) *
batch``: its ``momentum`` (default 0.9) weighs the **old** average. PyTorch's
``momentum`` weighs the **new** batch: ``running = (1 - m') * running + m' *
batch``. So ``m' = 1 - m`` (0.9 in the kit is PyTorch's 0.1); the export converts it.

*Running variance.* The kit normalises with the biased batch variance
``sum((x - mu)**2) / N`` and stores that in its running average. PyTorch's
``BatchNorm`` also normalises with the biased variance but puts the unbiased
``sum((x - mu)**2) / (N - 1)`` into ``running_var`` (``N`` = values per channel:
the batch size, times ``H * W`` for spatial batch norm). By default the export uses
:class:`KitBatchNorm1d`/:class:`KitBatchNorm2d`: ``torch.nn.BatchNorm1d``/``2d``
whose train-mode forward is written out (``torch.var_mean(..., correction=0)``) and
updates ``running_var`` with the biased variance, as the kit does; eval mode is
PyTorch's own. Then a train-mode step updates the running statistics exactly as the
kit's does (and a batch of one works, as in the kit; PyTorch's ``BatchNorm1d``
refuses it in train mode). ``to_torch(model, batchnorm="torch")`` exports plain
``torch.nn.BatchNorm1d``/``2d`` instead: eval-mode outputs are the same, and train
mode differs only in ``running_var``, which grows by ``N / (N - 1)`` times the
batch's share ``m'``.

Eval mode needs no conversion: both normalise with the stored running variance.

Several GPUs: ``torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)`` turns every
batch norm layer (also the Kit* ones) into a ``SyncBatchNorm`` that takes the batch
statistics over all devices, before wrapping the module in
``DistributedDataParallel``. ``SyncBatchNorm`` keeps PyTorch's unbiased running
variance (with ``N`` in the thousands the factor is negligible).
"""
from __future__ import annotations

import numbers
from collections import OrderedDict

import numpy as np

from ._checks import check_positive_float
from .classifiers.cnn import ConvNet, ThreeLayerConvNet
from .classifiers.fc_net import FullyConnectedNet

try:  # PyTorch is optional: the rest of the kit never imports it
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError:
    torch = nn = F = None

__all__ = ["to_torch", "from_torch", "TORCH_EXTRA"]

#: How to install what this module needs (the CPU build on this kit's machines).
TORCH_EXTRA = 'pip install -e ".[torch]"  (from the kit\'s folder; it installs torch==2.13.0)'

_MODELS = (FullyConnectedNet, ThreeLayerConvNet, ConvNet)


def _require_torch():
    if torch is None:
        raise ImportError(
            "cs231n.export needs PyTorch, the kit's optional extra 'torch': "
            f"{TORCH_EXTRA}. The rest of the kit works without it.")


# --------------------------------------------------------------------------- #
# The layer list, shared by both directions (no torch needed)
# --------------------------------------------------------------------------- #
def _norm_settings(model, i):
    """eps (and the kit's momentum for batch norm) of normalised layer ``i``."""
    where = f"model.bn_params[{i - 1}]"
    param = model.bn_params[i - 1]
    if not isinstance(param, dict):
        raise TypeError(f"{where} must be a dict, got {type(param).__name__}")
    eps = check_positive_float(f"{where}['eps']", param.get("eps", 1e-5), allow_zero=True)
    momentum = param.get("momentum", 0.9)
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) \
            or not 0.0 <= float(momentum) <= 1.0:
        raise ValueError(f"{where}['momentum'] must be a number in [0, 1], got {momentum!r}")
    return eps, float(momentum)


def _layers(model):
    """The model's layers in the kit's order, as ``(name, kind, settings)``.

    Kinds: ``flatten``, ``fc``, ``conv``, ``batchnorm1d``, ``batchnorm2d``,
    ``layernorm``, ``groupnorm``, ``relu``, ``pool`` (2x2, stride 2) and ``dropout``.
    Sizes come from the parameter arrays, so a model whose arrays do not fit its
    own architecture is refused later, by the shape checks.
    """
    if not isinstance(model, _MODELS):
        raise TypeError("model must be a FullyConnectedNet, ThreeLayerConvNet or ConvNet, "
                        f"got {type(model).__name__}")
    P = model.params
    out = []

    def add_fc(i):
        D, M = P[f"W{i}"].shape
        out.append((f"fc{i}", "fc", {"in": D, "out": M}))

    def add_conv(i, pad):
        F_, C, HH, WW = P[f"W{i}"].shape
        out.append((f"conv{i}", "conv", {"in": C, "out": F_, "size": (HH, WW), "pad": pad}))

    def add_norm(i, kind):
        eps, momentum = _norm_settings(model, i)
        settings = {"features": P[f"gamma{i}"].size, "eps": eps, "momentum": momentum}
        if kind == "groupnorm":
            settings["groups"] = model.num_groups
        out.append((f"norm{i}", kind, settings))

    def add_dropout(i):
        if model.use_dropout:
            out.append((f"drop{i}", "dropout", {"keep": float(model.dropout_param["p"])}))

    if isinstance(model, FullyConnectedNet):
        norm = {"batchnorm": "batchnorm1d", "layernorm": "layernorm"}.get(model.normalization)
        out.append(("flatten", "flatten", {}))
        for i in range(1, model.num_layers):
            add_fc(i)
            if norm:
                add_norm(i, norm)
            out.append((f"relu{i}", "relu", {}))
            add_dropout(i)
        add_fc(model.num_layers)
    elif isinstance(model, ThreeLayerConvNet):
        add_conv(1, (model.filter_size - 1) // 2)
        out += [("relu1", "relu", {}), ("pool1", "pool", {}), ("flatten", "flatten", {})]
        add_fc(2)
        out.append(("relu2", "relu", {}))
        add_fc(3)
    else:  # ConvNet
        conv_norm = {"batchnorm": "batchnorm2d", "groupnorm": "groupnorm"}.get(model.normalization)
        fc_norm = {"batchnorm": "batchnorm1d", "groupnorm": "layernorm"}.get(model.normalization)
        for i in range(1, model.num_conv + 1):
            add_conv(i, (model.filter_size - 1) // 2)
            if conv_norm:
                add_norm(i, conv_norm)
            out += [(f"relu{i}", "relu", {}), (f"pool{i}", "pool", {})]
        out.append(("flatten", "flatten", {}))
        for i in range(model.num_conv + 1, model.num_layers):
            add_fc(i)
            if fc_norm:
                add_norm(i, fc_norm)
            out.append((f"relu{i}", "relu", {}))
            add_dropout(i)
        add_fc(model.num_layers)
    return out


def _arrays(model, layers):
    """Every array the two sides share, as ``(kit_key, layer, attribute, how)``.

    ``kit_key`` is a parameter name (``'W2'``) or ``('running_mean', i)`` for the
    running statistics of normalised layer ``i``. ``how`` maps the kit's array to
    PyTorch's: ``'T'`` transpose (affine weights), ``'flat'`` reshape to ``(C,)``
    (group norm's gamma/beta), ``'same'`` as it is.
    """
    out = []
    for name, kind, _ in layers:
        if kind in ("fc", "conv"):
            i = name[len(kind):]
            out.append((f"W{i}", name, "weight", "T" if kind == "fc" else "same"))
            out.append((f"b{i}", name, "bias", "same"))
        elif kind in ("batchnorm1d", "batchnorm2d", "layernorm", "groupnorm"):
            i = name[len("norm"):]
            how = "flat" if kind == "groupnorm" else "same"
            out.append((f"gamma{i}", name, "weight", how))
            out.append((f"beta{i}", name, "bias", how))
            if kind.startswith("batchnorm"):
                out.append((("running_mean", int(i)), name, "running_mean", "same"))
                out.append((("running_var", int(i)), name, "running_var", "same"))
    return out


def _kit_array(model, key, features=None):
    """A parameter, or a running statistic (zeros when the kit has none yet)."""
    if isinstance(key, str):
        return model.params[key]
    stat, i = key
    value = model.bn_params[i - 1].get(stat)
    if value is None:       # the kit's default before the first train-mode step
        return np.zeros(model.params[f"gamma{i}"].size, dtype=model.dtype)
    return value


def _kit_name(key):
    return key if isinstance(key, str) else f"bn_params[{key[1] - 1}][{key[0]!r}]"


def _torch_shape(kit_shape, how):
    if how == "T":
        return tuple(reversed(kit_shape))
    if how == "flat":
        return (int(np.prod(kit_shape)),)
    return tuple(kit_shape)


# --------------------------------------------------------------------------- #
# PyTorch modules (defined only when PyTorch is installed)
# --------------------------------------------------------------------------- #
if torch is not None:

    class _KitTrainStep:
        """Train-mode batch norm as the kit computes it (mixin for BatchNorm1d/2d).

        Output, with per-channel statistics over every axis but axis 1::

            mu = mean(x),  var = mean((x - mu)**2)   (biased)
            y = gamma * (x - mu) / sqrt(var + eps) + beta

        and the running statistics (``m'`` is PyTorch's momentum, 1 - the kit's)::

            running_mean = (1 - m') * running_mean + m' * mu
            running_var  = (1 - m') * running_var  + m' * var    (biased, as the kit)

        Eval mode is PyTorch's own batch norm with the running statistics.
        ``momentum=None`` gives PyTorch's cumulative average, as in ``nn.BatchNorm``.
        """

        def forward(self, x):
            if not self.training:
                return super().forward(x)
            self._check_input_dim(x)
            axes = [0, *range(2, x.dim())]
            var, mu = torch.var_mean(x, dim=axes, correction=0, keepdim=True)
            shape = [1, -1] + [1] * (x.dim() - 2)
            xhat = (x - mu) / torch.sqrt(var + self.eps)
            out = xhat * self.weight.view(shape) + self.bias.view(shape)
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                     else self.momentum)
                self.running_mean.mul_(1 - m).add_(mu.reshape(-1), alpha=m)
                self.running_var.mul_(1 - m).add_(var.reshape(-1), alpha=m)
            return out

    class KitBatchNorm1d(_KitTrainStep, nn.BatchNorm1d):
        """``nn.BatchNorm1d`` whose train step keeps the kit's biased running variance."""

    class KitBatchNorm2d(_KitTrainStep, nn.BatchNorm2d):
        """``nn.BatchNorm2d`` whose train step keeps the kit's biased running variance."""

    class ExportedNet(nn.Sequential):
        """A kit model as a ``torch.nn.Sequential``, plus the kit's loss.

        Parameters
        ----------
        layers : OrderedDict of name -> nn.Module
        reg : float
            The kit model's L2 strength.
        weights : sequence of str
            Names of the layers whose ``weight`` the L2 term covers.
        """

        def __init__(self, layers, reg, weights):
            super().__init__(layers)
            self.reg = float(reg)
            self.weight_layers = tuple(weights)

        def loss(self, x, y):
            """The kit's loss: mean softmax cross-entropy + ``0.5 * reg * sum(W**2)``.

            Parameters
            ----------
            x : Tensor, shape (N, ...)
                Inputs, in the module's dtype.
            y : Tensor of int64, shape (N,)

            Returns
            -------
            Tensor (scalar); in train mode (``module.train()``) it uses batch
            statistics, in eval mode the running ones.
            """
            loss = F.cross_entropy(self(x), y)
            l2 = sum((self.get_submodule(n).weight ** 2).sum() for n in self.weight_layers)
            return loss + 0.5 * self.reg * l2

        def extra_repr(self):
            return f"reg={self.reg}"


def _module(kind, s, dtype, batchnorm):
    """One PyTorch layer from a ``_layers`` entry (parameters not yet loaded)."""
    if kind == "flatten":
        return nn.Flatten()
    if kind == "fc":
        return nn.Linear(s["in"], s["out"], dtype=dtype)
    if kind == "conv":
        return nn.Conv2d(s["in"], s["out"], s["size"], stride=1, padding=s["pad"], dtype=dtype)
    if kind in ("batchnorm1d", "batchnorm2d"):
        cls = {("kit", "batchnorm1d"): KitBatchNorm1d, ("kit", "batchnorm2d"): KitBatchNorm2d,
               ("torch", "batchnorm1d"): nn.BatchNorm1d,
               ("torch", "batchnorm2d"): nn.BatchNorm2d}[batchnorm, kind]
        # momentum: the kit's weighs the old average, PyTorch's the new batch
        return cls(s["features"], eps=s["eps"], momentum=1.0 - s["momentum"], dtype=dtype)
    if kind == "layernorm":
        return nn.LayerNorm(s["features"], eps=s["eps"], dtype=dtype)
    if kind == "groupnorm":
        return nn.GroupNorm(s["groups"], s["features"], eps=s["eps"], dtype=dtype)
    if kind == "relu":
        return nn.ReLU()
    if kind == "pool":
        return nn.MaxPool2d(kernel_size=2, stride=2)
    if kind == "dropout":
        return nn.Dropout(p=1.0 - s["keep"])      # PyTorch's p is the drop probability
    raise AssertionError(kind)


def to_torch(model, batchnorm="kit"):
    """A ``torch.nn.Module`` computing what the kit model computes.

    Parameters
    ----------
    model : FullyConnectedNet, ThreeLayerConvNet or ConvNet
        Not modified; the module gets copies of its arrays.
    batchnorm : {'kit', 'torch'}
        'kit' (default): :class:`KitBatchNorm1d`/``2d``, whose train-mode step
        updates the running statistics exactly as the kit does. 'torch': plain
        ``nn.BatchNorm1d``/``2d`` (train mode stores the unbiased batch variance,
        ``N/(N-1)`` times the kit's, in ``running_var``; eval mode is the same).

    Returns
    -------
    ExportedNet
        A ``nn.Sequential`` (layers named as in the module docstring) in the
        model's dtype, in train mode (call ``.eval()`` for the kit's test mode),
        on the CPU. ``module(x)`` gives the scores ``(N, num_classes)`` for ``x``
        of shape ``(N, ...)`` as the kit's ``loss(X)`` takes it; ``module.loss(x, y)``
        the kit's loss.

    Raises
    ------
    ImportError
        PyTorch is not installed (the message names the extra to install).
    TypeError, ValueError
        Not a supported model; a bad ``batchnorm``; a norm setting out of range.
    """
    if batchnorm not in ("kit", "torch"):
        raise ValueError(f"batchnorm must be 'kit' or 'torch', got {batchnorm!r}")
    layers = _layers(model)
    _require_torch()
    dtype = torch.from_numpy(np.zeros(0, dtype=model.dtype)).dtype
    module = ExportedNet(
        OrderedDict((name, _module(kind, s, dtype, batchnorm)) for name, kind, s in layers),
        reg=model.reg,
        weights=[name for name, kind, _ in layers if kind in ("fc", "conv")])
    with torch.no_grad():
        for key, name, attr, how in _arrays(model, layers):
            a = np.asarray(_kit_array(model, key))
            target = getattr(module.get_submodule(name), attr)
            if _torch_shape(a.shape, how) != tuple(target.shape):
                raise ValueError(
                    f"model.{_kit_name(key)} has shape {a.shape}, which does not fit layer "
                    f"{name} ({attr} of shape {tuple(target.shape)})")
            value = a.T if how == "T" else a.reshape(target.shape)
            target.copy_(torch.from_numpy(np.array(value, dtype=model.dtype)))
    return module


def from_torch(module, model):
    """Copy parameters and running statistics from an exported module into the model.

    Parameters
    ----------
    module : torch.nn.Module
        A module from :func:`to_torch` (maybe trained since, maybe on a GPU, maybe
        with its batch norm layers converted to ``SyncBatchNorm``; for a
        ``DistributedDataParallel`` wrapper pass ``ddp.module``).
    model : FullyConnectedNet, ThreeLayerConvNet or ConvNet
        Of the architecture the module was exported from. Receives new arrays in
        its own dtype (``params``, and ``running_mean``/``running_var`` in each batch
        norm layer's ``bn_params`` dict, written into the same dicts).
        Hyperparameters (momentum, eps, reg, dropout) are left as they are.

    Returns
    -------
    model

    Raises
    ------
    TypeError, ValueError
        ``module`` is not a torch module, or does not match the model (a missing
        layer, a different shape or number of groups); the model is then unchanged.
    """
    _require_torch()
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    layers = _layers(model)
    new = {}
    for name, kind, s in layers:
        if kind == "groupnorm":
            layer = _submodule(module, name)
            groups = getattr(layer, "num_groups", None)
            if groups != s["groups"]:
                got = type(layer).__name__ + ("" if groups is None else f" with {groups} groups")
                raise ValueError(
                    f"module.{name} must be a group norm with {s['groups']} groups, got {got}")
    for key, name, attr, how in _arrays(model, layers):
        t = getattr(_submodule(module, name), attr, None)
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"module.{name} has no tensor {attr!r} (needed for "
                             f"model.{_kit_name(key)}); was it exported from this model?")
        kit_shape = np.shape(_kit_array(model, key))
        if tuple(t.shape) != _torch_shape(kit_shape, how):
            raise ValueError(
                f"module.{name}.{attr} has shape {tuple(t.shape)}, expected "
                f"{_torch_shape(kit_shape, how)} for model.{_kit_name(key)} of shape {kit_shape}")
        a = t.detach().cpu().numpy()
        new[key] = np.array(a.T if how == "T" else a.reshape(kit_shape), dtype=model.dtype)
    # every check passed: only now touch the model
    for key, value in new.items():
        if isinstance(key, str):
            model.params[key] = value
        else:
            model.bn_params[key[1] - 1][key[0]] = value
    return model


def _submodule(module, name):
    try:
        return module.get_submodule(name)
    except AttributeError:
        raise ValueError(f"module has no layer {name!r}; was it exported from this model "
                         "(cs231n.export.to_torch)?") from None
