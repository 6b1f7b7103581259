# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Command line: python -m upsun_sandbox --port 0 prints its URL on one line, then serves until SIGTERM/SIGINT."""

import argparse
import signal
import ssl
import sys
import threading

from .catalog import DEFAULT_API_TOKEN
from .server import Sandbox
from .conversation import COMMENT_MODES
from .store import DATE_FILTERS, LAG_SCOPES
from .validation import VALIDATION_ERROR_STYLES


def parse_args(argv=None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(prog="python -m upsun_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 (default) picks a free one")
    parser.add_argument("--api-token", dest="api_tokens", action="append", metavar="TOKEN",
                        help=f"an accepted API token; repeatable (default {DEFAULT_API_TOKEN})")
    parser.add_argument("--token-lifetime", type=int, default=900, metavar="SECONDS",
                        help="access token lifetime in seconds (default 900)")
    parser.add_argument("--page-size", type=int, default=5, help="tickets per page of GET /tickets (default 5)")
    parser.add_argument("--listing-lag", type=float, default=0.0, metavar="SECONDS",
                        help="listings show each change this many seconds after it is made, as a search index "
                             "(default 0: at once); POST /_sandbox/listing/catch-up shows them all now")
    parser.add_argument("--lag-scope", choices=LAG_SCOPES, default="all",
                        help="which GET /tickets listings lag: all (default), or only those with search or a filter")
    parser.add_argument("--date-filter", choices=DATE_FILTERS, default="at-or-after",
                        help="what filter[created], filter[updated] and filter[due] mean (default at-or-after)")
    parser.add_argument("--comments", choices=COMMENT_MODES, default="serve",
                        help="serve the comment endpoints (default), or refuse them with 404, 403 or 405")
    parser.add_argument("--quiet", action="store_true", help="no log line per request on stderr")
    parser.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this PEM certificate (with --tls-key)")
    parser.add_argument("--tls-key", metavar="FILE", help="the PEM private key of --tls-cert")
    parser.add_argument("--validation-errors", choices=VALIDATION_ERROR_STYLES, default="list",
                        help="list: 422 naming every field (default); detail: 400 whose detail maps field -> message, "
                             "as the live API answers")
    args = parser.parse_args(argv)
    if args.page_size < 1:
        parser.error("--page-size must be at least 1")
    if not 0 <= args.listing_lag < 10 ** 7:
        parser.error("--listing-lag must be a number of seconds from 0 to 9999999")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    return args


def main(argv=None) -> int:
    """Run the sandbox until SIGTERM or SIGINT; exit status 0 then."""
    args = parse_args(argv)
    stop = threading.Event()
    # A handler thread that sleeps out a latency fault must answer on time, but it waits for the GIL when it wakes up
    # while another handler works (validation: about 3 ms), up to the 5 ms switch interval: 10 ms or more on a round
    # of concurrent pages. A shorter interval keeps the emulated latency near what the fault asked for.
    sys.setswitchinterval(0.0005)

    def _stop(_signum, _frame) -> None:
        stop.set()

    # Installed before the URL is printed: whoever read it may signal us at once.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sandbox = Sandbox(host=args.host, port=args.port, api_tokens=args.api_tokens,
                      token_lifetime=args.token_lifetime, page_size=args.page_size, quiet=args.quiet,
                      tls_cert=args.tls_cert, tls_key=args.tls_key, validation_errors=args.validation_errors)
    sandbox.tickets.configure_listing(lag=args.listing_lag, lag_scope=args.lag_scope, date_filter=args.date_filter)
    sandbox.api.set_comments_mode(args.comments)
    try:
        # openapi-core takes most of a second to import: print the URL first, load it right after.
        sandbox.start(warm_up=False)
    except ssl.SSLError as exc:
        print(f"upsun_sandbox: cannot load --tls-cert/--tls-key: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"upsun_sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(sandbox.url, flush=True)
    sandbox.warm_up()
    while not stop.wait(1.0):
        pass
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
