"""`quick_init` builds the same values as a frozen dataclass's own `__init__`, only faster."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shsync.core.frozen import quick_init
from shsync.core.operations import Operation
from shsync.core.state import ClientState, End, MemberState

# One field list, two classes: the dataclass's own __init__, and quick_init's.
FIELDS: list[tuple[str, Any] | tuple[str, Any, Any]] = [
    ("id", str), ("practitioner", str), ("access", tuple, dataclasses.field(default=())),
    ("supervisor", str, dataclasses.field(default=None)),
    ("ends", tuple, dataclasses.field(default=()))]


def made(name: str) -> type[Any]:
    cls = dataclasses.make_dataclass(name, FIELDS, frozen=True, slots=True)
    cls.__module__ = __name__  # so pickle finds it here
    return cls


Generated = made("Generated")
Quick = quick_init(made("Quick"))


def fields_of(value) -> dict:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


texts = st.text(max_size=5)


@given(texts, texts, st.lists(texts, max_size=3).map(tuple), st.none() | texts,
       st.integers(0, 4), st.booleans())
def test_it_builds_what_the_generated_init_builds(cid, treating, access, signing, given_, keywords):
    values = (cid, treating, access, signing)[:max(given_, 2)]
    if keywords:
        names = ("id", "practitioner", "access", "supervisor")
        kwargs = dict(zip(names, values))
        assert fields_of(Quick(**kwargs)) == fields_of(Generated(**kwargs))
    else:
        assert fields_of(Quick(*values)) == fields_of(Generated(*values))


def test_the_signature_and_the_argument_errors_are_the_generated_ones():
    def parameters(cls):
        return [(p.name, p.default, p.kind) for p in inspect.signature(cls).parameters.values()]

    assert parameters(Quick) == parameters(Generated)
    wrong: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("c",), {}), (("c", "p", (), None, (), "extra"), {}),
        (("c", "p"), {"nope": 1}), (("c", "p"), {"id": "again"})]
    for args, kwargs in wrong:
        with pytest.raises(TypeError):
            Generated(*args, **kwargs)
        with pytest.raises(TypeError):
            Quick(*args, **kwargs)


def test_the_value_stays_a_frozen_dataclass():
    value = Quick("c", "p", ("a",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.id = "other"
    assert value == Quick("c", "p", ("a",)) and hash(value) == hash(Quick("c", "p", ("a",)))
    assert dataclasses.replace(value, supervisor="s") == Quick("c", "p", ("a",), "s")
    assert pickle.loads(pickle.dumps(value)) == value == copy.deepcopy(value)


@pytest.mark.parametrize("cls", [ClientState, MemberState, End, Operation])
def test_the_values_built_by_the_hundred_thousand_use_it(cls):
    assert "_set0" in cls.__init__.__code__.co_names


def test_it_refuses_what_it_cannot_build_the_same():
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True, slots=True)
    class After:
        a: int

        def __post_init__(self) -> None: ...

    for cls in (NoSlots, NotFrozen, Factory, After):
        with pytest.raises(TypeError):
            quick_init(cls)
