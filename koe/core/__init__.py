"""The bottom layer: column contracts, YAML helpers, safety helpers, package resources.

Nothing here imports another koe module outside koe.core.
"""
