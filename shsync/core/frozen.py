"""Quicker construction of the frozen, slotted values a large practice builds by the hundred
thousand (a client state per client, several times per plan and apply).

A frozen dataclass's generated `__init__` sets each field with `object.__setattr__(self, name,
value)`, looking the attribute up by name every time, since its own `__setattr__` refuses. A
slot's descriptor sets the same storage directly, and builds a client state in half the time
(1.1-1.3 -> 0.6-0.7 us; 600,000 of them in an L onboarding apply). Only construction changes:
the class stays a frozen dataclass (assignment refused, equality, hash, `replace`, pickling).
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Give `cls` (a frozen, slotted dataclass whose fields are all set by `__init__`, with plain
    defaults and no `__post_init__`) an `__init__` of the same signature that sets its slots
    through their descriptors."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    params = getattr(cls, "__dataclass_params__", None)
    if (params is None or not params.frozen or "__slots__" not in cls.__dict__
            or hasattr(cls, "__post_init__")
            or any(not f.init or f.default_factory is not dataclasses.MISSING
                   or not f.name.isidentifier() for f in fields)):
        raise TypeError(f"quick_init takes a frozen, slotted dataclass with plain fields, "
                        f"not {cls.__qualname__}")
    namespace: dict[str, Any] = {}
    signature = []
    for i, f in enumerate(fields):
        namespace[f"_set{i}"] = cls.__dict__[f.name].__set__
        if f.default is dataclasses.MISSING:
            signature.append(f.name)
        else:
            namespace[f"_default{i}"] = f.default
            signature.append(f"{f.name}=_default{i}")
    body = "".join(f"    _set{i}(self, {f.name})\n" for i, f in enumerate(fields))
    # The same way dataclasses writes the __init__ it generates: from the field names alone.
    exec(f"def __init__(self, {', '.join(signature)}):\n{body}", namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
