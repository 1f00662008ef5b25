"""Safe file writes: a write either completes or leaves what was there as it was.

``atomic_write`` writes a temporary file beside the target and renames it over the target, so
a failed or interrupted write leaves the previous file intact. What it will replace is
checked first (``check_output_path`` runs the same checks before any long work starts, so
that a bad ``--save`` or ``checkpoint=`` is refused before training, not after):

- the folder must exist and be a folder (zerodl creates no folders for models, checkpoints
  and plots: a typing mistake in a folder name is refused, naming the missing folder);
- the target must be a regular file or not exist yet: a folder, a device such as
  ``/dev/null``, a FIFO or a socket is refused, never replaced by a regular file;
- a symbolic link is written through: the file it points to is replaced atomically and the
  link stays a link, pointing where it pointed;
- the folder must be writable (a read-only folder or file system is refused up front), and
  an existing file too: a read-only file is refused, not replaced by the rename.

An ``OSError`` while writing (a full disk, a file system gone read-only, ...) is raised again
with a message that names the real target, never the temporary file, and says that the
previous file is unchanged. ``~`` is expanded in every path, as ``zerodl.load`` does.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Iterator

from ._checks import check_path

#: What each kind of file that is not a regular one is called in messages.
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISSOCK, "a socket"))


def check_output_path(name: str, value, *, make_parents: bool = False) -> Path:
    """Return ``value`` as a ``Path`` (``~`` expanded) that a file can be written to, or raise.

    Refused, with the argument's ``name`` and the rule in the message: anything that is not
    a path, ``""`` (``TypeError``/``ValueError`` as ``check_path``); a folder, device, FIFO or
    socket at the path, or where a symbolic link at the path points (``ValueError``); a
    missing folder, unless ``make_parents`` (``FileNotFoundError``); a folder that cannot be
    written to (``PermissionError``, also for a read-only file system). Nothing is created.
    """
    path = check_path(name, value)
    target = _target(name, path)
    folder = target.parent
    _check_folder(name, path, folder, make_parents)
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        where = ("on a read-only file system" if _read_only_fs(folder)
                 else "that you may not write to")
        raise PermissionError(f"{name} must be in a folder you can write to; got "
                              f"{_show(path)}, in the folder "
                              f"{_show(Path(os.path.abspath(folder)))} {where}.")
    _check_writable_file(name, path, target)
    return path


def _check_writable_file(name: str, path: Path, target: Path) -> None:
    """A file marked read-only is not replaced: ``open(path, "w")`` would refuse it, and
    the rename of an atomic write must not get round that. No write bit at all counts as
    read-only even for root, who could write it: someone marked it so on purpose."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return                              # a new file
    if stat.S_ISREG(mode) and (not os.access(target, os.W_OK) or not mode & 0o222):
        raise PermissionError(f"{name} must be a file you may write to; got {_show(path)}, "
                              f"which is read-only (chmod u+w it to let zerodl replace it).")


def _show(path: Path) -> str:
    return repr(str(path))


def _target(name: str, path: Path) -> Path:
    """The file a write to ``path`` replaces: ``path`` itself or, for a symbolic link, the
    file it points to (links followed to the end). Refuses a target that is not a regular
    file."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return target                       # a new file (or a missing folder: see below)
    except OSError:
        return target                       # unreadable: let the write itself report it
    if stat.S_ISREG(mode):
        return target
    kind = next((word for test, word in _KINDS if test(mode)), "not a regular file")
    via = f" (a link to {_show(target)})" if target != path else ""
    raise ValueError(f"{name} must be a regular file or a new one; got {_show(path)}{via}, "
                     f"which is {kind}. zerodl does not replace it; give a file name.")


def _check_folder(name: str, path: Path, folder: Path, make_parents: bool) -> None:
    """The folder ``folder`` of the target of ``path`` must exist (or be creatable)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing != folder and existing.is_dir() and make_parents:
        return                              # the write creates the missing folders
    if existing == folder and folder.is_dir():
        return
    if existing.is_dir():
        missing = folder
        while missing.parent != existing:
            missing = missing.parent
        raise FileNotFoundError(f"{name} must be in an existing folder; got {_show(path)}, "
                                f"but the folder {_show(missing)} does not exist (zerodl "
                                f"creates no folders: make it first).")
    raise FileNotFoundError(f"{name} must be in an existing folder; got {_show(path)}, but "
                            f"{_show(existing)} is a file, not a folder.")


def _read_only_fs(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):         # no statvfs (Windows)
        return False


def _write_error(exc: OSError, path: Path, existed: bool) -> OSError:
    """``exc`` said again, naming the real target ``path`` (not the temporary file)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    kept = "its previous contents are unchanged" if existed else "no file was left there"
    # OSError(errno, text) picks the subclass of the errno (PermissionError, ...).
    return OSError(exc.errno, f"could not write {path}: {reason}; {kept}.") if exc.errno \
        else OSError(f"could not write {path}: {reason}; {kept}.")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", *, name: str = "path",
                 make_parents: bool = True) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    The rename is atomic on POSIX and Windows (``os.replace``), so readers see either the old
    file or the complete new one, never a half-written one. ``path`` is checked first as by
    ``check_output_path`` (``name`` is the argument named in messages); ``make_parents``
    creates missing folders (caches, course kits) instead of refusing them. A symbolic link is
    written through to its target and stays a link. Any ``OSError`` names ``path``.
    """
    path = check_output_path(name, path, make_parents=make_parents)
    target = _target(name, path)
    existed = target.exists()
    tmp = None
    try:
        if make_parents:
            target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, mode) as f:
            # mkstemp creates the file 0600; give it the mode a plain open() would have.
            os.chmod(tmp, _existing_mode(target))
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise _write_error(exc, path, existed) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _existing_mode(path: Path) -> int:
    """The mode of the file being replaced, or 0666 less the umask for a new file."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
