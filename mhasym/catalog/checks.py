"""How a formula is checked, and what a check reports.

A numeric check compiles the symbolic formula (:mod:`mhasym.printing.numpy_printer`),
evaluates it on random inputs chosen to expose mistakes (n != m,
d_k != d_v, h >= 2, non-symmetric values, a fixed seed) and compares it with
the independent NumPy reference (:mod:`mhasym.reference`). A shape check
compares shapes computed from the symbolic objects with shapes of explicit
matrices or arrays. An identity check proves an equation with SymPy.

>>> r = compare_arrays("demo", "x vs x", np.ones((2, 3)), np.ones((2, 3)))
>>> r.passed, r.max_error
(True, 0.0)
>>> compare_arrays("demo", "x vs y", np.ones((2, 3)), np.ones((3, 2))).summary()
'demo: FAILED numeric x vs y; shapes differ, (2, 3) != (3, 2)'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Sizes that expose mistakes: all different (n != m, d_k != d_v, n != d_v, ...), h >= 2, h*d_v != d_model.
SIZES = {"n": 4, "m": 7, "d_model": 11, "h": 3, "d_k": 5, "d_v": 2}
SEED = 20251219
TOLERANCE = 1e-10




@dataclass(frozen=True)
class CheckResult:
    """What a check compared, at which sizes and seed, and the largest difference."""

    id: str
    kind: str  # "numeric", "shape", "identity", or "caught" (a wrong version that the checks reject)
    compared: str
    passed: bool
    sizes: dict = field(default_factory=dict)
    seed: int | None = None
    max_error: float | None = None
    tolerance: float | None = None
    detail: str = ""
    refused: bool = False  # the formula did not run or gave another shape: no numbers were compared
    mutants: tuple | None = None  # (killed, built, proven equivalent) when mutants were run

    @property
    def ok(self) -> bool:
        """The same as ``passed``."""
        return self.passed


    def parts(self, seed: str = "seed", max_error: str = "max error", mutants=None) -> list:
        """Sizes, seed, max error, detail and the kill count (``mutants(killed, built, equal)`` words it)
        as plain-text parts; the site, the notes and :meth:`summary` write them in their own way."""
        parts = []
        if self.sizes:
            parts.append(", ".join(f"{k} = {v}" for k, v in self.sizes.items()))
        if self.seed is not None:
            parts.append(f"{seed} {self.seed}")
        if self.max_error is not None:
            parts.append(f"{max_error} {self.max_error:.1e}")
        if self.detail:
            parts.append(self.detail)
        if mutants is not None and self.mutants is not None:
            parts.append(mutants(*self.mutants))
        return parts

    def summary(self) -> str:
        """One line of plain text: id, status, what was compared, sizes, seed, max error, detail."""
        def killed(k, built, same):
            return f"mutants killed {k}/{built}" + (f", {same} proven equal" if same else "")

        status = "ok" if self.passed else "FAILED"
        return f"{self.id}: {status} {self.kind} {self.compared}" + "".join("; " + p for p in self.parts(mutants=killed))

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "compared": self.compared,
            "passed": self.passed,
            "sizes": dict(self.sizes),
            "seed": self.seed,
            "max_error": self.max_error,
            "tolerance": self.tolerance,
            "detail": self.detail,
            "refused": self.refused,
            "mutants": None if self.mutants is None else dict(zip(("killed", "built", "equivalent"), self.mutants)),
        }


def rng(seed: int = SEED) -> np.random.Generator:
    return np.random.default_rng(seed)


def attention_inputs(sizes: dict = SIZES, seed: int = SEED) -> dict:
    """Random float64 inputs for one multi-head attention block, with a mask
    that blocks some keys of every row but never all of them."""
    g = rng(seed)
    n, m, d_model, h, d_k, d_v = (sizes[k] for k in ("n", "m", "d_model", "h", "d_k", "d_v"))
    mask = g.random((n, m)) < 0.6
    mask[np.arange(n), g.integers(0, m, n)] = True
    out = {
        "x_q": g.normal(size=(n, d_model)),
        "x_kv": g.normal(size=(m, d_model)),
        "w_q": g.normal(size=(h, d_model, d_k)),
        "w_k": g.normal(size=(h, d_model, d_k)),
        "w_v": g.normal(size=(h, d_model, d_v)),
        "w_o": g.normal(size=(h * d_v, d_model)),
        "q": g.normal(size=(n, d_k)),
        "k": g.normal(size=(m, d_k)),
        "v": g.normal(size=(m, d_v)),
        "mask": mask,
    }
    out["x_v"] = g.normal(size=(m, d_model))  # values from another sequence than the keys
    return out


def max_error(got, want) -> float:
    """Largest absolute difference; infinity when shapes differ or values are not finite."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape or not np.isfinite(got).all():
        return float("inf")
    return float(np.max(np.abs(got - want))) if got.size else 0.0


