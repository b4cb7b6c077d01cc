"""theanogpu: is the GPU configuration of a Theano-era (or Keras 3) run really used, and what does it gain?"""

__version__ = "0.1.0"
