"""The commands of the simulated container userland (busybox-like): each takes the session, its
argv and its Io, writes what busybox writes and returns the exit code."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Awaitable, Callable

from . import container_env as cenv
from .container_fs import FsError
from .shell import Io, ShellExit

if TYPE_CHECKING:
    from .shell_session import ShellSession

Builtin = Callable[["ShellSession", list[str], Io], Awaitable[int]]
COMMANDS: dict[str, Builtin] = {}
SHELLS = ("sh", "ash", "bash")


def command(*names: str):
    def register(fn: Builtin) -> Builtin:
        for name in names:
            COMMANDS[name] = fn
        return fn
    return register


def _text(s: str) -> bytes:
    return s.encode()


@command("true", ":")
async def _true(sh, argv, io):
    return 0


@command("false")
async def _false(sh, argv, io):
    return 1


@command("exit")
async def _exit(sh, argv, io):
    code = sh.status
    if len(argv) > 1:
        if not argv[1].lstrip("-").isdigit():
            await io.err(_text(f"sh: exit: Illegal number: {argv[1]}\n"))
            raise ShellExit(2)
        code = int(argv[1]) % 256
    raise ShellExit(code)


@command("echo")
async def _echo(sh, argv, io):
    args, newline = argv[1:], True
    while args and args[0] in ("-n", "-e", "-ne", "-en"):
        newline = newline and "n" not in args[0]
        args = args[1:]
    await io.out(_text(" ".join(args) + ("\n" if newline else "")))
    return 0


@command("env", "printenv")
async def _env(sh, argv, io):
    if argv[0] == "printenv" and len(argv) > 1:
        missing = 0
        for name in argv[1:]:
            if name in sh.env:
                await io.out(_text(sh.env[name] + "\n"))
            else:
                missing = 1
        return missing
    await io.out(_text("".join(f"{k}={v}\n" for k, v in sh.env.items())))
    return 0


@command("export")
async def _export(sh, argv, io):
    for arg in argv[1:]:
        if "=" in arg:
            name, value = arg.split("=", 1)
            sh.env[name] = value
    if len(argv) == 1:
        await io.out(_text("".join(f"export {k}='{v}'\n" for k, v in sorted(sh.env.items()))))
    return 0


@command("unset")
async def _unset(sh, argv, io):
    for name in argv[1:]:
        sh.env.pop(name, None)
    return 0


@command("hostname")
async def _hostname(sh, argv, io):
    await io.out(_text(cenv.hostname(sh.pod) + "\n"))
    return 0


@command("whoami")
async def _whoami(sh, argv, io):
    await io.out(b"root\n")
    return 0


@command("id")
async def _id(sh, argv, io):
    await io.out(b"uid=0(root) gid=0(root) groups=0(root),1(bin),2(daemon),3(sys),4(adm),6(disk),10(wheel),11(floppy),20(dialout),26(tape),27(video)\n")
    return 0


@command("uname")
async def _uname(sh, argv, io):
    parts = {"s": "Linux", "n": cenv.hostname(sh.pod), "r": "5.10.227-219.884.amzn2.x86_64",
             "v": "#1 SMP Tue Oct 22 16:38:23 UTC 2024", "m": "x86_64"}
    flags = "".join(a.lstrip("-") for a in argv[1:]) or "s"
    keys = "snrvm" if "a" in flags else [k for k in "snrvm" if k in flags]
    await io.out(_text(" ".join(parts[k] for k in keys) + (" GNU/Linux" if "a" in flags else "") + "\n"))
    return 0


@command("date")
async def _date(sh, argv, io):
    await io.out(_text(sh.clock.now().strftime("%a %b %e %H:%M:%S UTC %Y") + "\n"))
    return 0


@command("sleep")
async def _sleep(sh, argv, io):
    try:
        seconds = float(argv[1]) if len(argv) > 1 else None
    except ValueError:
        seconds = None
    if seconds is None:
        await io.err(_text(f"sleep: invalid number '{argv[1] if len(argv) > 1 else ''}'\n"))
        return 1
    await sh.clock.sleep(seconds)
    return 0


@command("pwd")
async def _pwd(sh, argv, io):
    await io.out(_text(sh.cwd + "\n"))
    return 0


@command("cd")
async def _cd(sh, argv, io):
    target = sh.fs.norm(argv[1] if len(argv) > 1 else sh.env.get("HOME", "/"), sh.cwd)
    node = sh.fs.node(target)
    if node is None or not node.is_dir:
        await io.err(_text(f"sh: cd: can't cd to {argv[1]}: No such file or directory\n"))
        return 2
    sh.cwd = target
    return 0


@command("ps")
async def _ps(sh, argv, io):
    lines = ["PID   USER     TIME  COMMAND"]
    procs = [(1, sh.main_process)] + sorted(sh.instance.sessions.items())
    if not sh.direct:  # run from a shell: ps is a child process of its own
        procs.append((sh.instance.new_pid(), " ".join(argv)))
    for pid, cmd in procs:
        lines.append(f"{pid:5d} root      0:00 {cmd}")
    await io.out(_text("\n".join(lines) + "\n"))
    return 0


@command("cat")
async def _cat(sh, argv, io):
    code = 0
    for name in argv[1:] or ["-"]:
        if name == "-":
            await io.out(await io.stdin.read_all())
            continue
        try:
            await io.out(sh.read_file(name))
        except FsError as exc:
            await io.err(_text(f"cat: {exc}\n"))
            code = 1
    return code


@command("ls")
async def _ls(sh, argv, io):
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and len(a) > 1)
    paths = [a for a in argv[1:] if not a.startswith("-") or a == "-"] or ["."]
    code, out = 0, []
    for path in paths:
        node = sh.fs.node(sh.fs.norm(path, sh.cwd))
        if node is None:
            await io.err(_text(f"ls: {path}: No such file or directory\n"))
            code = 1
            continue
        if node.is_dir and "d" not in flags:
            names = sorted(n for n in node.children if "a" in flags or not n.startswith("."))
            entries = [(n, node.children[n]) for n in names]
            if len(paths) > 1:
                out.append(f"{path}:")
        else:
            entries = [(path, node)]
        if "l" in flags:
            for name, child in entries:
                kind = "d" if child.is_dir else "-"
                perms = "".join(c if child.mode & (1 << (8 - i)) else "-"
                                for i, c in enumerate("rwxrwxrwx"))
                size = 4096 if child.is_dir else len(child.data)
                when = datetime.fromtimestamp(child.mtime, timezone.utc).strftime("%b %e %H:%M")
                out.append(f"{kind}{perms}    1 root     root     {size:>9} {when} {name}")
        elif entries:
            out.append(("  " if sh.tty else "\n").join(n for n, _ in entries))
    if out:
        await io.out(_text("\n".join(out) + "\n"))
    return code


@command("mkdir")
async def _mkdir(sh, argv, io):
    parents = "-p" in argv
    for path in [a for a in argv[1:] if not a.startswith("-")]:
        full = sh.fs.norm(path, sh.cwd)
        if sh.fs.node(full) is not None and not parents:
            await io.err(_text(f"mkdir: can't create directory '{path}': File exists\n"))
            return 1
        parent = sh.fs.node(full.rsplit("/", 1)[0] or "/")
        if parent is None and not parents:
            await io.err(_text(f"mkdir: can't create directory '{path}': No such file or directory\n"))
            return 1
        sh.fs.mkdirs(full)
    return 0


@command("touch")
async def _touch(sh, argv, io):
    for path in argv[1:]:
        full = sh.fs.norm(path, sh.cwd)
        if sh.fs.node(full) is None:
            try:
                sh.fs.write(full, b"")
            except FsError as exc:
                await io.err(_text(f"touch: {path}: No such file or directory\n"))
                return 1
    return 0


@command("rm")
async def _rm(sh, argv, io):
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    code = 0
    for path in [a for a in argv[1:] if not a.startswith("-")]:
        try:
            sh.fs.remove(sh.fs.norm(path, sh.cwd), recursive="r" in flags or "R" in flags)
        except FsError as exc:
            if "f" not in flags or "is a directory" in str(exc):
                await io.err(_text(f"rm: {exc}\n"))
                code = 1
    return code


@command("head")
async def _head(sh, argv, io):
    count, files, args = 10, [], argv[1:]
    while args:
        arg = args.pop(0)
        if arg == "-n" and args:
            count = int(args.pop(0))
        elif re.fullmatch(r"-\d+", arg):
            count = int(arg[1:])
        else:
            files.append(arg)
    data = sh.read_file(files[0]) if files else await io.stdin.read_all()
    await io.out(b"".join(data.splitlines(keepends=True)[:count]))
    return 0


@command("wc")
async def _wc(sh, argv, io):
    data = sh.read_file(argv[-1]) if len(argv) > 1 and not argv[-1].startswith("-") \
        else await io.stdin.read_all()
    lines = data.count(b"\n")
    if "-l" in argv:
        await io.out(_text(f"{lines}\n"))
    else:
        await io.out(_text(f"{lines:>9} {len(data.split()):>9} {len(data):>9}\n"))
    return 0


@command("grep")
async def _grep(sh, argv, io):
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and len(a) > 1)
    rest = [a for a in argv[1:] if not (a.startswith("-") and len(a) > 1)]
    if not rest:
        await io.err(b"BusyBox v1.36.1 (2024-06-10 07:11:47 UTC) multi-call binary.\n\nUsage: grep [-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...\n")
        return 2
    pattern = re.compile(rest[0], re.IGNORECASE if "i" in flags else 0)
    data = sh.read_file(rest[1]) if len(rest) > 1 else await io.stdin.read_all()
    hits = [line for line in data.decode(errors="replace").splitlines()
            if bool(pattern.search(line)) != ("v" in flags)]
    if "q" not in flags and hits:
        await io.out(_text("\n".join(hits) + "\n"))
    return 0 if hits else 1


@command("test", "[")
async def _test(sh, argv, io):
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            await io.err(b"sh: missing ]\n")
            return 2
        args = args[:-1]
    negate = bool(args) and args[0] == "!"
    if negate:
        args = args[1:]
    if len(args) == 2 and args[0] in ("-d", "-f", "-e", "-s"):
        node = sh.fs.node(sh.fs.norm(args[1], sh.cwd))
        result = node is not None and {"-d": node.is_dir, "-f": not node.is_dir, "-e": True,
                                       "-s": bool(node.data) or node.is_dir}[args[0]]
    elif len(args) == 2 and args[0] in ("-z", "-n"):
        result = (args[1] == "") == (args[0] == "-z")
    elif len(args) == 3 and args[1] in ("=", "==", "!="):
        result = (args[0] == args[2]) == (args[1] != "!=")
    elif len(args) == 3 and args[1] in ("-eq", "-ne", "-lt", "-gt", "-le", "-ge"):
        a, b = int(args[0]), int(args[2])
        result = {"-eq": a == b, "-ne": a != b, "-lt": a < b, "-gt": a > b, "-le": a <= b,
                  "-ge": a >= b}[args[1]]
    else:
        result = len(args) == 1 and args[0] != ""
    return 0 if result != negate else 1


@command("which")
async def _which(sh, argv, io):
    code = 0
    for name in argv[1:]:
        if name in COMMANDS:
            await io.out(_text(f"/bin/{name}\n"))
        else:
            code = 1
    return code


@command("clear")
async def _clear(sh, argv, io):
    await io.out(b"\x1b[H\x1b[J")
    return 0


@command(*SHELLS)
async def _sh(sh, argv, io):
    if len(argv) >= 3 and argv[1] == "-c":
        child = sh.child()
        return await child.run_script(argv[2], io)
    if len(argv) == 2 and argv[1] == "-c":
        await io.err(b"sh: -c requires an argument\n")
        return 2
    child = sh.child()
    return await child.run_stream(io)
