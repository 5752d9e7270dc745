"""Input and output files of a batch run: CSV or Parquet, one file or a folder of part files.

Reading is in chunks of a fixed number of rows with pyarrow, so memory stays flat whatever the
file's size. CSV columns are read as text (the row checks parse numbers and flags, so one bad
value sets one row aside instead of failing the read). A folder's part files are read in
sorted name order, each in its row order: that is the run's row order, on every engine.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from candor.models.errors import OptionError

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv",)
_LIST_COLUMNS = (
    "review_reasons",
    "review_notes",
    "withheld",
    "call_planning_withheld",
    "channels",
    "reasons",
)


def file_format(path: Path) -> str:
    """ "csv" or "parquet", by the name; OptionError naming the path otherwise."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise OptionError(
        f"{path}: expected a .csv or .parquet file (or a folder of them), got {suffix or 'none'}"
    )


def input_files(path: Path) -> list[Path]:
    """The file, or a folder's data files (hidden and ``_``-prefixed names skipped), sorted."""
    if not path.exists():
        raise OptionError(f"--input {path}: no such file or folder")
    if path.is_file():
        file_format(path)
        return [path]
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file()
        and not p.name.startswith((".", "_"))
        and p.suffix.lower() in (*PARQUET_SUFFIXES, *CSV_SUFFIXES)
    )
    if not files:
        raise OptionError(f"--input {path}: the folder holds no .csv or .parquet files")
    formats = {file_format(p) for p in files}
    if len(formats) > 1:
        raise OptionError(f"--input {path}: mixes CSV and Parquet files")
    return files


def fingerprint(files: Sequence[Path]) -> str:
    """SHA-256 of the input: of the file's bytes, or of each part's name and hash, in order."""
    digests = []
    for p in files:
        h = hashlib.sha256()
        with p.open("rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
        digests.append((p.name, h.hexdigest()))
    if len(digests) == 1:
        return digests[0][1]
    outer = hashlib.sha256()
    for name, digest in digests:
        outer.update(f"{name}\0{digest}\n".encode())
    return outer.hexdigest()


def count_rows(files: Sequence[Path]) -> int | None:
    """Rows in the input when known without reading it (Parquet metadata); None for CSV."""
    if file_format(files[0]) != "parquet":
        return None
    return sum(pq.ParquetFile(p).metadata.num_rows for p in files)


def column_names(files: Sequence[Path]) -> list[str]:
    """The first file's columns (the other parts must have the same)."""
    first = files[0]
    if file_format(first) == "parquet":
        return list(pq.ParquetFile(first).schema_arrow.names)
    with first.open(newline="", encoding="utf-8") as f:
        return next(csv.reader(f), [])


def _batches(path: Path, rows: int) -> Iterator[pa.RecordBatch]:
    if file_format(path) == "parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=rows)
        return
    header = column_names([path])
    reader = pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(block_size=8 << 20),
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    yield from reader


def read_chunks(files: Sequence[Path], rows: int, *, skip: int = 0) -> Iterator[pa.Table]:
    """Tables of ``rows`` rows (the last may hold fewer), in input order, across the files.

    ``skip`` chunks at the start are read past without being returned whole.
    """
    pending: list[pa.RecordBatch] = []
    held = 0
    index = 0
    names: list[str] | None = None
    for path in files:
        for batch in _batches(path, rows):
            if names is None:
                names = batch.schema.names
            elif batch.schema.names != names:
                raise OptionError(
                    f"{path.name}: its columns differ from the first file's ({', '.join(names)})"
                )
            pending.append(batch)
            held += batch.num_rows
            while held >= rows:
                table = pa.Table.from_batches(pending).combine_chunks()
                chunk, rest = table.slice(0, rows), table.slice(rows)
                if index >= skip:
                    yield chunk
                index += 1
                pending = rest.to_batches() if rest.num_rows else []
                held = rest.num_rows
    if held and index >= skip:
        yield pa.Table.from_batches(pending).combine_chunks()


def csv_ready(table: pa.Table) -> pa.Table:
    """Lists and structs as JSON text: a CSV cell holds one value."""
    for name in _LIST_COLUMNS:
        if name in table.column_names:
            i = table.column_names.index(name)
            texts = [
                None if v is None else orjson.dumps(v).decode()
                for v in table.column(name).to_pylist()
            ]
            table = table.set_column(i, name, pa.array(texts, pa.string()))
    return table


def write_csv(tables: Iterator[pa.Table], path: Path, schema: pa.Schema) -> None:
    """Stream ``tables`` into one CSV file with a header."""
    with path.open("wb") as sink:
        writer: pcsv.CSVWriter | None = None
        for table in tables:
            ready = csv_ready(table)
            if writer is None:
                writer = pcsv.CSVWriter(sink, ready.schema)
            writer.write_table(ready)
        if writer is None:
            writer = pcsv.CSVWriter(sink, csv_ready(schema.empty_table()).schema)
        writer.close()


def write_parquet(tables: Iterator[pa.Table], path: Path, schema: pa.Schema) -> None:
    """Stream ``tables`` into one Parquet file."""
    with pq.ParquetWriter(path, schema) as writer:
        for table in tables:
            writer.write_table(table)
