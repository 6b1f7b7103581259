# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The callback watches SIGTERM and SIGINT from its first playbook event: each test gives the handlers back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import signal

import pytest


@pytest.fixture(autouse=True)
def signal_handlers_restored():
    saved = dict((signum, signal.getsignal(signum)) for signum in (signal.SIGTERM, signal.SIGINT))
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)
