"""Golden floor: float (SciPy) and bit-exact models of every gateware block and branch.

Imports only :mod:`spec` (checked by ``lint-imports``).
"""
