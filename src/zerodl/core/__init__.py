"""Core maths: the course's functions, layers, losses, optimizers, data and files."""
