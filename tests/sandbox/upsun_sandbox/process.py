# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SandboxProcess: runs `python -m upsun_sandbox --port 0` as a child process and stops it afterwards."""

import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from .catalog import DEFAULT_API_TOKEN
from .control import SandboxClient

# The directory holding the upsun_sandbox package, for the child's PYTHONPATH.
PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


class SandboxProcess:
    """A sandbox in a child process; start() returns a SandboxClient, stop() ends the child.

    Extra command line options go in `options` (e.g. "--page-size", "2"). With `log_path` the child's
    log goes to that file, else it is quiet and only writes errors to the inherited stderr.
    """

    def __init__(self, *options: str, api_tokens=None, python: str | None = None, log_path=None,
                 startup_timeout: float = 15.0) -> None:
        self.options = list(options)
        self.api_tokens = list(api_tokens or [DEFAULT_API_TOKEN])
        self.python = python or sys.executable
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.client: SandboxClient | None = None
        self.startup_seconds: float | None = None
        self._log_file = None

    def command(self) -> list[str]:
        """The child's command line."""
        command = [self.python, "-m", "upsun_sandbox", "--port", "0"]
        for token in self.api_tokens:
            command += ["--api-token", token]
        if self.log_path is None:
            command.append("--quiet")
        return command + self.options

    def start(self) -> SandboxClient:
        """Start the child, wait for its URL line, and return a client for it."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
        if self.log_path is not None:
            self._log_file = open(self.log_path, "ab")  # pylint: disable=consider-using-with
        started = time.monotonic()
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log_file, env=env)
        line = self._read_line()
        self.startup_seconds = time.monotonic() - started
        if not line.startswith("http"):
            self.stop()
            where = f"; see {self.log_path}" if self.log_path else ""
            raise RuntimeError(f"the sandbox did not start (exit status {self.process.returncode}){where}")
        self.client = SandboxClient(line, api_token=self.api_tokens[0], ca_file=self._option("--tls-cert"))
        self.client.process = self
        return self.client

    def _option(self, name: str) -> str | None:
        """The value of a command line option given in `options`, or None."""
        for index, option in enumerate(self.options):
            if option == name and index + 1 < len(self.options):
                return self.options[index + 1]
            if option.startswith(name + "="):
                return option.split("=", 1)[1]
        return None

    def _read_line(self) -> str:
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(self.startup_timeout):
                return ""
        return self.process.stdout.readline().decode("utf-8", "replace").strip()

    def stop(self) -> int | None:
        """Terminate the child (SIGTERM, then SIGKILL after 5 s); return its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return self.process.returncode

    def __enter__(self) -> SandboxClient:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
