"""pytest drivers of the cocotb testbenches in ``sim/`` (gateware == bit-exact model)."""
