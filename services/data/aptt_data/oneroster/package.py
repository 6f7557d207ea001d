"""Opening an uploaded zip safely, and reading a OneRoster package's manifest and files.

A zip is refused as a whole when it is not a zip, holds a path that could escape a folder,
is encrypted, or unpacks to more than the allowed size (checked while unpacking, not only
from the sizes the zip declares).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO

from aptt_data.oneroster.csvfile import FileRejected, Rejection, read_table
from aptt_data.oneroster.rowcheck import ParsedFile, check_rows
from aptt_data.oneroster.spec import VERSIONS, FileSpec, Mode, Version, roster_specs, split_user

MANIFEST = "manifest.csv"
MAX_ENTRIES = 64
FILE_MODES = frozenset({"bulk", "delta", "absent"})


class PackageError(Exception):
    """The upload cannot be read as a package at all: nothing in it is applied."""

    def __init__(self, reason: str, *, file: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.file = file


class Package:
    """An opened zip whose structure passed the checks; its files are read as streams, and
    all of them together may unpack to at most `max_unzipped_bytes` (counted while read)."""

    def __init__(self, archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], limit: int):
        self.archive = archive
        self.entries = entries
        self.limit = limit
        self.budget = limit

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def chunks(self, name: str, size: int = 256 * 1024) -> Iterator[bytes]:
        info = self.entries[name]
        try:
            with self.archive.open(info) as stream:
                while chunk := stream.read(size):
                    self.budget -= len(chunk)
                    if self.budget < 0:
                        raise PackageError(_too_big(self.limit))
                    yield chunk
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise PackageError(f"{info.filename} is damaged in the zip: {exc}") from exc

    def read(self, name: str) -> bytes:
        return b"".join(self.chunks(name))

    def close(self) -> None:
        self.archive.close()


def open_package(
    source: IO[bytes], *, max_unzipped_bytes: int, upload_name: str = "upload"
) -> Package:
    """Check a zip's structure (paths, encryption, declared sizes) without unpacking it."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageError(f"{upload_name} is not a zip file", file=upload_name) from exc
    try:
        entries = [i for i in archive.infolist() if not i.is_dir()]
        if len(entries) > MAX_ENTRIES:
            raise PackageError(f"the zip holds {len(entries)} files; at most {MAX_ENTRIES}")
        for info in entries:
            _check_path(info.filename)
        kept = [i for i in entries if not _is_noise(i.filename)]
        for info in kept:
            if info.flag_bits & 0x1:
                raise PackageError(f"{info.filename} is encrypted; upload an unencrypted zip")
        if sum(i.file_size for i in kept) > max_unzipped_bytes:
            raise PackageError(_too_big(max_unzipped_bytes))
        prefix = _common_folder([i.filename for i in kept])
        files: dict[str, zipfile.ZipInfo] = {}
        for info in kept:
            name = info.filename[len(prefix) :]
            if "/" in name:
                raise PackageError(f"{info.filename}: the package's files belong at the top level")
            if name in files:
                raise PackageError(f"the zip holds {name} twice")
            files[name] = info
    except BaseException:
        archive.close()
        raise
    return Package(archive, files, max_unzipped_bytes)


def unzip(data: bytes, *, max_unzipped_bytes: int, upload_name: str = "upload") -> dict[str, bytes]:
    """The CSV files of a zip, by base name."""
    package = open_package(
        io.BytesIO(data), max_unzipped_bytes=max_unzipped_bytes, upload_name=upload_name
    )
    try:
        return {name: package.read(name) for name in package.entries}
    finally:
        package.close()