def compare_arrays(fid, compared, got, want, sizes=None, seed=None, tolerance=TOLERANCE):
    """A numeric :class:`CheckResult` for ``got`` against ``want``."""
    got, want = np.asarray(got), np.asarray(want)
    detail = "" if got.shape == want.shape else f"shapes differ, {got.shape} != {want.shape}"
    err = max_error(got, want)
    return CheckResult(
        fid, "numeric", compared, err <= tolerance, dict(sizes or {}), seed,
        None if detail else err, tolerance, detail, refused=bool(detail),
    )


def compare_shapes(fid, compared, got, want, sizes=None):
    """A shape :class:`CheckResult`: ``got`` and ``want`` are tuples (of ints or SymPy sizes)."""
    from mhasym.model.shapes import equal, fmt_shape

    same = len(got) == len(want) and all(equal(a, b) for a, b in zip(got, want))
    detail = "" if same else f"{fmt_shape(got)} != {fmt_shape(want)}"
    return CheckResult(fid, "shape", compared, same, dict(sizes or {}), detail=detail or f"{fmt_shape(got)}")


def identity(fid, compared, difference, sizes=None):
    """An identity :class:`CheckResult`: ``difference`` (a SymPy object) must simplify to zero."""
    import sympy as sp

    zero = sp.simplify(difference)
    ok = zero == 0 or (hasattr(zero, "is_zero_matrix") and zero.is_zero_matrix)
    return CheckResult(fid, "identity", compared, bool(ok), dict(sizes or {}),
                       detail="difference simplifies to 0" if ok else f"difference {zero}")


# Sizes of a Transformer layer that expose mistakes (d_ff differs from every other size).
LAYER_SIZES = {"n": 4, "m": 7, "d_model": 8, "h": 2, "d_k": 3, "d_v": 5, "d_ff": 11}


def layer_parameters(sizes: dict = LAYER_SIZES, seed: int = SEED, decoder: bool = False, fill: bool = True) -> dict:
    """Random parameters ``p`` of an encoder (or decoder) layer, laid out as the reference takes them.

    ``fill=False`` gives arrays of zeros that are never written (for counting entries at the paper's sizes)."""
    normal = rng(seed).normal if fill else (lambda size: np.zeros(size))
    d_model, h, d_k, d_v, d_ff = (sizes[k] for k in ("d_model", "h", "d_k", "d_v", "d_ff"))

    def attention_block():
        return {"w_q": normal(size=(h, d_model, d_k)), "w_k": normal(size=(h, d_model, d_k)),
                "w_v": normal(size=(h, d_model, d_v)), "w_o": normal(size=(h * d_v, d_model))}

    p = {"self_attn": attention_block()}
    if decoder:
        p["cross_attn"] = attention_block()
    p["ffn"] = {"w_1": normal(size=(d_model, d_ff)), "b_1": normal(size=d_ff),
                "w_2": normal(size=(d_ff, d_model)), "b_2": normal(size=d_model)}
    for k in range(1, (4 if decoder else 3)):
        p[f"norm_{k}"] = {"gamma": 1 + 0.3 * normal(size=d_model), "beta": 0.3 * normal(size=d_model)}
    return p


def count_parameters(p) -> int:
    """The number of numbers in a nested dict of arrays."""
    if isinstance(p, dict):
        return sum(count_parameters(v) for v in p.values())
    return int(np.asarray(p).size)


# Running a formula's own object (see mhasym.catalog.evaluate) and naming its inputs.

EPSILON = 1e-5  # LayerNorm's epsilon in the checks (PyTorch's default)


