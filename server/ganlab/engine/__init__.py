"""The engine: 2D GANs in pure PyTorch (configs, networks, losses, training, pictures,
metrics, run files). Knows nothing of HTTP, websockets or the wire format."""
