# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures of the module tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import types
from unittest import mock

import pytest


@pytest.fixture
def spec_mocks(http_calls):
    """``spec_mocks(module, *names)``: those functions of ``module`` as spec'd mocks for the test, in a namespace.

    What the module decides is tested without the wire: no request may leave the test.
    """
    with contextlib.ExitStack() as stack:
        def patch(module, *names):
            return types.SimpleNamespace(**dict(
                (name, stack.enter_context(mock.patch.object(module, name, autospec=True))) for name in names))
        yield patch
    assert http_calls == []
