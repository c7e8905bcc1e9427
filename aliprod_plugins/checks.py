"""One place for the checks of a scalar option: int, number, bool, with bounds.

Every component and tool checks its options through these, so that a bad value raises one
kind of message everywhere::

    check_int('max_per_class', 0, low=1, allow_none=True, owner='AliProductsDataset')
    ValueError: AliProductsDataset: max_per_class expected an int >= 1 or None, got 0

``bool`` is refused where an int or a number is expected (``True`` is an ``int`` to Python,
and ``interval=True`` is always a mistake); numpy integers and reals are accepted and
returned as Python ``int`` / ``float``.
"""
import math
import numbers
from typing import Optional, Union

Number = Union[int, float]


def _range_text(low: Optional[Number], high: Optional[Number], low_open: bool,
                high_open: bool) -> str:
    if low is not None and high is not None:
        return f' in {"(" if low_open else "["}{low}, {high}{")" if high_open else "]"}'
    if low is not None:
        return f' {">" if low_open else ">="} {low}'
    if high is not None:
        return f' {"<" if high_open else "<="} {high}'
    return ''


def _fail(name: str, value, expected: str, allow_none: bool, owner: Optional[str]) -> None:
    where = f'{owner}: ' if owner else ''
    none = ' or None' if allow_none else ''
    raise ValueError(f'{where}{name} expected {expected}{none}, got {value!r}')


def _in_range(value: Number, low: Optional[Number], high: Optional[Number], low_open: bool,
              high_open: bool) -> bool:
    if low is not None and (value <= low if low_open else value < low):
        return False
    if high is not None and (value >= high if high_open else value > high):
        return False
    return True


def check_int(name: str, value, *, low: Optional[int] = None, high: Optional[int] = None,
              allow_none: bool = False, owner: Optional[str] = None) -> Optional[int]:
    """Return ``value`` as an ``int`` if it is an integer in ``[low, high]``.

    Args:
        name (str): The option's name, for the message.
        value: What was given.
        low (int, optional): Smallest value allowed. Defaults to None (no bound).
        high (int, optional): Largest value allowed. Defaults to None (no bound).
        allow_none (bool): Whether ``None`` is allowed (and returned). Defaults to False.
        owner (str, optional): Who owns the option (a class or tool), for the message.
            Defaults to None.

    Returns:
        int or None: The value as a Python ``int``.

    Raises:
        ValueError: ``expected an int >= 1, got 0``: what was expected, what was given.
    """
    if value is None and allow_none:
        return None
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or not _in_range(value, low, high, False, False)):
        _fail(name, value, 'an int' + _range_text(low, high, False, False), allow_none, owner)
    return int(value)


def check_number(name: str, value, *, low: Optional[Number] = None,
                 high: Optional[Number] = None, low_open: bool = False, high_open: bool = False,
                 allow_none: bool = False, owner: Optional[str] = None) -> Optional[float]:
    """Return ``value`` as a ``float`` if it is a finite real number within the bounds.

    Args:
        name (str): The option's name, for the message.
        value: What was given.
        low (int | float, optional): Lower bound. Defaults to None (no bound).
        high (int | float, optional): Upper bound. Defaults to None (no bound).
        low_open (bool): Whether ``low`` itself is refused (``> low``). Defaults to False.
        high_open (bool): Whether ``high`` itself is refused (``< high``). Defaults to False.
        allow_none (bool): Whether ``None`` is allowed (and returned). Defaults to False.
        owner (str, optional): Who owns the option, for the message. Defaults to None.

    Returns:
        float or None: The value as a Python ``float``.

    Raises:
        ValueError: ``expected a number > 0, got -1``; NaN and infinities are refused.
    """
    if value is None and allow_none:
        return None
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or not _in_range(value, low, high, low_open, high_open)):
        _fail(name, value, 'a number' + _range_text(low, high, low_open, high_open), allow_none,
              owner)
    return float(value)


def check_bool(name: str, value, *, allow_none: bool = False,
               owner: Optional[str] = None) -> Optional[bool]:
    """Return ``value`` if it is a ``bool`` (not 0 / 1, not a string).

    Args:
        name (str): The option's name, for the message.
        value: What was given.
        allow_none (bool): Whether ``None`` is allowed (and returned). Defaults to False.
        owner (str, optional): Who owns the option, for the message. Defaults to None.

    Returns:
        bool or None: The value.

    Raises:
        ValueError: ``expected a bool, got 'yes'``.
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, bool):
        _fail(name, value, 'a bool', allow_none, owner)
    return value
