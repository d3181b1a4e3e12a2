"""Typed, versioned records of a run: what stages produce and every writer reads.

This layer imports only ``config`` (for the settings a record keeps) and nothing
from a stage, a backend or a writer.
"""