class Inputs:
    """Arrays for the free symbols of a formula: ``table[key]`` lists candidate arrays for a
    matrix named ``key`` (head-indexed keys give one array per head); the one whose shape is
    the symbol's shape is used. A symbol with no array of its shape gets the leading block of
    a larger one when a wrong formula asks for another shape (``W^O`` with d_v rows), and
    otherwise stops the check with a one-line error."""

    def __init__(self, table: dict, scalars: dict | None = None, layers=None):
        self.table, self.scalars, self.layers = table, dict(scalars or {}), layers
        self.exact = {}  # symbol -> array: a formula's own arguments, bound by position

    def __call__(self, path, symbol):
        import sympy as sp

        from mhasym.errors import MhasymError

        if not path and symbol in self.exact:
            return self.exact[symbol]
        if isinstance(symbol, sp.Symbol):
            if symbol.name in self.scalars:
                return self.scalars[symbol.name]
            raise MhasymError(f"no value for the scalar {symbol.name}")
        table = self.table
        if path and self.layers is not None:
            table = self.layers(path)
        key = getattr(symbol, "key", symbol.name)
        index = getattr(symbol, "index", None)
        shape = tuple(int(d) for d in symbol.shape)
        found = table.get(key, [])
        if callable(found):
            found = found(index)  # one array per head or layer number
        elif index is not None:
            found = []  # X_1 is not X
        for array in found:
            if array.shape == shape:
                return array
        for array in found:
            if array.ndim == 2 and array.shape[0] >= shape[0] and array.shape[1] >= shape[1]:
                return array[: shape[0], : shape[1]]
        raise MhasymError(f"no input for {symbol.name} of shape {shape}")


def _indexed(arrays: dict):
    """A table entry for an indexed symbol (W^Q_i, gamma_k): ``{index: array}`` looked up by the symbol's index;
    ``{None: array}`` for a symbol without one."""
    if list(arrays) == [None]:
        return [arrays[None]]
    return lambda index: [arrays[int(index)]] if index is not None and index.is_Integer and int(index) in arrays else []


def _per_head(stack):
    """One array per head, heads counted from 1."""
    return _indexed(dict(enumerate(stack, 1)))


def attention_bindings(x: dict) -> Inputs:
    """Inputs of attention formulas from :func:`attention_inputs`: Q, K, V of one head or the
    sequences X (n rows) and X_kv (m rows), the weights of every head, masks."""
    additive = np.where(x["mask"], 0.0, -np.inf)
    return Inputs({
        "Q": [x["q"], x["x_q"]], "K": [x["k"], x["x_kv"]], "V": [x["v"], x["x_kv"]],
        "X": [x["x_q"]], "Y": [x["x_q"]], "X_kv": [x["x_kv"]], "memory": [x["x_kv"]],
        "H": _indexed({1: x["x_q"]}),  # H_1: the decoder's queries in cross-attention
        "W_Q": _per_head(x["w_q"]), "W_K": _per_head(x["w_k"]), "W_V": _per_head(x["w_v"]), "W_O": [x["w_o"]],
        "M": [additive], "B": [x["mask"].astype(float)],
    }, {"epsilon": EPSILON})


def layer_tables(p: dict) -> dict:
    """A layer's parameters ``p`` as lookup tables of its symbols, by :func:`mhasym.model.transformer.parameter_layout`
    (the one place that says which entry of ``p`` each symbol is): ``{"self_attn": {"W_Q": ...}, "cross_attn": ...,
    "layer": {"W": ..., "b": ..., "gamma": ..., "beta": ...}}``."""
    from mhasym.model import transformer

    decoder = "cross_attn" in p
    found = {}
    for path, key, index in transformer.parameter_layout(len(p["self_attn"]["w_q"]), decoder):
        value = p
        for part in path:
            value = value[part]
        value = np.asarray(value)
        group = path[0] if path[0].endswith("_attn") else "layer"
        found.setdefault(group, {}).setdefault(key, {})[index] = value[None, :] if value.ndim == 1 else value

    return {group: {key: _indexed(arrays) for key, arrays in table.items()} for group, table in found.items()}


def layer_bindings(x, memory, params, mask=None) -> Inputs:
    """Inputs of layer formulas: the sequences, an additive causal mask, and ``params`` (one layer's
    parameters, or a list, one per layer of a stack). The k-th MultiHead call of a layer takes
    ``self_attn`` (k = 1) or ``cross_attn`` (k = 2); FFN its ``ffn``; gamma_k, beta_k its ``norm_k``."""
    stack = [layer_tables(p) for p in (params if isinstance(params, list) else [params])]
    n = x.shape[0]
    causal = np.where(np.tril(np.ones((n, n), bool)), 0.0, -np.inf)
    top = {"X": [x], "Y": [x], "Q": [x], "memory": [memory], "M_causal": [causal], "M": [causal]}

    def layers(path):
        p, rest = stack[0], list(path)
        if rest and rest[0][0] in ("EncoderLayer", "DecoderLayer"):
            k = rest.pop(0)[1]
            if k > len(stack):
                return {}
            p = stack[k - 1]
        if not rest:
            return {**top, **p["layer"]}
        name, k = rest[0]
        if name == "MultiHead":
            block = ["self_attn", "cross_attn"][k - 1] if k <= 2 else None
            return p.get(block, {})
        if name == "FFN":
            return p["layer"]
        return {}

    return Inputs({**top, **stack[0]["layer"]}, {"epsilon": EPSILON}, layers)


