"""``zerodl bench``'s measurements: benchmark code, kept apart from the library.

``loops`` holds the contenders that are not zerodl (a hand-written NumPy loop and PyTorch);
``suite`` times them against ``model.fit`` and returns the figures as plain data, which
``zerodl bench`` (``cli_bench.py``) prints and writes. Nothing in the library imports this
package.
"""
