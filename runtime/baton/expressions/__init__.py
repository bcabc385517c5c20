"""Runtime expressions (jq), compiled once when a workflow is compiled, never per run.

``compile_expression`` is for fields that are always expressions (``if``, ``switch`` ``when``,
``for.in``, ``input.from``...); ``compile_value`` for structures in which strings may be
expressions (``set``, ``with`` bodies), in the spec's ``strict`` or ``loose`` mode. Plain field
paths are evaluated natively with jq's exact semantics; everything else runs in libjq.
"""

from baton.expressions._compile import (
    EMPTY_VARIABLES,
    Expression,
    Mode,
    ValueTemplate,
    compile_expression,
    compile_value,
    is_strict_expression,
    strip_expression,
)
from baton.expressions._errors import ExpressionError

__all__ = [
    "EMPTY_VARIABLES",
    "Expression",
    "ExpressionError",
    "Mode",
    "ValueTemplate",
    "compile_expression",
    "compile_value",
    "is_strict_expression",
    "strip_expression",
]
