"""Small driver-side file reads and writes under the warehouse (local, HDFS, s3a, abfss).

The report reads one JSON file (model metadata) and writes one HTML file. Going through
Hadoop's FileSystem of the running Spark session means the same code serves a local
folder and a cluster's object store, with the credentials Spark already has.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession


class WarehouseFiles:
    """Read, write and list plain files with Hadoop's FileSystem for ``any_path``'s scheme."""

    def __init__(self, spark: SparkSession, any_path: str) -> None:
        jvm = spark.sparkContext._jvm
        if jvm is None:  # pragma: no cover - only without a JVM-backed session
            raise RuntimeError("the report needs a JVM-backed Spark session")
        self._jvm = jvm
        conf = spark.sparkContext._jsc.hadoopConfiguration()
        fs = jvm.org.apache.hadoop.fs.Path(any_path).getFileSystem(conf)
        # The checksummed local filesystem (LocalFileSystem and subclasses such as Hive's
        # ProxyLocalFileSystem) would leave a .crc file next to the report.
        checksummed = jvm.java.lang.Class.forName("org.apache.hadoop.fs.ChecksumFileSystem")
        if checksummed.isInstance(fs):
            fs = fs.getRawFileSystem()
        self._fs = fs

    def _path(self, p: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(p)

    def exists(self, path: str) -> bool:
        return bool(self._fs.exists(self._path(path)))

    def read_text(self, path: str) -> str:
        stream = self._fs.open(self._path(path))
        try:
            data = self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
        finally:
            stream.close()
        return bytes(data).decode("utf-8")

    def write_text(self, path: str, text: str) -> None:
        """Write (replace) ``path``; its folder is created if needed."""
        target = self._path(path)
        self._fs.mkdirs(target.getParent())
        out = self._fs.create(target, True)
        try:
            out.write(bytearray(text.encode("utf-8")))
        finally:
            out.close()

    def child_dirs(self, folder: str) -> list[str]:
        """Names of the sub-folders of ``folder`` (empty if it does not exist)."""
        path = self._path(folder)
        if not self._fs.exists(path):
            return []
        return [st.getPath().getName() for st in self._fs.listStatus(path) if st.isDirectory()]
