"""Spec floor: constants, channel names, the frame and register tables, CLI conventions.

Imports nothing else of the project (checked by ``lint-imports``).
"""
