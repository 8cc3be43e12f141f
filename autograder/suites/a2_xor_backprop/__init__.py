"""Hidden suite of a2_xor_backprop: a 2-layer network from scratch in NumPy, backprop, gradient checks."""