def _is_noise(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(p == "__MACOSX" or p.startswith(".") for p in parts)


def _check_path(name: str) -> None:
    path = PurePosixPath(name)
    if (
        "\\" in name
        or name.startswith("/")
        or (len(name) > 1 and name[1] == ":")
        or any(part == ".." for part in path.parts)
    ):
        raise PackageError(f"the zip holds an unsafe path {name!r}")


def _common_folder(names: list[str]) -> str:
    """Zips made from a folder put every file under it; read them as if at the top."""
    folders = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(folders) == 1 and all("/" in n for n in names):
        return folders.pop() + "/"
    return ""


def _too_big(limit: int) -> str:
    return f"the zip unpacks to more than {limit // (1024 * 1024)} MiB"


@dataclass(frozen=True)
class Manifest:
    version: Version
    modes: dict[str, str]  # file.users -> bulk | delta | absent


def read_manifest(data: bytes) -> Manifest:
    try:
        table = read_table(MANIFEST, data, required_columns=("propertyName", "value"))
    except FileRejected as exc:
        raise PackageError(exc.rejection.reason, file=MANIFEST) from exc
    properties = {row.values["propertyName"]: row.values["value"] for row in table.rows}
    version = next((v for v in VERSIONS if v == properties.get("oneroster.version")), None)
    if version is None:
        raise PackageError(
            f"manifest.csv says oneroster.version is {properties.get('oneroster.version')!r}; "
            "this import reads OneRoster 1.1 and 1.2",
            file=MANIFEST,
        )
    if properties.get("manifest.version") != "1.0":
        raise PackageError("manifest.csv must say manifest.version 1.0", file=MANIFEST)
    modes = {k: v for k, v in properties.items() if k.startswith("file.")}
    bad = {k: v for k, v in modes.items() if v not in FILE_MODES}
    if bad:
        key, value = next(iter(bad.items()))
        raise PackageError(
            f"manifest.csv gives {key} the value {value!r}; use bulk, delta or absent",
            file=MANIFEST,
        )
    return Manifest(version=version, modes=modes)


@dataclass
class RosterUpload:
    """What a rostering package says, file by file, after each row was checked alone."""

    mode: Mode
    version: Version = "1.2"
    files: dict[str, ParsedFile] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)  # whole files refused


@dataclass(frozen=True)
class RosterFile:
    """A file of the package to read, with the columns its header must name."""

    spec: FileSpec
    required: list[str]


@dataclass(frozen=True)
class RosterPlan:
    """Which rostering files to read, in the order they are applied, in the binding the
    manifest names; and the files the manifest refuses."""

    version: Version
    files: list[RosterFile]
    rejections: list[Rejection]


def roster_plan(package: Package, *, mode: Mode, phone_region: str) -> RosterPlan:
    if MANIFEST not in package:
        raise PackageError("the package has no manifest.csv", file=MANIFEST)
    manifest = read_manifest(package.read(MANIFEST))
    plan: list[RosterFile] = []
    rejections: list[Rejection] = []
    for name, spec in roster_specs(manifest.version, phone_region).items():
        declared = manifest.modes.get(spec.manifest_key, "absent")
        if declared == "absent":
            if name in package:
                rejections.append(
                    Rejection(name, None, None, f"manifest.csv marks {name} absent: not read")
                )
            continue
        if declared != mode:
            rejections.append(
                Rejection(
                    name,
                    None,
                    None,
                    f"manifest.csv marks {name} as {declared} but this import is {mode}",
                )
            )
            continue
        if name not in package:
            rejections.append(
                Rejection(name, None, None, f"manifest.csv lists {name} but the zip lacks it")
            )
            continue
        required = [c.name for c in spec.columns if c.required]
        if mode == "delta":
            required += ["status", "dateLastModified"]
        plan.append(RosterFile(spec, required))
    return RosterPlan(manifest.version, plan, rejections)


def read_roster_package(
    data: bytes, *, mode: Mode, phone_region: str, max_unzipped_bytes: int
) -> RosterUpload:
    """The whole package in memory (for small packages and rule tests; imports stream)."""
    package = open_package(io.BytesIO(data), max_unzipped_bytes=max_unzipped_bytes)
    try:
        plan = roster_plan(package, mode=mode, phone_region=phone_region)
        upload = RosterUpload(mode=mode, version=plan.version, rejections=plan.rejections)
        for item in plan.files:
            name = item.spec.file
            try:
                table = read_table(
                    name,
                    package.read(name),
                    required_columns=item.required,
                    known_columns=item.spec.column_names,
                )
            except FileRejected as exc:
                upload.rejections.append(exc.rejection)
                continue
            upload.files[name] = check_rows(item.spec, table, mode=mode)
        if plan.version == "1.1" and "users.csv" in upload.files:
            users = upload.files["users.csv"]
            roles = upload.files["roles.csv"] = ParsedFile(file="roles.csv")
            split = [split_user(record) for record in users.records]
            users.records = [user for user, _ in split]
            roles.records = [role for _, made in split for role in made]
        return upload
    finally:
        package.close()
