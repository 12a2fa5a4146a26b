"""Synthetic EMG and EEG generators with ground truth (not patient data).

Imports only :mod:`spec` and :mod:`golden` (checked by ``lint-imports``).
"""
