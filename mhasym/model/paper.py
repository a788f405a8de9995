"""Sizes of the models in "Attention Is All You Need" (Vaswani et al., 2017), Table 3.

>>> BASE["d_model"] // BASE["h"]
64
"""

BASE = {"d_model": 512, "h": 8, "d_k": 64, "d_v": 64, "d_ff": 2048, "N": 6}
BIG = {"d_model": 1024, "h": 16, "d_k": 64, "d_v": 64, "d_ff": 4096, "N": 6}
# Shared source-target vocabulary of the English-German model (byte-pair encoding).
VOCAB = 37000
# Parameter counts reported in Table 3.
REPORTED_PARAMETERS = {"base": 65_000_000, "big": 213_000_000}
