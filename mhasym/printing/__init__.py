"""Printers of the model's objects: LaTeX (and the Jupyter display), plain text, NumPy code."""
