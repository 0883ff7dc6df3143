"""From-scratch twins of ``torch.nn``: each module mirrors a PyTorch layer and is tested against it
in float64 (forward and gradients). ``from helpers.nn import lstm`` reads like ``torch.nn.LSTM``."""
