"""Running the `git` command for a source: asynchronously, killable, with the token kept out of
argv, URLs, logs and error messages.

Why the `git` command rather than a library (dulwich, pygit2): it is on every machine that
serves or mirrors repositories, it does shallow (`--depth 1`), partial (`--filter=blob:none`)
and sparse checkouts that only fetch the articles folder of a multi-GB repository, it speaks
every transport and credential setup operators already use (HTTPS, SSH, proxies), and it is
maintained with the servers it talks to. dulwich supports shallow fetches but not partial
clones or sparse checkouts; pygit2 needs libgit2 built to match.

A token reaches git only through the child's environment: `GIT_CONFIG_COUNT`/`_KEY_0`/
`_VALUE_0` set `http.<remote URL>.extraHeader` to an `Authorization: Basic …` header, so it is
neither in the command line (process listings) nor in the remote URL stored in `.git/config`,
and it is sent only to URLs below the remote's (not to another host a redirect points at).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT_SECONDS = 3600.0  # a first clone of a big folder over a slow link
# a transfer slower than 1 KB/s for 60 s is abandoned (a hung connection)
_LOW_SPEED = {"http.lowSpeedLimit": "1000", "http.lowSpeedTime": "60"}
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


class GitError(Exception):
    """A git command failed; the message is one line, with no secret in it."""


@dataclass(frozen=True, slots=True)
class GitAuth:
    """Credentials for an HTTPS remote (user and token), used only in the child's environment."""

    user: str
    token: str
    scope: str = ""  # the remote URL the header is for ('' = every URL)

    def __repr__(self) -> str:  # never shows the token (e.g. in a traceback's locals)
        return f"GitAuth(user={self.user!r}, token=***)"


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` without the given secrets nor credentials written into URLs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _URL_CREDENTIALS.sub(r"\1***@", text)


def git_env(auth: GitAuth | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a git child: never prompts, aborts hung transfers, carries the token."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",  # fail rather than wait for a password on a terminal
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "GIT_SSH_COMMAND": env.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
            "LC_ALL": "C",  # messages we can recognise
        }
    )
    config = dict(_LOW_SPEED)
    if auth is not None:
        basic = base64.b64encode(f"{auth.user}:{auth.token}".encode()).decode("ascii")
        key = f"http.{auth.scope}.extraHeader" if auth.scope else "http.extraHeader"
        config[key] = f"Authorization: Basic {basic}"
    first = int(env["GIT_CONFIG_COUNT"]) if env.get("GIT_CONFIG_COUNT", "").isdigit() else 0
    env["GIT_CONFIG_COUNT"] = str(first + len(config))  # after the operator's own, if any
    for number, (key, value) in enumerate(config.items(), start=first):
        env[f"GIT_CONFIG_KEY_{number}"] = key
        env[f"GIT_CONFIG_VALUE_{number}"] = value
    return env


@dataclass(frozen=True, slots=True)
class Git:
    """git commands in one working folder, with one environment."""

    cwd: Path
    auth: GitAuth | None = None
    timeout: float = GIT_TIMEOUT_SECONDS

    @property
    def secrets(self) -> tuple[str, ...]:
        if self.auth is None:
            return ()
        basic = base64.b64encode(f"{self.auth.user}:{self.auth.token}".encode()).decode()
        return (self.auth.token, basic)

    async def run(
        self, *args: str, cwd: Path | None = None, progress: Callable[[str], None] | None = None
    ) -> bytes:
        """Run `git ARGS`; its stdout, or GitError with git's last message line (redacted).

        `progress` receives git's progress lines (redacted) as they come. Cancelling the caller
        kills git (and waits for it), so shutdown never waits on a transfer.
        """
        try:
            process = await asyncio.create_subprocess_exec(
                "git",
                *args,
                cwd=cwd or self.cwd,
                env=git_env(self.auth),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError as exc:
            raise GitError("the git command is not installed (needed for git: sources)") from exc
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror or exc}") from exc
        if process.stdout is None or process.stderr is None:  # cannot happen with PIPE
            raise GitError("cannot read git's output")
        stderr = bytearray()

        async def read_stderr(stream: asyncio.StreamReader) -> None:
            pending = b""
            while chunk := await stream.read(4096):
                stderr.extend(chunk)
                if progress is None:
                    continue
                *lines, pending = re.split(rb"[\r\n]", pending + chunk)
                for line in lines:
                    text = redact(line.decode("utf-8", "replace").strip(), self.secrets)
                    if text:
                        progress(text)

        try:
            stdout, _ = await asyncio.wait_for(
                asyncio.gather(process.stdout.read(), read_stderr(process.stderr)), self.timeout
            )
            await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise GitError(f"git {args[0]} took longer than {self.timeout:.0f} s") from None
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(Exception):
                await asyncio.shield(process.wait())
            raise
        if process.returncode != 0:
            raise GitError(self._message(args[0], bytes(stderr)))
        return stdout

    def _message(self, command: str, stderr: bytes) -> str:
        text = redact(stderr.decode("utf-8", "replace"), self.secrets)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        important = [
            line.removeprefix("fatal: ").removeprefix("error: ")
            for line in lines
            if line.startswith(("fatal:", "error:"))
        ]
        detail = "; ".join(dict.fromkeys(important)) or (lines or ["no message"])[-1]
        return f"git {command} failed: {detail[:400]}"
