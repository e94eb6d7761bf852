"""A shell session in a simulated container: runs an exec's command (a shell script, an
interactive shell on a TTY, or one program), with the container's environment, files and
network."""

from __future__ import annotations

import ipaddress
import posixpath

from . import container_env as cenv
from .container import Containers, ContainerInstance, main_process
from .container_fs import FsError
from .resources import rt
from .shell import Command, Io, ShellExit, ShellSyntaxError, Stdin, parse, split_list, tokenize
from . import shell_tools  # noqa: F401 - registers nslookup, wget and tar
from .shell_commands import COMMANDS, SHELLS

OCI_NOT_FOUND = ('OCI runtime exec failed: exec failed: unable to start container process: '
                 'exec: "{0}": executable file not found in $PATH: unknown')


class ShellSession:
    def __init__(self, containers: Containers, instance: ContainerInstance, env: dict[str, str],
                 tty: bool = False) -> None:
        self.containers = containers
        self.store = containers.store
        self.clock = containers.clock
        self.instance = instance
        self.pod = instance.pod
        self.fs = instance.fs
        self.env = env
        self.tty = tty
        self.cwd = "/"
        self.status = 0
        self.direct = False  # the exec's command is this program itself, not a shell
        self.main_process = main_process(instance.container)

    def child(self) -> "ShellSession":
        sub = ShellSession(self.containers, self.instance, dict(self.env), self.tty)
        sub.cwd = self.cwd
        return sub

    # -- files and network ----------------------------------------------------------------------
    def read_file(self, name: str) -> bytes:
        return self.fs.read(self.fs.norm(name, self.cwd))

    def address_of(self, host: str) -> str:
        if host in ("localhost", cenv.hostname(self.pod)):
            return "127.0.0.1"
        found = cenv.resolve(self.store, self.pod, host) if not _is_ip(host) else None
        return found[1][0] if found else host

    def http(self, host: str, port: int, path: str, io: Io):
        """What an HTTP GET to host:port answers, or wget's complaint."""
        pod_ip = (self.pod.get("status") or {}).get("podIP")
        if host in ("localhost", "127.0.0.1", cenv.hostname(self.pod), pod_ip):
            answer = self.containers.http_to_pod(self.pod, port, "GET", path)
            return answer or "can't connect to remote host (127.0.0.1): Connection refused"
        if _is_ip(host):
            ip = host
        else:
            if not cenv.dns_ready(self.store):
                return f"bad address '{host}'"
            found = cenv.resolve(self.store, self.pod, host)
            if found is None:
                return f"bad address '{host}'"
            ip = found[1][0]
        for svc in self.store.list(rt("services"), None)[0]:
            if (svc.get("spec") or {}).get("clusterIP") == ip:
                backend = self.containers.service_backend(svc["metadata"]["namespace"],
                                                          svc["metadata"]["name"], port)
                if backend is None:
                    break
                answer = self.containers.http_to_pod(backend[0], backend[1], "GET", path)
                if answer:
                    return answer
                break
        for pod in self.store.list(rt("pods"), None)[0]:
            if (pod.get("status") or {}).get("podIP") == ip:
                answer = self.containers.http_to_pod(pod, port, "GET", path)
                if answer:
                    return answer
        return f"can't connect to remote host ({ip}): Connection refused"

    # -- running ------------------------------------------------------------------------------
    async def run_argv(self, argv: list[str], io: Io) -> int:
        """The exec's own command: a program looked up on PATH, as the container runtime runs it."""
        name = posixpath.basename(argv[0])
        if name not in COMMANDS or (argv[0].startswith("/") and not argv[0].startswith(("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/local/bin/"))):
            await io.out((OCI_NOT_FOUND.format(argv[0]) + "\r\n").encode())
            return 126
        try:
            if name in SHELLS and len(argv) == 1 and self.tty:
                return await self.run_tty(io)
            self.direct = name not in SHELLS
            return await COMMANDS[name](self, [name] + argv[1:], io)
        except ShellExit as exc:
            return exc.code

    async def run_script(self, script: str, io: Io) -> int:
        try:
            for line in script.splitlines() or [""]:
                await self.run_line(line, io)
        except ShellExit as exc:
            return exc.code
        return self.status

    async def run_stream(self, io: Io) -> int:
        """sh reading commands from a non-terminal stdin (kubectl exec -i POD -- sh < script)."""
        try:
            while True:
                line = await io.stdin.readline()
                if line is None:
                    return self.status
                await self.run_line(line.decode(errors="replace"), io)
        except ShellExit as exc:
            return exc.code

    async def run_line(self, line: str, io: Io) -> int:
        try:
            for connector, text in split_list(line):
                if (connector == "&&" and self.status != 0) or (connector == "||" and self.status == 0):
                    continue
                for _, pipeline in parse(tokenize(text, self.env, self.status)):
                    self.status = await self._pipeline(pipeline, io)
        except ShellSyntaxError as exc:
            await io.err(f"{exc}\n".encode())
            self.status = 2
        return self.status

    async def _pipeline(self, pipeline: list[Command], io: Io) -> int:
        stdin, status = io.stdin, 0
        for i, cmd in enumerate(pipeline):
            last = i == len(pipeline) - 1
            captured = bytearray()

            async def to_pipe(data: bytes) -> None:
                captured.extend(data)

            status = await self._command(cmd, Io(stdin, io.out if last else to_pipe, io.err))
            stdin = Stdin(data=bytes(captured))
        return status

    async def _command(self, cmd: Command, io: Io) -> int:
        if not cmd.argv:
            self.env.update(cmd.assigns)
            return 0
        out, err, stdin = io.out, io.err, io.stdin
        written: dict[str, bytearray] = {}

        def to_file(target: tuple[str, bool]):
            path = self.fs.norm(target[0], self.cwd)
            buffer = written.setdefault(path, bytearray())

            async def write(data: bytes) -> None:
                buffer.extend(data)
            if not target[1]:
                self.fs.write(path, b"")
            return write

        try:
            if cmd.stdin_file:
                stdin = Stdin(data=self.read_file(cmd.stdin_file))
            if cmd.stdout_file:
                out = to_file(cmd.stdout_file)
            if cmd.stderr_file:
                err = to_file(cmd.stderr_file)
        except FsError as exc:
            await io.err(f"sh: {exc}\n".encode())
            return 1
        if cmd.err_to_out:
            err = out
        if cmd.out_to_err:
            out = err
        name = cmd.argv[0]
        handler = COMMANDS.get(posixpath.basename(name)) if "/" not in name or \
            name.startswith(("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/")) else None
        saved = dict(self.env)
        self.env.update(cmd.assigns)
        try:
            if handler is None:
                await err(f"sh: {name}: not found\n".encode())
                return 127
            try:
                return await handler(self, cmd.argv, Io(stdin, out, err))
            except FsError as exc:
                await err(f"{posixpath.basename(name)}: {exc}\n".encode())
                return 1
        finally:
            if cmd.assigns and name not in ("export",):
                self.env.clear()
                self.env.update(saved)
            for path, data in written.items():
                self.fs.write(path, bytes(data), append=True)

    # -- the terminal ---------------------------------------------------------------------------
    def prompt(self) -> bytes:
        return f"{self.cwd} # ".encode()

    async def run_tty(self, io: Io) -> int:
        """An interactive shell on a TTY: the pty echoes what is typed and turns \\n into \\r\\n."""
        async def out(data: bytes) -> None:
            await io.out(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

        term = Io(Stdin(), out, out)
        line = bytearray()
        await io.out(self.prompt())
        while True:
            chunk = await io.stdin.read_chunk()
            if chunk is None:
                return self.status
            skip = 0
            for i, byte in enumerate(chunk):
                if skip:
                    skip -= 1
                    continue
                if byte == 0x1B:  # an escape sequence (arrow keys): no line history here
                    skip = 2
                elif byte in (0x0D, 0x0A):
                    await io.out(b"\r\n")
                    text, line = line.decode(errors="replace"), bytearray()
                    try:
                        await self.run_line(text, term)
                    except ShellExit as exc:
                        return exc.code
                    await io.out(self.prompt())
                elif byte in (0x7F, 0x08):
                    if line:
                        line.pop()
                        await io.out(b"\x08 \x08")
                elif byte == 0x03:  # Ctrl-C: drop the line
                    line = bytearray()
                    await io.out(b"^C\r\n" + self.prompt())
                elif byte == 0x04:  # Ctrl-D on an empty line ends the shell
                    if not line:
                        await io.out(b"\r\n")
                        return self.status
                elif byte >= 0x20:
                    line.append(byte)
                    await io.out(bytes([byte]))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False
