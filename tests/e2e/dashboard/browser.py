"""Headless Chromium driven over the Chrome DevTools Protocol (CDP).

CDP is used rather than ``chromium --dump-dom`` because the page fetches its figures
after the load event. Over CDP the test waits for them, types the token into the form
as a person would, reloads to check that the token was kept, and takes a phone-sized
screenshot.
"""

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import eventlet
import pytest
import requests
import websocket

LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]


def find_chromium() -> str:
    """Return Chromium's path; fail in CI, skip elsewhere, when it is missing."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    message = ("chromium not found on PATH: install Debian's package with "
               "`apt-get install -y chromium` (.ci/run does this)")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class Browser:
    """One Chromium process with a fresh profile and a CDP session on its page."""

    def __init__(self, profile: Path, timeout_s: float = 60.0):
        self.process = subprocess.Popen(
            [find_chromium(), *LAUNCH_FLAGS, f"--user-data-dir={profile}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.timeout_s = timeout_s
        self.next_id = 0
        try:
            port = self._devtools_port(profile)
            targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            page = next(target for target in targets if target["type"] == "page")
            # Chromium 111 and later reject a DevTools websocket whose Origin header is
            # not allowed by --remote-allow-origins, so none is sent.
            self.socket = websocket.create_connection(
                page["webSocketDebuggerUrl"], timeout=timeout_s, suppress_origin=True)
        except BaseException:
            self.close()
            raise

    def _devtools_port(self, profile: Path) -> int:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with code {self.process.returncode}")
            if port_file.exists():
                first_line = port_file.read_text().splitlines()[:1]
                if first_line and first_line[0].isdigit():
                    return int(first_line[0])
            eventlet.sleep(0.2)
        raise TimeoutError(f"chromium wrote no DevToolsActivePort in {self.timeout_s}s")

    def send(self, method: str, **params) -> dict:
        """Call a CDP method and return its result, skipping events meanwhile."""
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method,
                                     "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") != self.next_id:
                continue
            if "error" in message:
                raise RuntimeError(f"CDP {method} failed: {message['error']}")
            return message["result"]

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression,
                           returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def wait_for_state(self, *states: str, timeout_s: float = 30.0) -> str:
        """Wait until the page's ``body[data-state]`` is one of ``states``."""
        deadline = time.monotonic() + timeout_s
        state = None
        while time.monotonic() < deadline:
            state = self.evaluate("document.body ? document.body.dataset.state : null")
            if state in states:
                return state
            eventlet.sleep(0.2)
        error = self.evaluate("(document.getElementById('error') || {}).textContent")
        raise TimeoutError(f"page state is {state!r}, not {states}, after {timeout_s}s; "
                           f"error shown: {error!r}")

    def phone_screen(self, width: int = 390, height: int = 844) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=2, mobile=True)

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png",
                         captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
