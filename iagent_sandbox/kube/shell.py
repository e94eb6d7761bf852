"""The simulated shell of a container: busybox ``sh`` semantics, deterministic, in pure Python.

It parses what ``sh -c`` and an interactive session are given (quotes, ``$VAR``/``${VAR}``/``$?``,
``;``, ``&&``, ``||``, pipes, ``>``, ``>>``, ``<``, ``2>&1``), runs the commands of
``shell_commands`` with real exit codes (127 and ``sh: X: not found`` for an unknown command),
and drives a terminal when the exec asked for a TTY: prompt, echo, backspace, Ctrl-C, Ctrl-D,
CR/LF translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable

Writer = Callable[[bytes], Awaitable[None]]


class ShellExit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class ShellSyntaxError(Exception):
    pass


class Stdin:
    """A command's standard input: the session's stream or a pipe's buffer."""

    def __init__(self, source: Callable[[], Awaitable[bytes | None]] | None = None,
                 data: bytes = b"") -> None:
        self._source = source
        self._buffer = data
        self._eof = source is None

    async def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = await self._source()  # type: ignore[misc]
        if chunk is None:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    async def readline(self) -> bytes | None:
        while b"\n" not in self._buffer:
            if not await self._fill():
                break
        if not self._buffer:
            return None
        line, sep, rest = self._buffer.partition(b"\n")
        self._buffer = rest
        return line + sep

    async def read_chunk(self) -> bytes | None:
        """Whatever arrived next (a terminal's keystrokes), None at end of file."""
        if not self._buffer and not await self._fill():
            return None
        data, self._buffer = self._buffer, b""
        return data

    async def read_all(self) -> bytes:
        while await self._fill():
            pass
        data, self._buffer = self._buffer, b""
        return data


@dataclass
class Io:
    stdin: Stdin
    out: Writer
    err: Writer


@dataclass
class Command:
    argv: list[str]
    assigns: dict[str, str] = field(default_factory=dict)
    stdout_file: tuple[str, bool] | None = None   # (path, append)
    stderr_file: tuple[str, bool] | None = None
    stdin_file: str | None = None
    err_to_out: bool = False
    out_to_err: bool = False


OPERATORS = ("&&", "||", ";", "|", "&", ">>", ">", "<")


