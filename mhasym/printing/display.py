"""Jupyter display: objects of this package show as math through its printer."""


class Displayable:
    """Mixin giving ``_repr_latex_`` through :func:`mhasym.printing.latex.latex`."""

    def _repr_latex_(self):
        from mhasym.printing.latex import latex

        return "$\\displaystyle " + latex(self) + "$"
