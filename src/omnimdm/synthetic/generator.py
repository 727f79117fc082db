"""``generate()``: one seeded population written as four vendor exports plus ground truth."""

from __future__ import annotations

import logging
import numbers
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omnimdm.errors import ConfigError
from omnimdm.synthetic import vendors
from omnimdm.synthetic.lexicon import load_lexicon
from omnimdm.synthetic.noise import RecordContext, make_context
from omnimdm.synthetic.population import build_population
from omnimdm.synthetic.profile import SOURCES, load_noise_profile
from omnimdm.synthetic.sampling import SourceRows, coverage, source_rows
from omnimdm.synthetic.vendors import VendorTable
from omnimdm.synthetic.writers import write_csv, write_truth, write_zendesk_json

logger = logging.getLogger(__name__)

SOURCE_FILES: dict[str, str] = {
    "crm": "crm_salesforce_contacts.csv",
    "ecommerce": "ecommerce_shopify_customers.csv",
    "pos": "pos_square_customers.csv",
    "callcenter": "callcenter_zendesk_users.json",
}
TRUTH_FILE = "truth.csv"
#: bumped whenever the same persons, seed and profile give other files (caches key on it);
#: 2: personal e-mails unique per mailbox (Gmail dots and +tags folded), not per string
GENERATOR_VERSION = 2


@dataclass(frozen=True)
class SynthResult:
    """What :func:`generate` wrote."""

    persons: int
    records: int  # total rows in the four exports
    per_source: dict[str, int]
    files: dict[str, Path]  # crm, ecommerce, pos, callcenter, truth
    seconds: float


def _check_args(persons: object, seed: object) -> tuple[int, int]:
    if isinstance(persons, bool) or not isinstance(persons, numbers.Integral) or persons < 1:
        raise ConfigError(f"persons must be an integer >= 1, got {persons!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
    return int(persons), int(seed)


def _first_id_per_person(n: int, pid: np.ndarray, ids: np.ndarray) -> np.ndarray:
    out = np.full(n, None, dtype=object)
    persons, first = np.unique(pid, return_index=True)
    out[persons] = ids[first]
    return out


def _output_dir(out_dir: str | Path) -> Path:
    path = Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create output directory {str(path)!r}: {exc}") from exc
    return path


def _export(
    source: str,
    ctx: RecordContext,
    rows: SourceRows,
    crm_ids: np.ndarray,
    path: Path,
) -> VendorTable:
    """Build one source's vendor table and write its file."""
    if source == "crm":
        table = vendors.salesforce(ctx, rows)
    elif source == "ecommerce":
        table = vendors.shopify(ctx, rows)
    elif source == "pos":
        table = vendors.square(ctx, rows)
    else:
        table = vendors.zendesk(ctx, rows, crm_ids)
    if source == "callcenter":
        write_zendesk_json(path, table.columns)
    else:
        write_csv(path, table.columns)
    logger.debug("synthetic %s: %d records -> %s", source, len(table), path)
    return table


def generate(
    persons: int,
    out_dir: str | Path,
    seed: int = 42,
    profile: str | Path | None = None,
) -> SynthResult:
    """Generate ``persons`` synthetic customers and write the four exports and ``truth.csv``.

    ``profile`` is ``None`` (packaged ``default``), a packaged profile name (``"default"``,
    ``"high_noise"``) or a path to a YAML noise profile. The same ``persons``, ``seed`` and
    profile always produce byte-identical files. Raises ``ConfigError`` for invalid arguments.
    """
    n, seed = _check_args(persons, seed)
    noise = load_noise_profile(profile)
    out = _output_dir(out_dir)
    started = time.perf_counter()
    streams = [
        np.random.Generator(np.random.PCG64(s))
        for s in np.random.SeedSequence(seed).spawn(2 + len(SOURCES))
    ]
    lex = load_lexicon()
    pop = build_population(streams[0], n, noise.population, lex)
    members = coverage(streams[1], n, noise)
    files = {source: out / SOURCE_FILES[source] for source in SOURCES}
    crm_ids = np.full(n, None, dtype=object)
    ids: list[np.ndarray] = []
    pids: list[np.ndarray] = []
    for rng, source in zip(streams[2:], SOURCES, strict=True):
        settings = noise.source(source)
        rows = source_rows(rng, source, members[source], settings.duplicates)
        ctx = make_context(source, lex, pop, rows.pid, rng, settings)
        record_ids = _export(source, ctx, rows, crm_ids, files[source]).record_ids
        ids.append(record_ids)  # the columns themselves are released once written
        pids.append(rows.pid)
        if source == "crm":
            crm_ids = _first_id_per_person(n, rows.pid, record_ids)
    files["truth"] = out / TRUTH_FILE
    write_truth(files["truth"], SOURCES, ids, pids, [pop.household[p] for p in pids])
    per_source = {source: len(r) for source, r in zip(SOURCES, ids, strict=True)}
    result = SynthResult(
        n, sum(per_source.values()), per_source, files, time.perf_counter() - started
    )
    logger.info(
        "synthetic data: %d persons, %d records in %.1fs (profile %s, seed %d) -> %s",
        n,
        result.records,
        result.seconds,
        noise.name,
        seed,
        out,
    )
    return result
