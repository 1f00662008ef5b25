"""Tools over a model: gradient checks, traces, plots, sweeps, course kits, benchmarks."""