def tokenize(line: str, env: dict[str, str], status: int) -> list[tuple[str, str]]:
    """Words (quotes removed, variables expanded) and operators, as ("w", text) / ("o", op)."""
    tokens: list[tuple[str, str]] = []
    word, in_word, i = "", False, 0

    def var(j: int) -> tuple[str, int]:
        if j < len(line) and line[j] == "?":
            return str(status), j + 1
        if j < len(line) and line[j] == "{":
            end = line.find("}", j)
            if end < 0:
                raise ShellSyntaxError("sh: syntax error: bad substitution")
            return env.get(line[j + 1:end], ""), end + 1
        k = j
        while k < len(line) and (line[k].isalnum() or line[k] == "_"):
            k += 1
        if k == j:
            return "$", j
        return env.get(line[j:k], ""), k

    while i < len(line):
        c = line[i]
        if c in " \t\r\n":
            if in_word:
                tokens.append(("w", word))
                word, in_word = "", False
            i += 1
        elif c == "#" and not in_word:
            break
        elif c == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("sh: syntax error: unterminated quoted string")
            word, in_word, i = word + line[i + 1:end], True, end + 1
        elif c == '"':
            i += 1
            in_word = True
            while True:
                if i >= len(line):
                    raise ShellSyntaxError("sh: syntax error: unterminated quoted string")
                c = line[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\" and i + 1 < len(line) and line[i + 1] in '"\\$`':
                    word, i = word + line[i + 1], i + 2
                elif c == "$":
                    text, i = var(i + 1)
                    word += text
                else:
                    word, i = word + c, i + 1
        elif c == "\\" and i + 1 < len(line):
            word, in_word, i = word + line[i + 1], True, i + 2
        elif c == "$":
            text, i = var(i + 1)
            word, in_word = word + text, True
        elif line.startswith(">&2", i) or (not in_word and line.startswith("1>&2", i)):
            step = 3 if line[i] == ">" else 4
            if in_word:
                tokens.append(("w", word))
                word, in_word = "", False
            tokens.append(("o", ">&2"))
            i += step
        elif c == "2" and not in_word and line.startswith("2>", i):
            if line.startswith("2>&1", i):
                tokens.append(("o", "2>&1"))
                i += 4
            else:
                tokens.append(("o", "2>"))
                i += 2
        elif any(line.startswith(op, i) for op in OPERATORS):
            op = next(op for op in OPERATORS if line.startswith(op, i))
            if in_word:
                tokens.append(("w", word))
                word, in_word = "", False
            tokens.append(("o", op))
            i += len(op)
        else:
            word, in_word, i = word + c, True, i + 1
    if in_word:
        tokens.append(("w", word))
    return tokens


def split_list(line: str) -> list[tuple[str, str]]:
    """A command line cut at its top-level ``;``, ``&``, ``&&`` and ``||`` into (connector, text):
    each part is expanded only when it runs, so ``false; echo $?`` sees the status of false."""
    parts: list[tuple[str, str]] = []
    connector, start, i, quote = ";", 0, 0, ""
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        elif c == ";" or (c == "&" and not line.startswith("&&", i) and line[i - 1:i] not in (">", "&")) \
                or line.startswith("&&", i) or line.startswith("||", i):
            op = line[i:i + 2] if line.startswith(("&&", "||"), i) else c
            parts.append((connector, line[start:i]))
            connector, start = (";" if op == "&" else op), i + len(op)
            i += len(op)
            continue
        i += 1
    if quote:
        raise ShellSyntaxError("sh: syntax error: unterminated quoted string")
    parts.append((connector, line[start:i]))
    if not parts[-1][1].strip():
        if connector in ("&&", "||"):
            raise ShellSyntaxError("sh: syntax error: unexpected end of file")
        parts.pop()
    for n, (conn, text) in enumerate(parts):
        if not text.strip():
            raise ShellSyntaxError(f'sh: syntax error: unexpected "{parts[n + 1][0] if n + 1 < len(parts) else conn}"')
    return parts


def parse(tokens: list[tuple[str, str]]) -> list[tuple[str, list[Command]]]:
    """[(connector before it, pipeline)]: connector is ";", "&&" or "||"."""
    result: list[tuple[str, list[Command]]] = []
    pipeline: list[Command] = []
    cmd = Command([])
    connector = ";"
    i = 0

    def finish_command() -> None:
        nonlocal cmd
        if not cmd.argv and not cmd.assigns:
            raise ShellSyntaxError("sh: syntax error: unexpected end of file")
        pipeline.append(cmd)
        cmd = Command([])

    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "w":
            if not cmd.argv and "=" in text and text.split("=", 1)[0].isidentifier():
                name, value = text.split("=", 1)
                cmd.assigns[name] = value
            else:
                cmd.argv.append(text)
        elif text in (">", ">>", "2>", "<"):
            if i + 1 >= len(tokens) or tokens[i + 1][0] != "w":
                raise ShellSyntaxError("sh: syntax error: unexpected newline")
            target = tokens[i + 1][1]
            if text == "<":
                cmd.stdin_file = target
            elif text == "2>":
                cmd.stderr_file = (target, False)
            else:
                cmd.stdout_file = (target, text == ">>")
            i += 1
        elif text == "2>&1":
            cmd.err_to_out = True
        elif text == ">&2":
            cmd.out_to_err = True
        elif text == "|":
            finish_command()
        else:  # ; && || &
            if not cmd.argv and not cmd.assigns and not pipeline:
                if text in (";", "&") and not result:
                    raise ShellSyntaxError(f"sh: syntax error: unexpected \"{text}\"")
                raise ShellSyntaxError(f"sh: syntax error: unexpected \"{text}\"")
            finish_command()
            result.append((connector, pipeline))
            pipeline = []
            connector = ";" if text == "&" else text
        i += 1
    if cmd.argv or cmd.assigns:
        finish_command()
    elif pipeline:
        raise ShellSyntaxError("sh: syntax error: unexpected end of file")
    if pipeline:
        result.append((connector, pipeline))
    elif connector in ("&&", "||", "|"):
        raise ShellSyntaxError("sh: syntax error: unexpected end of file")
    return result
