"""Writing a file so that a crash at any moment leaves either the old file or the new one, whole.

The content goes to a temporary file beside the target, named ``.NAME.chainrule-save-PID-RANDOM.tmp``
(so a user who sees one knows where it came from), is flushed to disk, takes over the old file's
permissions, and is renamed over the target in one step. A symlink is written through: the file it
points to is replaced and the link stays. Any failure removes the temporary file; a process killed
mid-save can't, so each save first removes the temporary files of its target whose writer process
no longer exists.
"""
import os
import stat
import uuid

TEMPORARY_MARK = ".chainrule-save-"


def write_atomically(path, content):
    """Replace the file at ``path`` by ``content`` (bytes), atomically, keeping its permissions.

    A folder that does not exist raises PyTorch's RuntimeError (``torch.save`` raises it too).
    """
    given = os.fsdecode(os.fspath(path))
    _check_parent(os.path.dirname(given), given)
    target = os.path.realpath(given)
    directory, base = os.path.split(target)
    if target != os.path.abspath(given):  # a symlink: its target's folder must exist as well
        _check_parent(directory, given)
    remove_abandoned_temporaries(directory, base)
    temporary = os.path.join(directory, f".{base}{TEMPORARY_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    # Created like open() would (permissions from the umask), and only if the name is new.
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        _copy_permissions(target, temporary)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass
        raise
    _sync_directory(directory)


def _check_parent(directory, given):
    if directory and not os.path.isdir(directory):
        shown = directory if directory == os.path.dirname(given) else f"{directory} (where the link {given} points)"
        raise RuntimeError(f"Parent directory {shown} does not exist.")


def remove_abandoned_temporaries(directory, base):
    """Remove the temporary files left for ``base`` by saves whose process was killed."""
    prefix = f".{base}{TEMPORARY_MARK}"
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        writer = name[len(prefix) :].split("-", 1)[0]
        if writer.isdigit() and _process_is_gone(int(writer)):
            try:
                os.remove(os.path.join(directory, name))
            except OSError:
                pass


def _process_is_gone(pid):
    """True when no process ``pid`` exists (POSIX); elsewhere we can't tell cheaply, so never."""
    if os.name != "posix" or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists but belongs to someone else
        return False
    return False


def _copy_permissions(target, temporary):
    """Give the new file the mode (and, where allowed, the owner) of the file it replaces."""
    try:
        old = os.stat(target)
    except FileNotFoundError:
        return
    os.chmod(temporary, stat.S_IMODE(old.st_mode))
    if hasattr(os, "chown"):
        try:
            os.chown(temporary, old.st_uid, old.st_gid)
        except OSError:  # only root may give a file away; the new file is then the saver's
            pass


def _sync_directory(directory):
    """Flush the rename itself to disk (POSIX); where directories can't be opened, there is nothing to do."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
