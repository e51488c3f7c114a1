"""nnspec.record behaves as the dataclasses it replaced: fields, defaults, immutability, equality."""

from __future__ import annotations

from typing import ClassVar

import pytest

from nnspec.record import factory, fields, record, replace


@record
class Point:
    """A value: equal when its fields are."""

    x: int
    y: int = 0
    label: ClassVar[str] = "point"  # not a field


@record(eq=False)
class Node:
    """An identity: equal only to itself."""

    name: str
    attrs: dict = factory(dict)


@record
class Clamped:
    """__post_init__ runs after the fields are set."""

    value: int

    def __post_init__(self):
        object.__setattr__(self, "value", max(0, self.value))


def test_fields_defaults_and_class_vars():
    assert fields(Point) == ("x", "y") == fields(Point(1))
    assert (Point(1).y, Point(1, 2).y, Point(y=3, x=1).y) == (0, 2, 3)
    assert Point.label == "point"
    with pytest.raises(TypeError):
        Point()  # x has no default


def test_immutable_and_replace():
    p = Point(1, 2)
    with pytest.raises(AttributeError, match="immutable"):
        p.x = 5
    with pytest.raises(AttributeError):
        del p.y
    q = replace(p, y=7)
    assert (p.x, p.y, q.x, q.y) == (1, 2, 1, 7)
    with pytest.raises(TypeError, match="no field 'z'"):
        replace(p, z=1)


def test_value_equality_and_hash():
    assert Point(1, 2) == Point(1, 2) and hash(Point(1, 2)) == hash(Point(1, 2))
    assert Point(1, 2) != Point(2, 1)
    assert len({Point(1), Point(1, 0), Point(2)}) == 2
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"


def test_identity_equality_and_factories():
    a, b = Node("a"), Node("a")
    assert a != b and a == a and len({a, b}) == 2
    assert a.attrs == {} and a.attrs is not b.attrs
    shared = {"k": 1}
    assert Node("c", shared).attrs is shared


def test_post_init():
    assert Clamped(-3).value == 0 and Clamped(4).value == 4
