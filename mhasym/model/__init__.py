"""The mathematics of multi-head attention and the Transformer as SymPy objects: notation, shapes,
expression classes, heads, attention, masks, layers, parameter counts and the paper's sizes."""
