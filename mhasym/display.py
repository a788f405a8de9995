"""Jupyter display: objects of this package show as math through its printer."""


class Displayable:
    """Mixin giving ``_repr_latex_`` through :func:`mhasym.printer.latex`."""

    def _repr_latex_(self):
        from .printer import latex

        return "$\\displaystyle " + latex(self) + "$"
