"""A simulated container's file system: in memory, one per container instance (a restart starts
from the image again), with the files the kubelet mounts and tar archives in and out (what
``kubectl cp`` runs through exec)."""

from __future__ import annotations

import io
import posixpath
import tarfile
from dataclasses import dataclass, field


@dataclass
class Node:
    is_dir: bool
    data: bytes = b""
    mode: int = 0o644
    mtime: float = 0.0
    children: dict[str, "Node"] = field(default_factory=dict)


class FsError(Exception):
    """A failed file operation; the message is what busybox prints after the command name."""


class ContainerFs:
    def __init__(self, mtime: float = 0.0) -> None:
        self.root = Node(True, mode=0o755, mtime=mtime)
        self.mtime = mtime

    # -- paths ------------------------------------------------------------------------------------
    @staticmethod
    def norm(path: str, cwd: str = "/") -> str:
        return posixpath.normpath(posixpath.join(cwd, path)).replace("//", "/")

    def node(self, path: str) -> Node | None:
        cur = self.root
        for part in [p for p in self.norm(path).split("/") if p]:
            if not cur.is_dir or part not in cur.children:
                return None
            cur = cur.children[part]
        return cur

    def _parent(self, path: str, create: bool = False) -> tuple[Node, str]:
        path = self.norm(path)
        parent_path, name = posixpath.split(path)
        parent = self.mkdirs(parent_path) if create else self.node(parent_path)
        if parent is None or not parent.is_dir:
            raise FsError(f"can't create '{path}': No such file or directory")
        return parent, name

    # -- writes -----------------------------------------------------------------------------------
    def mkdirs(self, path: str, mode: int = 0o755) -> Node:
        cur = self.root
        for part in [p for p in self.norm(path).split("/") if p]:
            nxt = cur.children.get(part)
            if nxt is None:
                nxt = cur.children[part] = Node(True, mode=mode, mtime=self.mtime)
            elif not nxt.is_dir:
                raise FsError(f"can't create directory '{path}': Not a directory")
            cur = nxt
        return cur

    def write(self, path: str, data: bytes, append: bool = False, mode: int = 0o644,
              create_parents: bool = False) -> None:
        parent, name = self._parent(path, create=create_parents)
        existing = parent.children.get(name)
        if existing is not None and existing.is_dir:
            raise FsError(f"can't create '{self.norm(path)}': Is a directory")
        if existing is not None and append:
            existing.data += data
            existing.mtime = self.mtime
            return
        parent.children[name] = Node(False, data=data, mode=mode, mtime=self.mtime)

    def remove(self, path: str, recursive: bool = False) -> None:
        parent, name = self._parent(path)
        node = parent.children.get(name)
        if node is None:
            raise FsError(f"can't remove '{path}': No such file or directory")
        if node.is_dir and not recursive:
            raise FsError(f"'{path}' is a directory")
        del parent.children[name]

    def read(self, path: str) -> bytes:
        node = self.node(path)
        if node is None:
            raise FsError(f"can't open '{path}': No such file or directory")
        if node.is_dir:
            raise FsError(f"read error: Is a directory")
        return node.data

    # -- tar --------------------------------------------------------------------------------------
    def tar_create(self, paths: list[str], cwd: str = "/") -> tuple[bytes, list[str]]:
        """A tar archive of the paths (recursively), names relative to cwd or with the leading
        '/' removed as tar does; returns the archive and tar's complaints."""
        out, errors = io.BytesIO(), []
        with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for path in paths:
                full = self.norm(path, cwd)
                node = self.node(full)
                if node is None:
                    errors.append(f"tar: {path}: No such file or directory")
                    continue
                name = path.lstrip("/") if path.startswith("/") else posixpath.normpath(path)
                self._add(tar, name, node)
        return out.getvalue(), errors

    def _add(self, tar: tarfile.TarFile, name: str, node: Node) -> None:
        info = tarfile.TarInfo(name)
        info.mode, info.mtime, info.uname, info.gname = node.mode, int(node.mtime), "root", "root"
        if node.is_dir:
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
            for child_name in sorted(node.children):
                self._add(tar, f"{name}/{child_name}", node.children[child_name])
        else:
            info.size = len(node.data)
            tar.addfile(info, io.BytesIO(node.data))

    def tar_extract(self, archive: bytes, dest: str, keep_mtime: bool = True) -> list[str]:
        """Unpack into dest; returns tar's complaints. Names leaving dest are refused, as GNU
        tar refuses them."""
        errors: list[str] = []
        dest = self.norm(dest)
        if self.node(dest) is None or not self.node(dest).is_dir:
            return [f"tar: can't change directory to '{dest}': No such file or directory"]
        try:
            with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
                for member in tar:
                    target = self.norm(member.name, dest)
                    if not (target + "/").startswith(dest.rstrip("/") + "/"):
                        errors.append(f"tar: removing leading '../' from member names")
                        continue
                    mtime = member.mtime if keep_mtime else self.mtime
                    if member.isdir():
                        self.mkdirs(target).mtime = mtime
                    elif member.isfile():
                        data = tar.extractfile(member).read()  # type: ignore[union-attr]
                        self.write(target, data, mode=member.mode & 0o777 or 0o644,
                                   create_parents=True)
                        self.node(target).mtime = mtime  # type: ignore[union-attr]
        except tarfile.TarError as exc:
            errors.append(f"tar: invalid tar magic ({exc})")
        return errors
