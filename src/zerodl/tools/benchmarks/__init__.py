"""``zerodl bench``'s measurements: benchmark code, kept apart from the library.

``loops`` holds the contenders that are not zerodl (a hand-written NumPy loop and PyTorch);
``suite`` times them against ``model.fit`` and returns the figures as plain data, which
``zerodl bench`` (``cli_bench.py``) prints and writes. ``sweep_bench`` times ``zerodl sweep``
on Dask workers (``zerodl sweep --bench``); ``layer_stats`` the cost of the ``LayerStats``
callback (``python -m zerodl.benchmarks.layer_stats``). Nothing in the library imports this
package.
"""
