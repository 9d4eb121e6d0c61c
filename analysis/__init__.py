"""Design-based estimates, channel scores, the merge of channels, normalisation, rankings and their
explanation. A plain library (no web framework or database), usable from a notebook.
"""
