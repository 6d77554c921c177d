"""Checkpoints: tensors in safetensors, everything else as JSON in the same file's header; written atomically.

A checkpoint is one ``.safetensors`` file. Its tensors are the model's weights (``model.<name>``) and, for a resumable
checkpoint, the optimizer's state (``optim.<param index>.<key>``) and the RNG state (``rng.torch``). Its header
metadata holds one JSON document (key ``rnnlab``) with the task, the model config, the data transform (scalers,
vocabularies) and the training position. Loading parses JSON and raw tensors only: nothing is unpickled, no code runs.

Every write goes to a temporary file in the same folder, is flushed to disk, and replaces the old file with one
``os.replace``: a reader (or a run killed mid-write) sees the old checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnlab.distributed import is_main
from rnnlab.errors import RnnlabError

FORMAT_VERSION = 1
_META_KEY = "rnnlab"


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either untouched or complete, even if the process dies.

    In distributed training only rank 0 writes (:mod:`rnnlab.distributed`): every file rnnlab writes comes here.
    """
    if not is_main():
        return
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise RnnlabError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would have
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a read-only file system: the old file stays as it was
        Path(tmp).unlink(missing_ok=True)
        raise RnnlabError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_table(frame, output: str | Path | None, what: str, log, protect: tuple = ()) -> None:
    """A result table (pandas) as CSV to ``output``, written atomically, or printed when ``output`` is None; an
    output that is one of ``protect`` (the command's inputs) is refused."""
    check_output(output, *protect)
    if output:
        atomic_write_text(output, frame.to_csv(index=False))
        log(f"wrote {len(frame)} {what} to {output}")
    else:
        log(frame.to_string(index=False))


def save_checkpoint(path: str | Path, tensors: dict[str, Tensor], metadata: dict[str, Any]) -> None:
    """Save ``tensors`` and the JSON-able ``metadata`` (must name its ``task``) atomically to ``path``."""
    from safetensors.torch import save

    if "task" not in metadata:
        raise ValueError("checkpoint metadata must name its task")
    prepared = {k: v.detach().contiguous().cpu().clone() for k, v in tensors.items()}  # clone: no shared storage
    document = {"format_version": FORMAT_VERSION, **metadata, "checksum": _checksum(prepared)}
    atomic_write_bytes(path, save(prepared, metadata={_META_KEY: json.dumps(document)}))


def load_checkpoint(path: str | Path, *, task: str | None = None) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Read a checkpoint (a run folder means its ``best.safetensors``); a missing, corrupted or foreign file, or one
    of another task, is a one-line RnnlabError."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    if path.is_dir():
        path = path / "best.safetensors"
    if not path.is_file():
        raise RnnlabError(f"checkpoint not found: {path}")
    raw = path.read_bytes()
    try:
        tensors = load(raw)
        header_size = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8 : 8 + header_size])
        document = json.loads(header["__metadata__"][_META_KEY])
    except (SafetensorError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RnnlabError(f"{path} is not a readable rnnlab checkpoint (corrupted or truncated?): {reason}") from exc
    if document.get("format_version") != FORMAT_VERSION:
        raise RnnlabError(f"{path} has checkpoint format {document.get('format_version')!r}; expected {FORMAT_VERSION}")
    if task is not None and document.get("task") != task:
        raise RnnlabError(f"{path} is a checkpoint of the '{document.get('task')}' task, not of '{task}'")
    if "checksum" in document and document["checksum"] != _checksum(tensors):
        raise RnnlabError(f"{path} is corrupted: its weights do not match the checksum saved with them")
    return tensors, document


def _checksum(tensors: dict[str, Tensor]) -> str:
    """SHA-256 of every tensor's name, shape, type and bytes, in name order: a flipped bit is found on load."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        digest.update(f"{name}|{tuple(tensor.shape)}|{tensor.dtype}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def fingerprint(*arrays) -> str:
    """A short SHA-256 of training data (tensors or NumPy arrays, or lists of them): ``--resume`` compares it, so a
    run is never continued on other data."""
    digest = hashlib.sha256()
    for array in arrays:
        for item in array if isinstance(array, (list, tuple)) else [array]:
            data = item.detach().cpu().contiguous().numpy() if isinstance(item, Tensor) else item
            digest.update(memoryview(data.tobytes() if hasattr(data, "tobytes") else str(data).encode()))
    return digest.hexdigest()[:16]


_HELD: set[str] = set()


@contextlib.contextmanager
def run_lock(run_dir: str | Path) -> Iterator[None]:
    """Hold ``run_dir/.lock`` for a whole training: a second run into the same folder is refused with the holder's
    process id instead of mixing its checkpoints and logs with this one's. Re-entrant within one process."""
    import fcntl

    if not is_main():
        yield
        return
    folder = Path(run_dir)
    key = str(folder.resolve())
    if key in _HELD:
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RnnlabError(f"cannot write {folder}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(handle, 32).decode(errors="replace").strip() or "?"
        os.close(handle)
        raise RnnlabError(
            f"{run_dir} is in use by another rnnlab run (pid {holder}); wait for it or choose another --run-dir"
        ) from None
    os.ftruncate(handle, 0)
    os.write(handle, str(os.getpid()).encode())
    _HELD.add(key)
    try:
        yield
    finally:
        _HELD.discard(key)
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def run_folder(checkpoint: str | Path, command: str) -> Path:
    """The run folder a ``--checkpoint`` names (the folder itself, or the folder of its ``best.safetensors``); a
    missing path is a one-line error that says what ``command`` expects."""
    path = Path(checkpoint)
    if not path.exists():
        raise RnnlabError(f"checkpoint not found: {path} (a run folder of rnnlab {command} train, or its "
                          "best.safetensors)")  # fmt: skip
    return path if path.is_dir() else path.parent


def check_output(output: str | Path | None, *inputs: str | Path | None) -> None:
    """Refuse an output file that is one of the run's inputs (its data, its checkpoint): it would be destroyed."""
    if not output:
        return
    target = Path(output).resolve()
    for item in inputs:
        if not item:
            continue
        source = Path(item).resolve()
        protected = {source} | ({source / "best.safetensors"} if source.is_dir() else set())
        if target in protected:
            raise RnnlabError(
                f"--output {output} would overwrite {item}, an input of this command; choose another file"
            )


def with_prefix(prefix: str, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    return {f"{prefix}.{k}": v for k, v in tensors.items()}


def strip_prefix(prefix: str, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    start = len(prefix) + 1
    return {k[start:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def optimizer_to_checkpoint(optimizer: torch.optim.Optimizer) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split an optimizer's state_dict into tensors (for safetensors) and JSON (everything else)."""
    state = optimizer.state_dict()
    tensors: dict[str, Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, Tensor):
                tensors[f"{index}.{key}"] = value
            else:
                plain.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "plain_state": plain}


def optimizer_from_checkpoint(optimizer: torch.optim.Optimizer, tensors: dict[str, Tensor], saved: dict) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    for index, values in saved["plain_state"].items():
        state.setdefault(int(index), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})


def load_error(exc: BaseException) -> str:
    """The informative line of a ``load_state_dict`` error (its first line only says that there were errors)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    useful = [line for line in lines if "size mismatch" in line or "Missing key" in line or "Unexpected key" in line]
    return (useful or lines or [type(exc).__name__])[0][:300]
