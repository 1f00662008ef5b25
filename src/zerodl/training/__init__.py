"""The model and its training loop."""
