"""mhasym: multi-head attention as SymPy objects, printed as textbook LaTeX and checked against NumPy.

>>> import mhasym
>>> mhasym.concat_shape(100, 3, 8)
(100, 24)
>>> mhasym.formula("seed.concat_2").check().passed
True
>>> mhasym.derivation("deriv.softmax_jacobian").check().passed
True
"""

from mhasym.catalog.derivation import Derivation, derivation, derivations
from mhasym.catalog.registry import Formula, Text, formula, formulas
from mhasym.model.cost import parameter_count
from mhasym.errors import MhasymError
from mhasym.model.heads import concat, concat_shape, head_outputs
from mhasym.printing.display import show
from mhasym.printing.latex import MhaLatexPrinter, latex
from mhasym.printing.speech import SpeechPrinter, speech

__all__ = [
    "Derivation",
    "Formula",
    "MhaLatexPrinter",
    "MhasymError",
    "SpeechPrinter",
    "Text",
    "concat",
    "concat_shape",
    "derivation",
    "derivations",
    "formula",
    "formulas",
    "head_outputs",
    "latex",
    "parameter_count",
    "show",
    "speech",
]
__version__ = "0.1.0"
