"""Files of named Spark SQL expressions (tag rules, audiences): what loading them shares.

Such a file is a YAML mapping with one list (``rules``, ``audiences``); each entry has a
``name`` and one or more expressions over known columns. Every problem raises
:class:`ConfigError` naming the file and the entry: ``<file>: tag rule 'x': <problem>``,
``<file>: audience 'y': <problem>`` (``'#3'`` for the third entry when it has no name).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from sparkseg._model import Section
from sparkseg.config import parse_yaml
from sparkseg.errors import ConfigError
from sparkseg.tags.expressions import empty_frame, expression_types

M = TypeVar("M", bound=BaseModel)


class Description(Section):
    """An entry's bilingual description: ``{en: ..., zh: ...}`` (``zh`` optional)."""

    en: str = Field(min_length=1)
    zh: str = ""


@dataclass(frozen=True)
class EntryKind:
    """One kind of entry and how messages name it."""

    label: str  # in every entry error: "<file>: <label> '<name>': <problem>"
    item: str  # "each <item> must be a mapping"; "<item>" when a problem has no key
    list_key: str  # the file's only top-level key
    file_label: str  # "<file_label> not found: <path>"

    def error(self, source: str, name: str, problem: str) -> ConfigError:
        return ConfigError(f"{source}: {self.label} '{name}': {problem}")

    def read_file(self, path: Path) -> tuple[list[Any], bytes]:
        """The raw entries of the file at ``path`` (structure unchecked) and its content."""
        source = str(path)
        if not path.is_file():
            raise ConfigError(f"{self.file_label} not found: {path}")
        content = path.read_bytes()
        data = parse_yaml(content, source)
        key = self.list_key
        if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
            article = "an" if key[:1] in "aeiou" else "a"
            raise ConfigError(f"{source}: expected a mapping with {article} '{key}' list")
        unknown = sorted(set(data) - {key})
        if unknown:
            raise ConfigError(f"{source}: unknown key '{unknown[0]}' (only '{key}')")
        return list(data[key]), content

    def parse_entry(self, entry: Any, model: type[M], source: str, index: int) -> M:
        """Entry number ``index`` (from 0) validated by ``model`` (unknown keys rejected)."""
        fallback = f"#{index + 1}"
        if not isinstance(entry, Mapping):
            raise self.error(source, fallback, f"each {self.item} must be a mapping")
        name = entry.get("name") if isinstance(entry.get("name"), str) else fallback
        try:
            return model.model_validate(dict(entry))
        except ValidationError as err:
            raise self.error(source, str(name), self._problem(err)) from None

    def _problem(self, err: ValidationError) -> str:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or f"<{self.item}>"
        if first["type"] == "extra_forbidden":
            return f"unknown key '{key}'"
        if first["type"] == "missing":
            return f"missing key '{key}'"
        return f"key '{key}': {first['msg']}"

    def expression_types(
        self,
        spark: SparkSession,
        schema: T.StructType,
        source: str,
        expressions: Sequence[tuple[str, str, str]],
    ) -> Iterator[T.DataType]:
        """The result type of each ``(entry name, key, expression)`` over ``schema``, in order.

        Analysed against an empty frame: no data is read. At the first expression that
        is refused (syntax, unknown column or function, a construct off the allow-list of
        :mod:`sparkseg.tags.sandbox`) the
        iteration raises ``<file>: <label> '<name>': <problem> in <key>: <expression>``;
        the caller checks each type as it comes, so the first faulty entry is the one named.
        """
        frame = empty_frame(spark, schema)
        results = expression_types(
            frame, [expr for _, _, expr in expressions], where=self.list_key
        )
        for (name, key, expr), (dtype, problem) in zip(expressions, results, strict=True):
            if dtype is None:
                raise self.error(source, name, f"{problem} in {key}: {expr}")
            yield dtype
