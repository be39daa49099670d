"""Driver-side file operations through Hadoop's FileSystem (local, HDFS, s3a, abfss).

The offline engine (staged data files, vacuum), the model store (``metadata.json``) and
the report (one HTML page, model metadata) need a few file operations on paths under the
warehouse. Going through the FileSystem of the running Spark session serves a local
folder and a cluster's object store alike, with the credentials Spark already has.

Only names, sizes and small text files reach the driver: never data rows.

The checksummed local filesystem (``LocalFileSystem`` and subclasses such as Hive's
``ProxyLocalFileSystem``) is unwrapped to its raw filesystem, so nothing here leaves a
``.crc`` side file: not next to a report or ``metadata.json``, and not in a Delta
table's folder when the offline engine moves data files into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession


@dataclass(frozen=True)
class FileInfo:
    path: str  # relative to the listed folder (list_files) or full (children)
    size: int
    mtime_ms: int


class HadoopFs:
    """The Hadoop FileSystem of ``any_path``'s scheme, without checksum side files."""

    def __init__(self, spark: SparkSession, any_path: str) -> None:
        jvm = spark.sparkContext._jvm
        if jvm is None:  # pragma: no cover - only without a JVM-backed session
            raise RuntimeError("Hadoop file access needs a JVM-backed Spark session")
        self._jvm = jvm
        conf = spark.sparkContext._jsc.hadoopConfiguration()
        fs = jvm.org.apache.hadoop.fs.Path(any_path).getFileSystem(conf)
        checksummed = jvm.java.lang.Class.forName("org.apache.hadoop.fs.ChecksumFileSystem")
        if checksummed.isInstance(fs):
            fs = fs.getRawFileSystem()
        self._fs = fs

    def _path(self, p: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(p)

    # --- queries ---------------------------------------------------------------------------

    def exists(self, path: str) -> bool:
        return bool(self._fs.exists(self._path(path)))

    def children(self, folder: str) -> list[FileInfo]:
        """Direct children of ``folder`` (full paths), or nothing if it does not exist."""
        path = self._path(folder)
        if not self._fs.exists(path):
            return []
        return [
            FileInfo(st.getPath().toString(), int(st.getLen()), int(st.getModificationTime()))
            for st in self._fs.listStatus(path)
        ]

    def child_dirs(self, folder: str) -> list[str]:
        """Names of the sub-folders of ``folder`` (empty if it does not exist)."""
        path = self._path(folder)
        if not self._fs.exists(path):
            return []
        return [st.getPath().getName() for st in self._fs.listStatus(path) if st.isDirectory()]

    def list_files(self, root: str, suffix: str = "") -> list[FileInfo]:
        """Files below ``root`` (recursively) whose name ends with ``suffix``.

        Hidden files (names starting with ``.`` or ``_``, such as ``_SUCCESS``) are left
        out. Paths are relative to ``root`` and physical: Spark's ``%XX`` escapes stay.
        """
        root_q = self._fs.makeQualified(self._path(root)).toString().rstrip("/")
        it = self._fs.listFiles(self._path(root), True)
        out = []
        while it.hasNext():
            st = it.next()
            full = st.getPath().toString()
            name = full.rsplit("/", 1)[-1]
            if not name.endswith(suffix) or name.startswith((".", "_")):
                continue
            out.append(
                FileInfo(full[len(root_q) + 1 :], int(st.getLen()), int(st.getModificationTime()))
            )
        return out

    def newest_mtime_ms(self, folder: str) -> int:
        """The newest modification time of ``folder`` itself and every file below it.

        A folder's own time moves when an entry is added, so a folder a writer has just
        created (no files yet, or only Spark's ``_temporary``) counts as new.
        """
        path = self._path(folder)
        if not self._fs.exists(path):
            return 0
        newest = int(self._fs.getFileStatus(path).getModificationTime())
        it = self._fs.listFiles(path, True)
        while it.hasNext():
            newest = max(newest, int(it.next().getModificationTime()))
        return newest

    def read_text(self, path: str) -> str:
        stream = self._fs.open(self._path(path))
        try:
            data = self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
        finally:
            stream.close()
        return bytes(data).decode("utf-8")

    def parquet_rows(self, path: str) -> int:
        """Rows of one Parquet file, from its footer (row-group metadata; no data read)."""
        conf = self._fs.getConf()
        parquet = self._jvm.org.apache.parquet.hadoop
        reader = parquet.ParquetFileReader.open(
            parquet.util.HadoopInputFile.fromPath(self._path(path), conf)
        )
        try:
            return int(reader.getRecordCount())
        finally:
            reader.close()

    # --- changes ---------------------------------------------------------------------------

    def write_text(self, path: str, text: str) -> None:
        """Write (replace) ``path`` in place; its folder is created if needed."""
        target = self._path(path)
        self._fs.mkdirs(target.getParent())
        self._write(target, text)

    def write_text_atomic(self, path: str, text: str) -> None:
        """Publish ``path`` once: write ``<path>.tmp``, then rename it to ``path``.

        A reader sees either no file or the complete one. ``OSError`` if ``path``
        already exists or the rename fails (the temporary file is removed).
        """
        tmp = self._path(path + ".tmp")
        self._write(tmp, text)
        if self.exists(path) or not self._fs.rename(tmp, self._path(path)):
            self._fs.delete(tmp, False)
            raise OSError(f"could not publish {path}")

    def _write(self, target: Any, text: str) -> None:
        out = self._fs.create(target, True)
        try:
            out.write(bytearray(text.encode("utf-8")))
        finally:
            out.close()

    def rename(self, src: str, dst: str) -> None:
        """Move ``src`` to ``dst``, creating ``dst``'s folder; ``OSError`` if it fails."""
        dst_p = self._path(dst)
        self._fs.mkdirs(dst_p.getParent())
        if not self._fs.rename(self._path(src), dst_p):
            raise OSError(f"could not move {src} to {dst}")

    def delete(self, path: str) -> None:
        """Remove ``path`` (a folder with everything below it)."""
        self._fs.delete(self._path(path), True)
