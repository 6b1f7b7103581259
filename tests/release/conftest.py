# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The offline API sandbox (tests/sandbox) for the release tests that file a ticket, however pytest is started."""

import os
import sys

SANDBOX_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'sandbox')
if SANDBOX_DIR not in sys.path:
    sys.path.insert(0, SANDBOX_DIR)

from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory  # noqa: E402,F401 pylint: disable=import-error,unused-import,wrong-import-position
