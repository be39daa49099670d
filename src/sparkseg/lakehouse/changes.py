"""The data files a Delta table gained between two versions, read from its log.

Incremental ingest reads only what upstream appended since the raw version it last
ingested. The commits ``(since, until]`` are the JSON files ``_delta_log/<v>.json``
(Delta protocol: one JSON action per line); their ``add`` actions with ``dataChange``
are the new files. Anything else that changes data already seen makes the range
unusable for an append-only reading, and :attr:`Changes.rewritten` says why:

* a ``remove`` with ``dataChange`` (an overwrite, a DELETE/UPDATE/MERGE, a replace of a
  partition): rows the last ingest read are gone or changed;
* an ``add`` with a deletion vector (rows of an existing file deleted in place);
* a commit file that no longer exists (log cleanup past the last ingested version);
* a table that is now older than the last ingested version (dropped and recreated),
  or one whose table id changed;
* column mapping (physical column names differ from the schema's: a plain Parquet
  read would see nulls).

Compaction (``OPTIMIZE``: remove and add with ``dataChange = false``) changes no data
and is skipped. Only commit files, never data files, are read on the driver: one small
JSON file per raw version since the last run.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from sparkseg.lakehouse.hadoop_fs import HadoopFs


@dataclass(frozen=True)
class AddedFile:
    path: str  # relative to the table root, as on disk (URI escapes of the log decoded)
    partition_values: dict[str, str | None]


@dataclass(frozen=True)
class Changes:
    since: int
    until: int
    files: list[AddedFile] = field(default_factory=list)
    rewritten: str | None = None  # why the range is not append-only, else None


def commit_file(uri: str, version: int) -> str:
    return f"{uri.rstrip('/')}/_delta_log/{version:020d}.json"


def added_files(
    fs: HadoopFs, uri: str, *, since: int, until: int, properties: Mapping[str, str]
) -> Changes:
    """The files added by commits ``since + 1 .. until``, or why they cannot be used."""
    if until < since:
        return Changes(since, until, rewritten=(
            f"the table is at version {until}, older than the last ingested version {since} "
            "(dropped and recreated?)"))
    if (properties.get("delta.columnMapping.mode") or "none") != "none":
        return Changes(since, until, rewritten="the table uses column mapping")
    files: list[AddedFile] = []
    for version in range(since + 1, until + 1):
        path = commit_file(uri, version)
        if not fs.exists(path):
            return Changes(since, until, rewritten=(
                f"commit {version} is no longer in the log (cleaned up past version {since})"))
        for line in fs.read_text(path).splitlines():
            if not line.strip():
                continue
            action = json.loads(line)
            if "remove" in action and action["remove"].get("dataChange", True):
                return Changes(since, until, rewritten=(
                    f"commit {version} removed data files (overwrite, delete or update)"))
            add = action.get("add")
            if add is None or not add.get("dataChange", True):
                continue
            if add.get("deletionVector"):
                return Changes(since, until, rewritten=f"commit {version} wrote a deletion vector")
            files.append(AddedFile(urllib.parse.unquote(add["path"]),
                                   dict(add.get("partitionValues") or {})))
    return Changes(since, until, files)
