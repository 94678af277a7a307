"""A stdio MCP server's process, held to the tool sandbox's rules for as long as its session
lives: an environment built from nothing but the variables its config names (no server
secrets), a fresh working folder as HOME and TMPDIR, the same rlimits as a user tool's
process, and (when troupe runs as root) a user id of its own, so that on close everything
it started is found and ended, and what it left in the shared temporary folders removed."""

import contextlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from mcp.client.stdio import StdioServerParameters

from troupe.tools.mcp.endpoint import McpEndpoint
from troupe.tools.sandbox import SandboxLimits
from troupe.tools.sandbox_identity import (
    ToolIdentity,
    acquire_identity,
    end_processes,
    remove_leftovers,
)

LAUNCHER = Path(__file__).with_name("launch.py")
STDERR_TAIL_BYTES = 4096


@dataclass
class StdioSandbox:
    """The identity, folders and stderr log of one stdio server process."""

    identity: ToolIdentity
    workdir: Path  # the server's own: cwd, HOME, TMPDIR
    private: Path  # troupe's alone: the pid file and the stderr log
    errlog: TextIO = field(repr=False)

    @classmethod
    def open(cls) -> "StdioSandbox":
        identity = acquire_identity()
        workdir = Path(tempfile.mkdtemp(prefix="troupe-mcp-"))
        private = Path(tempfile.mkdtemp(prefix="troupe-mcp-log-"))
        if identity.uid is not None:
            os.chown(workdir, identity.uid, identity.uid)
        errlog = open(private / "stderr.log", "w+", encoding="utf-8", errors="replace")  # noqa: SIM115 - closed by close()
        return cls(identity, workdir, private, errlog)

    def parameters(self, endpoint: McpEndpoint, limits: SandboxLimits) -> StdioServerParameters:
        job = {
            "limits": {
                "memory_mb": limits.memory_mb,
                "cpu_s": limits.cpu_s,
                "max_file_mb": limits.max_file_mb,
                "max_processes": limits.max_processes,
            },
            "uid": self.identity.uid,
            "exclusive": self.identity.exclusive,
            "pid_file": str(self.private / "pid"),
            "command": endpoint.command,
            "args": list(endpoint.args),
        }
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.workdir),
            "TMPDIR": str(self.workdir),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            **dict(endpoint.env),
        }
        return StdioServerParameters(
            command=sys.executable,
            args=["-I", str(LAUNCHER), json.dumps(job)],
            env=env,
            cwd=str(self.workdir),
        )

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr, for an error message."""
        with contextlib.suppress(OSError, ValueError):
            self.errlog.flush()
            size = os.fstat(self.errlog.fileno()).st_size
            self.errlog.seek(max(0, size - STDERR_TAIL_BYTES))
            lines = self.errlog.read().strip().splitlines()
            return lines[-1][:300] if lines else ""
        return ""

    async def close(self) -> None:
        """End every process of the server and remove what it left behind."""
        with contextlib.suppress(OSError, ValueError):
            pid = int((self.private / "pid").read_text())
            await end_processes(self.identity, pid)  # its own process group (new session)
        remove_leftovers(self.identity)
        self.identity.release()
        self.errlog.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        shutil.rmtree(self.private, ignore_errors=True)
