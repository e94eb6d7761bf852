"""The network and archive programs of the simulated container userland: ``nslookup`` against
cluster DNS, ``wget`` to the pod's own ports, Services and pod IPs, and ``tar`` (what ``kubectl
cp`` runs through exec)."""

from __future__ import annotations

import io as _io
import tarfile
from urllib.parse import urlsplit

from . import container_env as cenv
from .shell_commands import _text, command


@command("nslookup")
async def _nslookup(sh, argv, io):
    names = [a for a in argv[1:] if not a.startswith("-")]
    if not names:
        await io.err(b"BusyBox v1.36.1 (2024-06-10 07:11:47 UTC) multi-call binary.\n\nUsage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n")
        return 1
    server = cenv.dns_server(sh.store)
    header = f"Server:    {server}\nAddress 1: {server} kube-dns.kube-system.svc.cluster.local\n\n"
    if not cenv.dns_ready(sh.store):
        # kube-dns has no ready endpoint: the query goes unanswered
        await io.out(_text(";; connection timed out; no servers could be reached\n\n"))
        return 1
    found = cenv.resolve(sh.store, sh.pod, names[0])
    if found is None:
        await io.out(_text(header))
        await io.err(_text(f"nslookup: can't resolve '{names[0]}'\n"))
        return 1
    fqdn, addresses = found
    lines = [f"Name:      {names[0]}"] + [f"Address {i}: {ip} {fqdn}" for i, ip in enumerate(addresses, 1)]
    await io.out(_text(header + "\n".join(lines) + "\n"))
    return 0


@command("wget")
async def _wget(sh, argv, io):
    quiet, output, url, args = False, None, None, argv[1:]
    while args:
        arg = args.pop(0)
        if arg in ("-q", "--quiet"):
            quiet = True
        elif arg in ("-qO-", "-qO", "-O") or arg.startswith("-O") or arg.startswith("-qO"):
            quiet = quiet or arg.startswith("-q")
            value = arg.split("O", 1)[1]
            output = value if value else (args.pop(0) if args else "-")
        elif arg in ("-T", "-U", "--header"):
            args = args[1:]
        elif not arg.startswith("-"):
            url = arg
    if url is None:
        await io.err(b"BusyBox v1.36.1 (2024-06-10 07:11:47 UTC) multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n")
        return 1
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host, port, path = parts.hostname or "", parts.port or 80, parts.path or "/"
    answer = sh.http(host, port, path, io)
    if isinstance(answer, str):
        await io.err(_text(f"wget: {answer}\n"))
        return 1
    status, reason, _, body = answer
    if not quiet:
        await io.err(_text(f"Connecting to {host}:{port} ({sh.address_of(host)}:{port})\n"))
    if status >= 400:
        await io.err(_text(f"wget: server returned error: HTTP/1.1 {status} {reason}\n"))
        return 1
    target = output or (path.rstrip("/").rsplit("/", 1)[-1] or "index.html")
    if target == "-":
        if not quiet:
            await io.err(b"writing to stdout\n")
        await io.out(body)
    else:
        sh.fs.write(sh.fs.norm(target, sh.cwd), body)
        if not quiet:
            await io.err(_text(f"saving to '{target}'\n'{target}' saved\n"))
    return 0


@command("tar")
async def _tar(sh, argv, io):
    args, mode, archive, directory, names = list(argv[1:]), None, None, sh.cwd, []
    touch = False
    if args and not args[0].startswith("-"):
        args[0] = "-" + args[0]  # "tar cf - x" is "tar -cf - x"
    while args:
        arg = args.pop(0)
        if arg == "-C":
            directory = sh.fs.norm(args.pop(0) if args else "/", sh.cwd)
        elif arg.startswith("--"):
            continue  # --no-same-permissions, --no-same-owner: root in a simulated fs anyway
        elif arg.startswith("-") and len(arg) > 1:
            for flag in arg[1:]:
                touch = touch or flag == "m"  # -m: files get the extraction time
                if flag in "cxt":
                    mode = flag
                elif flag == "f":
                    archive = args.pop(0) if args else "-"
        else:
            names.append(arg)
    if mode is None:
        await io.err(b"tar: need exactly one of 'c', 'x' or 't'\n")
        return 1
    if mode == "c":
        data, errors = sh.fs.tar_create(names, directory)
        for line in errors:
            await io.err(_text(line + "\n"))
        if archive in (None, "-"):
            await io.out(data)
        else:
            sh.fs.write(sh.fs.norm(archive, sh.cwd), data)
        return 1 if errors else 0
    data = await io.stdin.read_all() if archive in (None, "-") else sh.read_file(archive)
    if mode == "t":
        with tarfile.open(fileobj=_io.BytesIO(data), mode="r:*") as tar:
            await io.out(_text("".join(m.name + "\n" for m in tar)))
        return 0
    errors = sh.fs.tar_extract(data, directory, keep_mtime=not touch)
    for line in errors:
        await io.err(_text(line + "\n"))
    return 1 if any("invalid" in e or "can't" in e for e in errors) else 0
