"""One object store, through fsspec: its configuration checks and the content-addressed reads and writes.

See objectstore.py for how artifacts are laid out in a store and why an upload is atomic; this module is the
store client (``ObjectStore``) it uses. fsspec (and s3fs) are imported only when a store is first used.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError, IntegrityError, InvalidInput, RegistryError, StoreError
from .artifacts import CHUNK

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

# option names that hold secrets: credentials come from the environment or profiles, never registry.yaml
_SECRET_WORDS = ("secret", "password", "passwd", "token", "credential", "access_key", "account_key", "private_key")
_SECRET_NAMES = {"key", "sas", "session"}
# s3 client defaults: a dead endpoint fails in seconds, not minutes of retries (a user's config_kwargs win)
_S3_CONFIG = {"connect_timeout": 5, "read_timeout": 300, "retries": {"max_attempts": 2, "mode": "standard"}}
MIN_PART = 8 * 1024 * 1024  # S3 multipart part size (S3 allows 5 MiB and up; 5 MiB parts measured slower)
MAX_PARTS = 9_000  # below S3's 10,000-part limit
CONCURRENCY = 4  # parts in flight (a sliding window): 1 GiB measured 145 MiB peak RSS (118 with 3, but 1.68x boto3)


def is_git(store: str | None) -> bool:
    return store in (None, "", "git")


def check_options(options: Any, where: str = "artifact_store_options") -> dict[str, Any]:
    """Refuse anything that looks like a credential (config_error naming the key)."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ConfigError(f"registry.yaml: {where} must be a mapping", hint="e.g. {endpoint_url: http://host:9000}")
    for key, value in options.items():
        low = str(key).lower()
        if low in _SECRET_NAMES or any(w in low for w in _SECRET_WORDS):
            raise ConfigError(
                f"registry.yaml: {where}.{key} looks like a credential, and registry.yaml is committed",
                hint="remove it; credentials come from the environment (AWS_ACCESS_KEY_ID, …) or a profile "
                "(AWS_PROFILE / profile: NAME)",
            )
        if isinstance(value, dict):
            check_options(value, f"{where}.{key}")
    return options


def check_url(url: Any, where: str = "artifact_store") -> str:
    """``git`` or an fsspec URL ``protocol://…``; a file:// URL must name an absolute folder."""
    src = "registry.yaml: " if where.startswith("artifact_store") else ""
    if not isinstance(url, str) or not url:
        raise ConfigError(f"{src}{where} must be a string", hint="git, s3://bucket/prefix or file:///path")
    if is_git(url):
        return url
    m = re.fullmatch(r"([a-z][a-z0-9+.-]*)://(.+)", url)
    if not m:
        raise ConfigError(
            f"{src}{where} {redact(url)!r} is neither 'git' nor a URL",
            hint="use git, s3://bucket/prefix or file:///absolute/path",
        )
    if m.group(1) == "file" and not m.group(2).startswith("/"):
        raise ConfigError(f"{src}{where} {url!r} must be an absolute path (file:///…)", hint="e.g. file:///mnt/models")
    if "@" in m.group(2).split("/", 1)[0]:
        raise ConfigError(f"{src}{where} carries credentials in its URL", hint="drop user:password@ from the URL")
    return url


def redact(text: str) -> str:
    """A URL or message without credentials: userinfo in URLs and the values of credential variables."""
    out = re.sub(r"(://)[^/@\s]+@", r"\1", str(text))
    for var in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"):
        value = os.environ.get(var)
        if value and len(value) >= 4:
            out = out.replace(value, "***")
    return out


class ObjectStore:
    """One configured store: its base URL and fsspec storage options."""

    def __init__(self, url: str, options: dict[str, Any] | None = None) -> None:
        self.url = check_url(url).rstrip("/")
        self.options = check_options({} if options is None else options)
        self._fs: Any = None

    @property
    def protocol(self) -> str:
        return self.url.split("://", 1)[0]

    def object_url(self, sha256: str) -> str:
        return f"{self.url}/sha256/{sha256[:2]}/{sha256}"

    # -- fsspec ---------------------------------------------------------------------
    def fs(self) -> Any:
        if self._fs is None:
            try:
                import fsspec
            except ImportError:
                raise ConfigError(
                    f"artifact_store {redact(self.url)} needs fsspec, which is not installed",
                    hint="pip install 'sw-registry[s3]'",
                ) from None
            options = dict(self.options)
            if self.protocol in ("s3", "s3a"):
                config = {**_S3_CONFIG, **(options.get("config_kwargs") or {})}
                options["config_kwargs"] = config
                options.setdefault("default_block_size", MIN_PART)
            try:
                self._fs = fsspec.filesystem(self.protocol, skip_instance_cache=True, **options)
            except ImportError as exc:
                raise ConfigError(
                    f"artifact_store {redact(self.url)} needs a package that is not installed: {exc}",
                    hint="pip install 'sw-registry[s3]' (s3://), or the fsspec implementation of that protocol",
                ) from None
            except (ValueError, TypeError) as exc:
                raise ConfigError(
                    f"artifact_store_options are not accepted by fsspec for {self.protocol}://: {redact(str(exc))}",
                    hint="fix artifact_store_options in .specweave/registry.yaml",
                ) from None
        return self._fs

    def _path(self, url: str) -> str:
        return str(self.fs()._strip_protocol(url))

    def failure(self, what: str, url: str, exc: BaseException) -> RegistryError:
        """A store_error naming the URL (never credentials) and the cause."""
        kind = type(exc).__name__
        text = redact(str(exc)) or kind
        hint = "check that the store is reachable and artifact_store / artifact_store_options are right"
        if "credential" in text.lower() or kind in ("NoCredentialsError", "PartialCredentialsError"):
            hint = "set credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or a profile"
        elif "bucket" in text.lower() and ("not exist" in text.lower() or "nosuchbucket" in text.lower()):
            hint = "create the bucket, or fix artifact_store in .specweave/registry.yaml"
        return StoreError(
            f"artifact store {redact(url)}: {what} failed: {text}",
            hint=hint,
            details={"url": redact(url), "operation": what},
        )

    def size_of(self, url: str) -> int | None:
        """The object's size, or None when it does not exist."""
        try:
            info = self.fs().info(self._path(url))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self.failure("looking up", url, exc) from None
        if info.get("type") == "directory":
            return None
        return int(info.get("size") or 0)

    # -- upload ---------------------------------------------------------------------
    def put_file(self, src: Path, sha256: str, size: int, progress: Callable[[int], None] | None) -> bool:
        """Make the object for ``src`` exist; False when it was there already (nothing sent)."""
        url = self.object_url(sha256)
        if self.size_of(url) == size:
            return False
        fs = self.fs()
        if self.protocol in ("s3", "s3a") and size >= MIN_PART:
            return self._put_multipart(src, url, sha256, size, progress)
        direct = self.protocol in ("s3", "s3a")  # a single PUT is all or nothing
        final = self._path(url)
        target = final if direct else f"{final}.{uuid.uuid4().hex}.part"
        try:
            if not direct:
                fs.makedirs(self._path(url.rsplit("/", 1)[0]), exist_ok=True)
            block = max(MIN_PART, -(-size // MAX_PARTS))
            out = fs.open(target, "wb", block_size=block) if direct else fs.open(target, "wb")
        except Exception as exc:
            raise self.failure("upload", url, exc) from None
        h = hashlib.sha256()
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        sent = 0
        try:
            with open(src, "rb") as fin:
                while n := fin.readinto(buf):
                    h.update(view[:n])
                    out.write(view[:n])
                    sent += n
                    if progress is not None:
                        progress(sent)
            if h.hexdigest() != sha256 or sent != size:
                raise InvalidInput(
                    f"artifact {src} changed while it was being registered", hint="register it again once it is written"
                )
            out.close()
            if not direct:
                fs.mv(target, final)
        except BaseException as exc:
            _discard(out, fs, target, direct)
            if isinstance(exc, (InvalidInput, KeyboardInterrupt, SystemExit)):
                raise
            raise self.failure("upload", url, exc) from None
        return True

    def _put_multipart(
        self, src: Path, url: str, sha256: str, size: int, progress: Callable[[int], None] | None
    ) -> bool:
        """An S3 multipart upload, ``CONCURRENCY`` parts in flight, hashed as it is read; completed only when
        the bytes sent are the bytes hashed, aborted on any error (so no partial object ever shows)."""
        from fsspec.asyn import sync

        fs = self.fs()
        bucket, key, _ = fs.split_path(self._path(url))
        part = max(MIN_PART, -(-size // MAX_PARTS))
        try:
            sync(fs.loop, _multipart, fs, bucket, key, src, sha256, size, part, progress)
        except (InvalidInput, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            raise self.failure("upload", url, exc) from None
        return True

    def put_bytes(self, data: bytes, sha256: str) -> bool:
        url = self.object_url(sha256)
        if self.size_of(url) == len(data):
            return False
        fs = self.fs()
        try:
            if self.protocol in ("s3", "s3a"):
                fs.pipe_file(self._path(url), data)
            else:
                fs.makedirs(self._path(url.rsplit("/", 1)[0]), exist_ok=True)
                tmp = f"{self._path(url)}.{uuid.uuid4().hex}.part"
                fs.pipe_file(tmp, data)
                fs.mv(tmp, self._path(url))
        except Exception as exc:
            raise self.failure("upload", url, exc) from None
        return True

    # -- download -------------------------------------------------------------------
    def get_file(self, url: str, dest: Path) -> None:
        """Stream the object at ``url`` into ``dest`` (one request, constant memory)."""
        fs = self.fs()
        try:
            if self.protocol in ("s3", "s3a"):
                fs.get_file(self._path(url), str(dest), max_concurrency=1)
            else:
                fs.get_file(self._path(url), str(dest))
        except FileNotFoundError:
            raise IntegrityError(
                f"artifact object {redact(url)} is missing from the store",
                hint="upload it again by registering the same file as a new version, or restore the store's copy",
                details={"url": redact(url)},
            ) from None
        except Exception as exc:
            raise self.failure("download", url, exc) from None


async def _multipart(
    fs: Any,
    bucket: str,
    key: str,
    src: Path,
    sha256: str,
    size: int,
    part: int,
    progress: Callable[[int], None] | None,
) -> None:
    import asyncio

    mpu = await fs._call_s3("create_multipart_upload", Bucket=bucket, Key=key)
    upload_id = mpu["UploadId"]
    h = hashlib.sha256()
    parts: list[dict[str, Any]] = []
    pending: set[asyncio.Task[dict[str, Any]]] = set()
    sent = 0

    async def one(number: int, body: bytes) -> dict[str, Any]:
        out = await fs._call_s3("upload_part", Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        return {"PartNumber": number, "ETag": out["ETag"]}

    try:
        with open(src, "rb") as fh:
            number = 0
            while body := fh.read(part):  # a sliding window: the next part is read as soon as one is sent
                h.update(body)
                number += 1
                pending.add(asyncio.ensure_future(one(number, body)))
                sent += len(body)
                del body
                if len(pending) >= CONCURRENCY:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    parts.extend(t.result() for t in done)
                    if progress is not None:
                        progress(sent - len(pending) * part)
            if pending:
                done, _ = await asyncio.wait(pending)
                parts.extend(t.result() for t in done)
        parts.sort(key=lambda p: int(p["PartNumber"]))
        if progress is not None:
            progress(sent)
        if h.hexdigest() != sha256 or sent != size:
            raise InvalidInput(
                f"artifact {src} changed while it was being registered", hint="register it again once it is written"
            )
        await fs._call_s3(
            "complete_multipart_upload",
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
    except BaseException:
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await fs._call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)
        raise


def _discard(out: Any, fs: Any, target: str, direct: bool) -> None:
    """Abandon an unfinished upload: abort the multipart upload, or remove the temporary object."""
    with contextlib.suppress(Exception):
        if hasattr(out, "discard"):
            out.discard()
        if not direct:
            with contextlib.suppress(Exception):
                out.close()
            fs.rm(target)
