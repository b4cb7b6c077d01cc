"""PURE: does a value read from JSON have the shape records.py declares? The first field that does not.

A results.json can come from anywhere (another version, a hand edit, a hostile file): ``"stack": 5``
or ``"parsed": {"epochs": 5}`` must become one line naming the field, not a traceback deep in a
renderer. The shapes are records.py's TypedDicts, read at run time, so the check and the types that
mypy holds the code to are one and the same.

Rules (what JSON gives and what the writers of results.json produce):
- every key of a record is optional (older files lack newer keys) and unknown keys are allowed
  (newer files have them); present keys must have the declared type;
- ``float`` also takes whole numbers and the strings ``"nan"``, ``"inf"`` and ``"-inf"``
  (results.json_safe writes non-finite numbers so); ``int`` and ``float`` never take true/false.
"""

from typing import Any, Dict, List, Optional, Union, get_args, get_origin, get_type_hints

NON_FINITE = ("nan", "inf", "-inf")


def json_kind(value: object) -> str:
    """What *value* is, in JSON's words: ``a string``, ``a number``, ``a list``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_record(shape: Any) -> bool:
    """A TypedDict class (typing.is_typeddict is 3.10+)."""
    return isinstance(shape, type) and issubclass(shape, dict) and hasattr(shape, "__total__")


def expected(shape: Any) -> str:
    """*shape* in words: ``a string or null``, ``a list``, ``an object``."""
    if shape is Any:
        return "anything"
    if get_origin(shape) is Union:
        return " or ".join(expected(arg) for arg in get_args(shape))
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true/false", type(None): "null"}
    if shape in names:
        return names[shape]
    if get_origin(shape) is list:
        return "a list"
    return "an object"


def _scalar_ok(value: object, shape: Any) -> bool:
    if shape is bool:
        return isinstance(value, bool)
    if shape is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if shape is float:
        return (isinstance(value, (int, float)) and not isinstance(value, bool)) or value in NON_FINITE
    if shape is str:
        return isinstance(value, str)
    return value is None if shape is type(None) else True


def problem(value: object, shape: Any, where: str = "") -> Optional[str]:
    """``"parsed.epochs" must be a list, found a number``: the first mismatch, or None."""
    origin = get_origin(shape)
    if origin is Union:
        if any(problem(value, arg) is None for arg in get_args(shape)):
            return None
        record = next((arg for arg in get_args(shape) if _is_record(arg)), None)
        if record is not None and isinstance(value, dict):
            return problem(value, record, where)  # the nested field is more use than "an object"
        return _mismatch(value, shape, where)
    if origin is list:
        if not isinstance(value, list):
            return _mismatch(value, shape, where)
        return _first(problem(item, get_args(shape)[0], "%s[%d]" % (where, i)) for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            return _mismatch(value, shape, where)
        item_shape = get_args(shape)[1]
        return _first(problem(item, item_shape, _key(where, key)) for key, item in value.items())
    if _is_record(shape):
        if not isinstance(value, dict):
            return _mismatch(value, shape, where)
        return _record_problem(value, shape, where)
    return None if _scalar_ok(value, shape) else _mismatch(value, shape, where)


def _record_problem(value: Dict[str, Any], shape: Any, where: str) -> Optional[str]:
    hints = get_type_hints(shape)
    return _first(problem(value[key], hint, _key(where, key)) for key, hint in hints.items() if key in value)


def _key(where: str, key: object) -> str:
    return "%s.%s" % (where, key) if where else str(key)


def _first(problems: Any) -> Optional[str]:
    for found in problems:
        if found is not None:
            return str(found)
    return None


def _mismatch(value: object, shape: Any, where: str) -> str:
    return '"%s" must be %s, found %s' % (where or "value", expected(shape), json_kind(value))


__all__: List[str] = ["NON_FINITE", "expected", "json_kind", "problem"]
