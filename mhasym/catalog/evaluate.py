"""Run a catalog formula as a program: the object that is printed is the object that is run.

``evaluate(expr, sizes, bind)`` takes a formula's SymPy object (a right-hand side, or a
whole relation or aligned block) and

1. substitutes the check's sizes (``h -> 3, n -> 4, ...``) and calls ``doit``, so that
   ``Concat(head_1, ..., head_h)`` becomes three blocks and a sum over heads three terms;
2. unfolds every named operation through the catalog entry that defines it, like a
   function call: the entry's left-hand side is the pattern (``Attention(Q, K, V)``),
   its right-hand side the body, and the call's arguments replace the parameters;
3. compiles what is left (:mod:`mhasym.printing.numpy_printer`) and runs it on arrays that
   ``bind`` gives for each free matrix and scalar.

Parameters that a definition's body uses but its pattern does not name (the weights of
``MultiHead``, the ``gamma`` of a layer) belong to each call: the k-th call of ``MultiHead``
in evaluation order gets its own, and ``bind`` is told the path of calls it sits in,
e.g. ``(("DecoderLayer", 2), ("MultiHead", 1))``.

>>> from mhasym.catalog.registry import formula
>>> program = unfold(formula("mha.multihead").expr.rhs, {"n": 2, "m": 3, "d_model": 4, "h": 2, "d_k": 2, "d_v": 2})
>>> sorted(program.via)
['attention.sdpa', 'mha.head']
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from mhasym.model import notation
from mhasym.printing.numpy_printer import compile_function
from mhasym.errors import MhasymError
from mhasym.model.expressions import Aligned, Apply, Group, Let, Relation

# What a catalog entry defines: (name, number of arguments) -> entry id. ``head`` is the
# matrix head_i, defined with an index (a macro expanded inside the call that uses it).
DEFINITIONS = {
    ("Attention", 3): "attention.sdpa",
    ("Attention", 4): "attention.masked",
    ("head", None): "mha.head",
    ("MultiHead", 3): "mha.multihead",
    ("MultiHead", 4): "mha.multihead_masked",
    ("FFN", 1): "tr.ffn",
    ("EncoderLayer", 1): "tr.encoder_layer",
    ("DecoderLayer", 2): "tr.decoder_layer",
    ("Encoder", 1): "tr.encoder_stack",
    ("Decoder", 2): "tr.decoder_stack",
}

MAX_DEPTH = 12  # calls inside calls; the definitions form no cycle, this stops a wrong one


def size_values(sizes: dict) -> dict:
    """``{"n": 4, "i": 2}`` as ``{n: 4, i: 2}`` with the symbols of :mod:`mhasym.model.notation`."""
    out = {}
    for name, value in sizes.items():
        if name in notation.DIMENSIONS:
            out[notation.dim(name)] = sp.Integer(value)
        elif name in notation.SCALARS:
            out[notation.scalar(name)] = sp.Integer(value)
    return out


def body(expr):
    """A formula as one expression: its right-hand side, with the named steps of an aligned
    block (``H_1 = ...`` on its own line) put in where the last line uses them."""
    expr = expr.replace(lambda e: isinstance(e, Let), lambda e: e.name)
    if isinstance(expr, Relation):
        return expr.rhs
    if isinstance(expr, Aligned):
        steps = {}
        for row in expr.args[:-1]:
            steps[row.lhs] = row.rhs.xreplace(steps)
        return expr.args[-1].rhs.xreplace(steps)
    if isinstance(expr, Group):
        return body(expr.args[0])
    return expr


def pattern(expr):
    """The left-hand side of a definition (the last line of an aligned block, the first of a group)."""
    if isinstance(expr, Aligned):
        return expr.args[-1].lhs
    if isinstance(expr, Group):
        return pattern(expr.args[0])
    return expr.lhs


def own_key(expr):
    """What a formula defines, when its left-hand side is a pattern (a call on matrix symbols, or
    head_i): the key of :data:`DEFINITIONS`; None otherwise."""
    lhs = pattern(expr) if isinstance(expr, (Relation, Aligned, Group)) else None
    if isinstance(lhs, Apply) and not all(isinstance(o, MatrixSymbol) for o in lhs.operands):
        return None
    return _key(lhs) if lhs is not None else None


def _key(e):
    if isinstance(e, Apply):
        return (e.name, len(e.operands))
    if isinstance(e, notation.NamedMatrix) and e.key == "head" and e.index is not None:
        return ("head", None)
    return None


@dataclass
class Program:
    """A formula with its sizes put in and every named call unfolded."""

    expr: object
    via: list = field(default_factory=list)  # ids of the definitions unfolded, in order
    steps: list = field(default_factory=list)  # (name, value): the result of each call, computed once
    params: dict = field(default_factory=dict)  # a call's own parameter -> (path, the symbol as written)


def _unify(pattern_shape, arg_shape, found: dict) -> None:
    for p, a in zip(pattern_shape, arg_shape):
        if isinstance(p, sp.Symbol) and p not in found:
            found[p] = a


class _Unfolder:
    def __init__(self, sizes: dict, definitions=None):
        self.sizes = size_values(sizes)
        self.definitions = definitions or _catalog_definitions
        self.program = Program(None)

    def definition(self, key):
        fid = DEFINITIONS.get(key)
        if fid is None:
            return None, None
        return fid, self.definitions(fid)

    def prepare(self, expr, sizes):
        """Sizes put in, ``doit``, and head_i written out through its definition."""
        expr = expr.xreplace(sizes).doit()
        heads = [e for e in sp.preorder_traversal(expr) if _key(e) == ("head", None)]
        if not heads:
            return expr
        fid, definition = self.definition(("head", None))
        table = {}
        for h in set(heads):
            lhs = pattern(definition)
            unified = {lhs.args[3]: h.args[3]}
            _unify(lhs.shape, h.shape, unified)
            found = {**sizes, **unified}
            table[h] = self.prepare(body(definition), found)
        self._used(fid)
        return expr.xreplace(table)

    def _used(self, fid):
        if fid not in self.program.via:
            self.program.via.append(fid)

    def instantiate(self, call, path, depth):
        name, count = call.name, len(call.operands)
        fid, definition = self.definition((name, count))
        if definition is None:
            return None
        if depth > MAX_DEPTH:
            raise MhasymError(f"calls nested more than {MAX_DEPTH} deep at {name}: the definitions form a cycle")
        lhs = pattern(definition)
        params = list(lhs.operands)
        operands = list(call.operands)
        unified = {}
        for p, a in zip(params, operands):
            _unify(p.shape, a.shape, unified)
        found = {**self.sizes, **unified}
        self._used(fid)
        raw = self.prepare(body(definition), found)
        formal = [p.xreplace(found) for p in params]
        own = {s for s in raw.free_symbols if isinstance(s, MatrixSymbol) and s not in formal}
        renamed = {}
        for s in own:
            if s in self.program.params:  # already a call's own parameter: belongs to that call
                continue
            tagged = MatrixSymbol(f"{s.name}|" + "/".join(f"{n}{k}" for n, k in path), *s.shape)
            self.program.params[tagged] = (path, s)
            renamed[s] = tagged
        return raw.xreplace({**renamed, **dict(zip(formal, operands))})

    def unfold(self, expr, path=(), depth=0):
        counter = defaultdict(int)
        done = {}  # a call that appears twice (H in a residual and in its sublayer) is one call

        def visit(e):
            if not isinstance(e, sp.Basic) or not e.args or isinstance(e, MatrixSymbol):
                return e
            if e not in done:
                done[e] = visit_new(e)
            return done[e]

        def visit_new(e):
            args = [visit(a) for a in e.args]
            if any(a is not b for a, b in zip(args, e.args)):
                e = e.func(*args)
            if isinstance(e, Apply):
                counter[e.name] += 1
                site = path + ((e.name, counter[e.name]),)
                out = self.instantiate(e, site, depth + 1)
                if out is not None:
                    value = self.unfold(out, site, depth + 1)
                    name = MatrixSymbol(f"_call{len(self.program.steps)}", *value.shape)
                    self.program.steps.append((name, value))
                    return name
            return e

        return visit(expr)


def _catalog_definitions(fid):
    from mhasym.catalog.registry import formula

    return formula(fid).expr


def unfold(expr, sizes: dict, definitions=None) -> Program:
    """``expr`` (a formula or its right-hand side) at ``sizes``, with every named call unfolded.

    ``definitions`` maps an entry id to the relation that defines it (the catalog by default).
    """
    u = _Unfolder(sizes, definitions)
    prepared = u.prepare(body(expr), u.sizes)
    u.program.expr = u.unfold(prepared)
    return u.program


def evaluate(expr, sizes: dict, bind, functions=None, definitions=None):
    """The numbers of ``expr`` at ``sizes``: ``bind(path, symbol)`` gives the array of each free
    matrix (or the number of each free scalar); ``functions`` maps names of calls that no entry
    defines (``Sublayer``) to NumPy functions. Returns ``(array, program)``."""
    program = unfold(expr, sizes, definitions)
    computed = {name for name, _ in program.steps}
    free = set(program.expr.free_symbols)
    for _, value in program.steps:
        free |= value.free_symbols
    free = sorted(free - computed, key=lambda s: str(s))
    values = []
    for s in free:
        path, written = program.params.get(s, ((), s))
        values.append(bind(path, written))
    run = compile_function(free, program.expr, functions=functions, steps=program.steps)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return run(*values), program
