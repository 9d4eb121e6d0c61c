"""Sample design and weighting: sizes, allocation, selection, the expert panel's composition, and weights.

A plain library (no web framework or database), usable from a notebook.
"""
