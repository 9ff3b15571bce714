"""A tier on an S3-compatible object store (SeaweedFS, MinIO, Ceph, AWS S3, OSS, COS) through boto3 (ADR 0016):
segments as objects under ``prefix + relative path``; uploads by the transfer manager (multipart for large files),
downloads by ranged GETs in parallel; every failure a :class:`StorageError` that says which tier, what, and why
(unreachable, credentials refused, no such bucket, out of space). It is a :class:`vigil.ports.Tier`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, EndpointConnectionError, NoCredentialsError

from vigil.domain.errors import StorageError
from vigil.durable_files import sha256_file

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK = 1 << 20
TRANSFER = TransferConfig(multipart_threshold=32 * CHUNK, multipart_chunksize=8 * CHUNK, max_concurrency=4)
REFUSED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "403"}
FULL = {"EntityTooLarge", "QuotaExceeded", "InsufficientStorage", "507", "XMinioStorageFull"}


class S3Tier:
    kind = "s3"

    def __init__(
        self,
        name: str,
        endpoint: str,
        bucket: str,
        prefix: str = "",
        *,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        timeout_s: float = 20.0,
        object_lock: bool = False,
        credentials_hint: str = "",
    ) -> None:
        self.name, self.endpoint, self.bucket, self.prefix = name, endpoint, bucket, prefix
        self.object_lock, self.credentials_hint = object_lock, credentials_hint
        config = BotoConfig(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            request_checksum_calculation="when_required",  # stores that predate CRC trailers take the upload
            response_checksum_validation="when_required",
        )
        self.client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

    def where(self) -> str:
        return f"s3 {self.endpoint} bucket {self.bucket}" + (f" prefix {self.prefix}" if self.prefix else "")

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _error(self, exc: Exception, what: str) -> StorageError:
        where = f"tier {self.name!r} ({self.where()})"
        if isinstance(exc, NoCredentialsError):
            return StorageError(
                f"{where}: no credentials to {what}" + (f" ({self.credentials_hint})" * bool(self.credentials_hint))
            )
        if isinstance(exc, EndpointConnectionError | ConnectionError):
            return StorageError(f"{where}: unreachable while trying to {what}: {exc}")
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            message = str(error.get("Message", "")) or code
            if code in REFUSED:
                return StorageError(f"{where}: credentials refused while trying to {what} ({code})")
            if code in ("NoSuchBucket", "404") and what == "reach the bucket":
                return StorageError(f"{where}: no such bucket")
            if code == "NoSuchBucket":
                return StorageError(f"{where}: no such bucket")
            if code in FULL:
                return StorageError(f"{where}: out of space while trying to {what} ({code})")
            return StorageError(f"{where}: could not {what}: {code} {message}")
        return StorageError(f"{where}: could not {what}: {exc}")

    def _upload_error(self, exc: Exception, key: str) -> StorageError:
        """The transfer manager wraps the store's answer in its own message: read the code back out of it."""
        if isinstance(exc.__cause__, BotoCoreError | ClientError):
            return self._error(exc.__cause__, f"write {key}")
        found = re.search(r"\((\w+)\) when calling", str(exc))
        code = found.group(1) if found else ""
        where = f"tier {self.name!r} ({self.where()})"
        if code in REFUSED:
            return StorageError(f"{where}: credentials refused while trying to write {key} ({code})")
        if code in FULL:
            return StorageError(f"{where}: out of space while trying to write {key} ({code})")
        if code == "InternalError":  # what SeaweedFS answers when its volumes are full (tested), among other faults
            return StorageError(f"{where}: the store failed to write {key} (InternalError: is it out of space?)")
        return StorageError(f"{where}: could not write {key}: {exc}")

    def check(self) -> None:
        """Reachable, credentials taken, bucket there: else a StorageError saying which."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, "reach the bucket") from None

    def put(self, key: str, source: Path, *, locked_until_us: int | None = None) -> None:
        extra: dict[str, Any] = {}
        if locked_until_us is not None and self.object_lock:
            extra["ObjectLockMode"] = "COMPLIANCE"
            extra["ObjectLockRetainUntilDate"] = datetime.fromtimestamp(locked_until_us / 1e6, UTC)
        try:
            self.client.upload_file(str(source), self.bucket, self._key(key), ExtraArgs=extra or None, Config=TRANSFER)
        except boto3.exceptions.S3UploadFailedError as exc:
            raise self._upload_error(exc, key) from None
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, f"write {key}") from None
        except OSError as exc:
            raise StorageError(f"tier {self.name!r}: cannot read {source} to upload it: {exc.strerror}") from None

    def sha256(self, key: str) -> str | None:
        """The SHA-256 of the object as the store returns it (None when it has no such object)."""
        import hashlib

        digest = hashlib.sha256()
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            for block in body.iter_chunks(CHUNK):
                digest.update(block)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "404"):
                return None
            raise self._error(exc, f"read {key}") from None
        except BotoCoreError as exc:
            raise self._error(exc, f"read {key}") from None
        return digest.hexdigest()

    def fetch(self, key: str, dest: Path) -> str:
        """Download the object to ``dest`` (ranged GETs in parallel for a large one); the SHA-256 of the file."""
        try:
            self.client.download_file(self.bucket, self._key(key), str(dest), Config=TRANSFER)
        except ClientError as exc:
            dest.unlink(missing_ok=True)
            if str(exc.response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "404"):
                raise StorageError(f"tier {self.name!r}: {key} is missing") from None
            raise self._error(exc, f"read {key}") from None
        except BotoCoreError as exc:
            dest.unlink(missing_ok=True)
            raise self._error(exc, f"read {key}") from None
        return sha256_file(dest)

    def size(self, key: str) -> int | None:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"])
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "404"):
                return None
            raise self._error(exc, f"look at {key}") from None
        except BotoCoreError as exc:
            raise self._error(exc, f"look at {key}") from None

    def delete(self, key: str) -> None:
        """Delete the object; in a bucket with object lock (versioned) every version of it, so that destroyed
        footage is gone and not hidden behind a delete marker. A version still locked is refused by the store: an
        error naming it."""
        try:
            if not self.object_lock:
                self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
                return
            listed = self.client.list_object_versions(Bucket=self.bucket, Prefix=self._key(key))
            versions = [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]
            for v in versions:
                if v["Key"] == self._key(key):
                    self.client.delete_object(Bucket=self.bucket, Key=v["Key"], VersionId=v["VersionId"])
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) == "AccessDenied" and self.object_lock:
                raise StorageError(
                    f"tier {self.name!r}: {key} is under an object lock (held footage): the store refuses to delete it"
                ) from None
            raise self._error(exc, f"delete {key}") from None
        except BotoCoreError as exc:
            raise self._error(exc, f"delete {key}") from None

    def lock(self, key: str, until_us: int) -> bool:
        """Keep the object from deletion until ``until_us`` (COMPLIANCE: nobody can shorten it, not even the bucket's
        owner); False when the tier has no object lock."""
        if not self.object_lock:
            return False
        until = datetime.fromtimestamp(until_us / 1e6, UTC)
        try:
            self.client.put_object_retention(
                Bucket=self.bucket, Key=self._key(key), Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until}
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, f"lock {key}") from None
        return True

    def locked_until(self, key: str) -> int | None:
        """Until when the store keeps the object locked (None: not locked)."""
        if not self.object_lock:
            return None
        try:
            found = self.client.get_object_retention(Bucket=self.bucket, Key=self._key(key))["Retention"]
        except ClientError:
            return None
        except BotoCoreError as exc:
            raise self._error(exc, f"look at {key}") from None
        return int(found["RetainUntilDate"].timestamp() * 1e6)

    def keys(self, prefix: str = "") -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix))
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :]
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, "list the objects") from None
