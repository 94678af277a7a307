"""Run `troupe server` as a real process on 127.0.0.1 and wait until it answers."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """One troupe server on its own port; restartable on the same database."""

    def __init__(self, database_url: str, home: Path, env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.home = home
        self.extra_env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 150, retries: int = 3) -> "ServerProcess":
        # `timeout` guards against a server that never comes up; it is no speed limit. Start-up
        # takes about 3 s of CPU (imports, migrations), which a loaded 2-core machine running
        # two test workers can stretch past a minute.
        # Nothing of the developer's own TROUPE_* settings leaks into a test server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("TROUPE_")}
        env.update(
            TROUPE_DATABASE_URL=self.database_url,
            TROUPE_HOME=str(self.home),
            # The deterministic models of tests/support/models.py, importable by handle.
            TROUPE_ENABLE_TEST_MODELS="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        )
        env.update(self.extra_env)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "troupe",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        headers = {}
        if key := self.extra_env.get("TROUPE_API_KEY"):
            headers["Authorization"] = f"Bearer {key}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log_path.read_text()
                if "address already in use" in log.rsplit("troupe on http", 1)[-1] and retries:
                    # The port was taken between free_port() and the bind: take another.
                    self.port = free_port()
                    self.url = f"http://127.0.0.1:{self.port}"
                    return self.start(timeout, retries=retries - 1)
                raise RuntimeError(f"troupe server exited early:\n{log}")
            try:
                health = httpx.get(f"{self.url}/v1/health/", headers=headers, timeout=1)
                # Only our own process counts: on a busy machine another server may hold the
                # port free_port() picked, and then answer in place of ours.
                if health.status_code == 200 and self._listening():
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        log = self.log_path.read_text()
        raise RuntimeError(f"troupe server did not answer in {timeout}s:\n{log}")

    def _listening(self) -> bool:
        assert self.process is not None
        try:
            sockets = psutil.Process(self.process.pid).net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            return False
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port for c in sockets)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks run, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> "ServerProcess":
        self.stop()
        return self.start()


def fake_provider_env(fake: Any, *, max_retries: int, timeout_s: float) -> dict[str, str]:
    """A server's environment pointing its OpenAI and Anthropic providers at a
    `troupe.llm.fake_server.FakeLLMServer`, with the retries and timeout a test wants."""
    return {
        "OPENAI_BASE_URL": fake.openai_base_url,
        "OPENAI_API_KEY": "sk-test",
        "ANTHROPIC_BASE_URL": fake.anthropic_base_url,
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "TROUPE_MODEL_MAX_RETRIES": str(max_retries),
        "TROUPE_MODEL_TIMEOUT": f"{timeout_s:g}",
    }
