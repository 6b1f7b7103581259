# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``upsun.support.ticket_comment`` action: on a local connection, the module's code runs in the controller's worker.

See ``plugins/plugin_utils/controller_module.py``; elsewhere the module runs as any module does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.controller_module import ModuleAction


class ActionModule(ModuleAction):

    MODULE = 'ticket_comment'
