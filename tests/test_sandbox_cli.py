"""``python3 -m sandbox``: starts, answers, logs one line per exchange, stops on SIGTERM/Ctrl-C."""

import os
import re
import signal
import subprocess
import sys
import time

import requests

from .common import KkmCase

# The repository root is the addon folder: the parent of tests/.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TestCommandLine(KkmCase):
    def _start(self, *arguments):
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--port", "0", *arguments],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.addCleanup(self._ensure_dead, process)
        line = process.stderr.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        self.assertTrue(match, line)
        return process, match.group(1)

    @staticmethod
    def _ensure_dead(process):
        if process.poll() is None:
            process.kill()
            process.wait(5)
        process.stderr.close()

    def _get_token(self, url):
        return requests.post(
            f"{url}/possystem/v4/getToken",
            json={"login": "v4-online-atol-ru", "pass": "iGFFuihss"},
            timeout=5,
        )

    def test_serves_and_stops_on_sigterm(self):
        process, url = self._start("--seed", "3", "--done-delay", "0", "--token-ttl", "60")
        answer = self._get_token(url)
        self.assertEqual(answer.status_code, 200)
        token = answer.json()["token"]
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(5), 0)
        self.assertLess(time.monotonic() - started, 3)
        log = process.stderr.read()
        self.assertRegex(log, r"POST /possystem/v4/getToken 200 token for v4-online-atol-ru")
        self.assertNotIn(token, log)
        self.assertNotIn("iGFFuihss", log)
        self.assertIn("stopped", log)

    def test_stops_on_ctrl_c(self):
        process, url = self._start()
        self.assertEqual(self._get_token(url).status_code, 200)
        process.send_signal(signal.SIGINT)
        self.assertEqual(process.wait(5), 0)

    def test_fault_flags(self):
        process, url = self._start(
            "--fault",
            "http_5xx=1.0,status=503,targets=get_token",
            "--faults",
            '{"latency": {"next": 1, "seconds": 0}}',
        )
        self.assertEqual(self._get_token(url).status_code, 503)
        faults = requests.get(f"{url}/sandbox/faults", timeout=5).json()
        self.assertEqual(faults["config"]["http_5xx"]["targets"], ["get_token"])
        self.assertEqual(faults["config"]["latency"]["next"], 0)
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(5), 0)

    def test_bad_fault_flag_exits_with_2(self):
        result = subprocess.run(
            [sys.executable, "-m", "sandbox", "--port", "0", "--fault", "nonsense=1"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown fault kind", result.stderr)
