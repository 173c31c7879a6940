"""cs231n-bn: Batch Normalization and Dropout assignment kit in pure numpy.

Modules follow the CS231n assignment-2 layout: ``layers`` (stateless layer
functions), ``fast_layers`` (vectorised convolution and pooling), ``layer_utils``
(sandwich layers), ``classifiers`` (models), ``optim`` (update rules), ``solver``
(training loop), ``gradient_check`` (numerical gradients) and ``data_utils``
(CIFAR-10 loading).
"""

__version__ = "0.1.0"
