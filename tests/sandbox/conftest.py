# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Makes the sandbox fixtures available to the sandbox's own tests."""

from upsun_sandbox.pytest_plugin import sandbox, sandbox_factory

__all__ = ["sandbox", "sandbox_factory"]
