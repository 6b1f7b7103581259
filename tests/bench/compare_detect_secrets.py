# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The figures behind the choice of the redaction rules: detect-secrets' plugins against the collection's redactor.

On tests/data/secret_corpus.yml: recall (the corpus lines whose every secret would be gone, masking what each tool
reports), the harmless lines each tool would change (false positives), and MB/s (CPU time) on the generated CI log
of tests/bench/bench_redaction.py. detect-secrets is not a dependency of the collection: run this in a scratch venv
that has it (``python -m venv /tmp/ds && /tmp/ds/bin/pip install detect-secrets pyyaml ansible-core``), from the
repository root, after ``make collections-link``:

    /tmp/ds/bin/python tests/bench/compare_detect_secrets.py [--megabytes 2]

detect-secrets runs with its default settings (every plugin, its default filters and entropy limits), on the text
written to a file, as ``detect-secrets scan`` does.
"""

from __future__ import absolute_import, division, print_function

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_redaction import API_TOKEN, CORPUS, Redactor, ci_log  # noqa: E402 pylint: disable=wrong-import-position

from detect_secrets.core.scan import scan_file  # noqa: E402 pylint: disable=import-error,wrong-import-position
from detect_secrets.settings import default_settings  # noqa: E402 pylint: disable=import-error,wrong-import-position


def detect_secrets_redact(text):
    """``text`` with every value detect-secrets reports (scanning it as a file, as ``detect-secrets scan`` does) replaced
    on its line."""
    lines = text.split('\n')
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'ci.log'
        path.write_text(text)
        for found in scan_file(str(path)):
            if found.secret_value:
                index = found.line_number - 1
                lines[index] = lines[index].replace(found.secret_value, '[REDACTED]')
    return '\n'.join(lines)


def figures(redact, log):
    entries = [(entry['line'].replace('{api_token}', API_TOKEN), [secret.replace('{api_token}', API_TOKEN)
                                                                  for secret in entry['secrets']])
               for entry in CORPUS['secret_lines']]
    caught = sum(1 for line, secrets in entries if not any(secret in redact(line) for secret in secrets))
    changed = [line for line in CORPUS['harmless_lines'] if redact(line) != line]
    started = time.process_time()
    redact(log)
    seconds = time.process_time() - started
    return caught, len(entries), changed, len(log) / 1e6 / seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--megabytes', type=int, default=2, help='size of the generated CI log (default 2)')
    args = parser.parse_args(argv)
    log = ci_log(args.megabytes)
    redactor = Redactor(secrets=[API_TOKEN], environ={})
    with default_settings():
        results = {'detect-secrets (default settings)': figures(detect_secrets_redact, log),
                   'upsun.support redactor': figures(redactor, log)}
    for name, (caught, total, changed, speed) in results.items():
        print('{0}: {1}/{2} corpus lines fully masked ({3:.0%}); {4}/{5} harmless lines changed; {6:.2f} MB/s'.format(
            name, caught, total, caught / total, len(changed), len(CORPUS['harmless_lines']), speed))
        for line in changed[:5]:
            print('    changed: {0}'.format(line))
    return 0


if __name__ == '__main__':
    sys.exit(main())
