"""zerodl: neural networks from zero on NumPy."""
__version__ = "0.1.0"
