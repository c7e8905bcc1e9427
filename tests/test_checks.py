"""The shared option checks: what each accepts, refuses, and how it says so."""
import math

import numpy as np
import pytest

from aliprod_plugins.checks import check_bool, check_int, check_number


@pytest.mark.parametrize('value', [1, 5, np.int64(3), np.int32(1)])
def test_int_accepts_integers_in_range(value):
    out = check_int('n', value, low=1, high=5)
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize('value', [0, 6, True, False, 1.0, '2', None, np.float32(2)])
def test_int_refuses_out_of_range_bools_floats_strings_none(value):
    with pytest.raises(ValueError, match=r'^n expected an int in \[1, 5\], got '):
        check_int('n', value, low=1, high=5)


def test_int_none_allowed_and_message_names_owner_and_none():
    assert check_int('max_per_class', None, low=1, allow_none=True) is None
    with pytest.raises(ValueError, match=r'^Dataset: max_per_class expected an int >= 1 or None, '
                       r'got 0$'):
        check_int('max_per_class', 0, low=1, allow_none=True, owner='Dataset')


def test_int_only_upper_bound_and_no_bound():
    assert check_int('k', -7) == -7
    assert check_int('k', -7, high=0) == -7
    with pytest.raises(ValueError, match='expected an int <= 0, got 1'):
        check_int('k', 1, high=0)


@pytest.mark.parametrize('value', [0.5, 1, np.float64(0.25), 0])
def test_number_accepts_reals_and_returns_float(value):
    out = check_number('t', value, low=0, high=1)
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize('value', [math.nan, math.inf, -math.inf, True, '0.5', None, 1.5, -0.1])
def test_number_refuses_nonfinite_bool_string_out_of_range(value):
    with pytest.raises(ValueError, match=r'expected a number in \[0, 1\], got'):
        check_number('t', value, low=0, high=1)


def test_number_open_bounds():
    with pytest.raises(ValueError, match=r'expected a number > 0, got 0'):
        check_number('scale', 0, low=0, low_open=True)
    assert check_number('scale', 1e-9, low=0, low_open=True) == 1e-9
    with pytest.raises(ValueError, match=r'expected a number in \(0, 1\), got 1'):
        check_number('p', 1, low=0, high=1, low_open=True, high_open=True)
    with pytest.raises(ValueError, match=r'expected a number < 2, got 2'):
        check_number('p', 2, high=2, high_open=True)


@pytest.mark.parametrize('value', [0, 1, 'true', None, np.bool_(True)])
def test_bool_refuses_non_bools(value):
    with pytest.raises(ValueError, match='expected a bool, got'):
        check_bool('flag', value)


def test_bool_accepts_bools_and_none_when_allowed():
    assert check_bool('flag', True) is True and check_bool('flag', False) is False
    assert check_bool('flag', None, allow_none=True) is None