def run_formula(f, expr, sizes: dict, inputs, functions=None, args=None, defines=True):
    """``expr`` (a version of formula ``f``) evaluated at ``sizes`` on ``inputs``; named calls are
    unfolded through the catalog, where what ``f`` defines now means ``expr``. ``args`` are arrays
    for the operands of the left-hand side (``Attention(Q, K, V)``), bound by position, as when a
    function is called. ``defines=False`` for a helper expression that only calls definitions.
    Returns (array, via)."""
    from mhasym.catalog.registry import formula
    from mhasym.errors import MhasymError
    from mhasym.catalog.evaluate import DEFINITIONS, evaluate, own_key, pattern, size_values

    own = {DEFINITIONS.get(own_key(f.expr)), DEFINITIONS.get(own_key(expr)), f.id} - {None} if defines else set()

    def definitions(fid):
        return expr if fid in own else formula(fid).expr

    if args is not None:
        operands = list(getattr(pattern(expr), "operands", ()))
        if len(operands) != len(args):
            raise MhasymError(f"the left-hand side takes {len(operands)} arguments, the check gives {len(args)}")
        values = size_values(sizes)
        # the operands come from the call alone: a body that uses another Q than its parameter fails
        inputs = Inputs({k: v for k, v in inputs.table.items()
                         if k not in {getattr(op, "key", None) for op in operands}}, inputs.scalars, inputs.layers)
        for op, array in zip(operands, args):
            op = op.xreplace(values)
            if tuple(int(d) for d in op.shape) != array.shape:
                raise MhasymError(f"argument {op} has shape {tuple(op.shape)}, the check gives {array.shape}")
            inputs.exact[op] = array
    got, program = evaluate(expr, sizes, inputs, functions, definitions)
    return np.asarray(got, dtype=float), [v for v in program.via if v != f.id]


def via_text(via) -> str:
    return f" (via {', '.join(via)})" if via else ""


def numeric(f, expr, what: str, sizes: dict, inputs, want, *, seed=SEED, functions=None, shown_sizes=None,
            args=None):
    """A numeric check: ``expr`` run at ``sizes`` on ``inputs`` (``args`` for the operands of its
    left-hand side) against ``want``. A formula that does not run (a shape error, a call with no
    definition) fails with the reason."""
    shown = dict(shown_sizes or sizes)
    try:
        got, via = run_formula(f, expr, sizes, inputs, functions, args)
    except Exception as exc:  # any error of a wrong version is a failed check, said in one line
        return failed(f.id, "numeric", what, shown, exc, seed)
    return compare_arrays(f.id, what + via_text(via), got, want, shown, seed)


def vacuous(fid, expr, what, sizes) -> CheckResult | None:
    """A failed identity check when a line of ``expr`` has the same two sides: X = X proves nothing."""
    rows = expr.args if type(expr).__name__ in ("Group", "Aligned") else (expr,)
    for row in rows:
        if getattr(row, "lhs", None) is not None and row.lhs == row.rhs:
            return CheckResult(fid, "identity", what, False, dict(sizes),
                               detail="both sides are the same expression: nothing is proven", refused=True)
    return None


def _named_lhs(expr):
    """The left-hand side of a one-line formula when it names a result (``X``, ``Z_1``, ``M_{ij}``)."""
    from sympy.matrices.expressions import MatrixSymbol
    from sympy.matrices.expressions.matexpr import MatrixElement

    from mhasym.model.expressions import Relation

    lhs = getattr(expr, "lhs", None) if isinstance(expr, Relation) else None
    if isinstance(lhs, MatrixElement) and isinstance(lhs.parent, MatrixSymbol) or isinstance(lhs, MatrixSymbol):
        return lhs
    return None


def defines_other(fid, original, expr) -> CheckResult | None:
    """A failed check when ``expr`` puts another name on the left than the entry defines (``X_1 = ...``
    for ``X = ...``, ``M_{i+1,j}`` for ``M_{ij}``): the other formulas of the catalog use the name."""
    want, got = _named_lhs(original), _named_lhs(expr)
    if want is not None and got != want:
        return CheckResult(fid, "numeric", "the name on the left-hand side", False,
                           detail=f"this entry defines {want}, the formula defines {got}", refused=True)
    return None


def failed(fid, kind, what, sizes, exc, seed=None) -> CheckResult:
    """A check whose formula did not run: ``refused`` says so."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return CheckResult(fid, kind, what, False, dict(sizes), seed, detail=f"did not run: {message}", refused=True)
