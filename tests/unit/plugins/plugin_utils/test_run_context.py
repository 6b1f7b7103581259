# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The context of a run: its CI job, its time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.upsun.support.plugins.plugin_utils.run_context import ci_job_url


def test_the_ci_job_url_of_known_ci_systems():
    assert ci_job_url({'GITHUB_REPOSITORY': 'acme/shop', 'GITHUB_RUN_ID': '9'}) == 'https://github.com/acme/shop/actions/runs/9'
    assert ci_job_url({'CI_JOB_URL': 'https://gitlab.example/-/jobs/7'}) == 'https://gitlab.example/-/jobs/7'
    assert ci_job_url({}) is None
