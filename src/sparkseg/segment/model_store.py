"""Saved segmentation models: ``<warehouse>/models/<name>/<version>/``.

Layout of one version::

    pipeline/        MLlib PipelineModel: preprocessing stages + the clustering model
    metadata.json    ModelMetadata: algorithm, k, features, preprocessing, k-selection
                     scores, input table versions, seed, centroids in original units,
                     cluster -> segment id mapping and segment names

``metadata.json`` is written last (to a temporary name, then renamed), so a version
folder without it is an interrupted save: it is never loaded, and its number is not
reused. All file access goes through Hadoop's FileSystem on the driver, so the same
code works on local disk, HDFS, s3a and abfss (where rename is a copy; a reader still
sees either no metadata or the complete file, because it only opens ``metadata.json``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ConfigDict
from pyspark.ml import PipelineModel

from sparkseg.errors import CommitConflictError, MissingTableError
from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.hadoop_fs import HadoopFs

METADATA_FILE = "metadata.json"
PIPELINE_DIR = "pipeline"
FORMAT = 1


class _Meta(BaseModel):
    # Unknown keys are ignored so that an older sparkseg can read newer metadata.
    model_config = ConfigDict(extra="ignore", frozen=True)


class CandidateScore(_Meta):
    """One (algorithm, k) of the k selection, measured on the training sample."""

    algorithm: str
    k: int
    cost: float
    silhouette: float | None
    min_share: float
    sizes: list[int]
    fit_seconds: float
    eligible: bool
    chosen: bool = False


class SegmentInfo(_Meta):
    """A cluster of the model and the segment it publishes."""

    cluster: int
    segment_id: int
    size: int
    share: float
    centroid: dict[str, float]  # mean of the imputed raw features (original units)
    lifts: dict[str, float | None]  # lift_z per feature on the training sample
    name_en: str
    name_zh: str
    matched: bool  # id inherited from the previous model
    match_distance: float | None


class ModelMetadata(_Meta):
    format: int = FORMAT
    model_name: str
    version: int
    created_at: dt.datetime
    as_of_date: dt.date
    algorithm: str
    k: int
    seed: int
    max_iter: int
    kmeans_solver: str
    features: list[str]
    preprocessing: list[dict[str, Any]]
    # What nulls of each feature became: learned medians/means and configured fills.
    impute_values: dict[str, float]
    choice_rule: str
    min_segment_share: float
    rule_satisfied: bool
    scores: list[CandidateScore]
    input_versions: dict[str, int]
    training_rows: int
    population: dict[str, dict[str, float]]  # feature -> {"mean", "std"} (original units)
    segments: list[SegmentInfo]
    previous_version: int | None
    match_threshold: float
    # Highest segment id this model lineage ever used: retired ids are never reused.
    max_segment_id: int
    spark_version: str
    # What train compares before fitting again for the same as-of (None in metadata
    # written before they existed): the training input's content and the fit settings.
    input_fingerprint: str | None = None
    settings_fingerprint: str | None = None

    def segment_of_cluster(self) -> dict[int, SegmentInfo]:
        return {s.cluster: s for s in self.segments}

    def centroids_by_segment(self) -> dict[int, dict[str, float]]:
        return {s.segment_id: dict(s.centroid) for s in self.segments}


class ModelStore:
    """Versions of one named model under ``<warehouse>/models/<name>``."""

    def __init__(self, lake: Lakehouse, name: str) -> None:
        self.spark = lake.spark
        self.name = name
        self.root = lake.path("models", name)
        self._lake = lake
        self._files = HadoopFs(lake.spark, self.root)

    def path(self, version: int) -> str:
        return self._lake.path("models", self.name, str(version))

    def _table(self, version: int | None) -> str:
        return f"models/{self.name}" + (f"/{version}" if version is not None else "")

    def versions(self) -> list[int]:
        """Complete saved versions, ascending."""
        return [
            v for v in self._numbered_dirs()
            if self._files.exists(f"{self.path(v)}/{METADATA_FILE}")
        ]

    def _numbered_dirs(self) -> list[int]:
        return sorted(int(d) for d in self._files.child_dirs(self.root) if d.isdigit())

    def next_version(self) -> int:
        """One more than any version folder, complete or interrupted."""
        dirs = self._numbered_dirs()
        return (dirs[-1] + 1) if dirs else 1

    def latest(self) -> int | None:
        versions = self.versions()
        return versions[-1] if versions else None

    def resolve(self, pinned: int | None) -> int:
        """The pinned version if given, else the latest; MissingTableError if none."""
        versions = self.versions()
        if pinned is None:
            if not versions:
                raise MissingTableError(
                    self._table(None), self.root, "no saved model; run `sparkseg train` first"
                )
            return versions[-1]
        if pinned not in versions:
            saved = ", ".join(map(str, versions)) or "none"
            raise MissingTableError(
                self._table(pinned), self.path(pinned),
                f"pinned segment.model_version {pinned} not found; saved versions: {saved}",
            )
        return pinned

    def load_metadata(self, version: int) -> ModelMetadata:
        path = f"{self.path(version)}/{METADATA_FILE}"
        if not self._files.exists(path):
            raise MissingTableError(self._table(version), self.path(version), "no metadata.json")
        return ModelMetadata.model_validate_json(self._files.read_text(path))

    def load_pipeline(self, version: int) -> PipelineModel:
        path = f"{self.path(version)}/{PIPELINE_DIR}"
        if not self._files.exists(path):
            raise MissingTableError(self._table(version), path, "no saved pipeline")
        return PipelineModel.load(path)

    def save(self, model: PipelineModel, meta: ModelMetadata) -> str:
        """Write the pipeline, then publish the metadata. Fails if the version exists."""
        path = self.path(meta.version)
        if self._files.exists(path):
            raise CommitConflictError(
                self._table(meta.version), "the version folder already exists (concurrent train?)"
            )
        # save() (not overwrite()) fails if another trainer created the folder meanwhile.
        model.write().save(f"{path}/{PIPELINE_DIR}")
        try:
            self._files.write_text_atomic(
                f"{path}/{METADATA_FILE}", json.dumps(meta.model_dump(mode="json"), indent=2, ensure_ascii=False)
            )
        except OSError as err:
            raise CommitConflictError(self._table(meta.version), str(err)) from None
        return path

