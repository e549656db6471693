"""ganlab: train small 2D GANs and picture every step of their training."""

__version__ = "0.1.0"
