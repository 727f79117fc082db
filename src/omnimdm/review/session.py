"""The interactive review loop, without a terminal: keys in, screens out.

:class:`ReviewSession` holds the pairs it has loaded in memory (a page at a time, with
both records' fields, their content hashes and the per-comparison explanation) and opens
the store only for short sessions: to load a page and to write each decision. It never
holds the store while waiting for a key, so a nightly run is never blocked by an idle
steward. Keys: ``y`` same person, ``n`` different, ``s`` skip, ``u`` undo (back to the
previous pair, revoking its decision), ``q`` quit (every decision is already saved).
The CLI supplies the key reader and the renderer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omnimdm.errors import OmnimdmError
from omnimdm.match.explain import PairExplanation, PairScorer, latest_model
from omnimdm.review.records import current_hashes, published
from omnimdm.review.steward import (
    QueueItem,
    count_undecided,
    decide,
    display_fields,
    revoke_pair,
    undecided,
)
from omnimdm.store import Store

log = logging.getLogger(__name__)

KEYS = {"y": "same", "n": "different", "s": "skip", "u": "undo", "q": "quit"}
PAGE_SIZE = 20
#: the next page is loaded in the background once this few pairs are left unseen, so the
#: key that reaches the end of a page does not wait for it (next pair in well under 200 ms)
PREFETCH_WHEN_LEFT = 8


@dataclass
class Shown:
    """A pair as the steward sees it."""

    item: QueueItem
    left: dict[str, Any]
    right: dict[str, Any]
    hashes: tuple[str, str] | None
    explanation: PairExplanation | None
    decision_id: int | None = None  # set once decided in this session


@dataclass
class Screen:
    """What to draw: the pair (None when the queue is done), where we are, a message."""

    shown: Shown | None
    position: int
    total: int
    message: str | None = None
    decided: int = 0
    skipped: int = 0


@dataclass
class ReviewSession:
    store: Store
    reviewer: str
    page_size: int = PAGE_SIZE
    items: list[Shown] = field(default_factory=list)
    index: int = 0
    total: int = 0
    history: list[int] = field(default_factory=list)  # indices shown before the current
    decided: int = 0
    skipped: int = 0
    _scorer: PairScorer | None = None
    _exhausted: bool = False
    _prefetch: threading.Thread | None = None
    _prefetch_error: BaseException | None = None
    #: the store lock fails at once for a second holder, so this session's own store
    #: sessions (a page loading in the background, a decision) take turns here first
    _turn: threading.Lock = field(default_factory=threading.Lock)

    # -- loading ----------------------------------------------------------------------
    def _load_page(self) -> bool:
        """Load the next page of undecided pairs; False when there are none left."""
        if self._exhausted:
            return False
        after = self.items[-1].item.position if self.items else 0
        with self._turn, published(self.store, "review") as con:
            if not self.items:
                self.total = count_undecided(con)
            page = undecided(con, after=after, limit=self.page_size)
            if not page:
                self._exhausted = True
                return False
            keys = {k for i in page for k in (i.a, i.b)}
            shown = display_fields(con, keys)
            hashes = current_hashes(con, keys)
            if self._scorer is None:
                self._scorer = PairScorer(latest_model(con))
            explained = self._scorer.explain(con, [(i.a.record_id, i.b.record_id) for i in page])
        for item, explanation in zip(page, explained, strict=True):
            pair_hashes = (
                (hashes[item.a], hashes[item.b]) if item.a in hashes and item.b in hashes else None
            )
            self.items.append(
                Shown(item, shown.get(item.a, {}), shown.get(item.b, {}), pair_hashes, explanation)
            )
        log.info("review page loaded: %d pairs after position %d", len(page), after)
        return True

    def _screen(self, message: str | None = None) -> Screen:
        current = self.items[self.index] if self.index < len(self.items) else None
        return Screen(
            current,
            min(self.index + 1, max(self.total, 1)),
            self.total,
            message,
            self.decided,
            self.skipped,
        )

    def start(self) -> Screen:
        self._load_page()
        if not self.items:
            return self._screen("nothing to review: the queue is empty or fully decided")
        self._maybe_prefetch()
        return self._screen()

    def _prefetch_page(self) -> None:
        try:
            self._load_page()
        except BaseException as err:  # reported on the key that needs the page
            self._prefetch_error = err

    def _maybe_prefetch(self) -> None:
        if self._exhausted or self._prefetch is not None:
            return
        if len(self.items) - self.index > PREFETCH_WHEN_LEFT:
            return
        self._prefetch = threading.Thread(target=self._prefetch_page, daemon=True)
        self._prefetch.start()

    def _wait_prefetch(self) -> None:
        if self._prefetch is not None:
            self._prefetch.join()
            self._prefetch = None
        if self._prefetch_error is not None:
            err, self._prefetch_error = self._prefetch_error, None
            raise err

    def _advance(self) -> Screen:
        self.history.append(self.index)
        self.index += 1
        if self.index >= len(self.items):
            self._wait_prefetch()
            if self.index >= len(self.items) and not self._load_page():
                return self._screen("end of the queue: u to undo, q to quit")
        self._maybe_prefetch()
        return self._screen()

    # -- keys -------------------------------------------------------------------------
    def press(self, key: str) -> Screen:
        action = KEYS.get(key.lower())
        if action is None:
            return self._screen(f"unknown key {key!r}: y same, n different, s skip, u undo, q quit")
        if action == "undo":
            return self._undo()
        current = self.items[self.index] if self.index < len(self.items) else None
        if action == "quit" or current is None:
            return self._screen()
        if action == "skip":
            self.skipped += 1
            return self._advance()
        return self._decide(current, action)

    def _decide(self, current: Shown, kind: str) -> Screen:
        item = current.item
        try:
            with self._turn:
                outcome = decide(
                    self.store,
                    item.a,
                    item.b,
                    kind,  # type: ignore[arg-type]
                    reviewer=self.reviewer,
                    origin="review",
                    hashes=current.hashes,
                    replace=[item.decision_id]
                    if item.kind == "recheck" and item.decision_id
                    else (),
                )
        except OmnimdmError as err:  # locked by a run, contradiction: stay on the pair
            return self._screen(f"not saved: {err}")
        ids = outcome.written or outcome.unchanged
        current.decision_id = ids[0] if ids else None
        self.decided += 1
        return self._advance()

    def _undo(self) -> Screen:
        if not self.history:
            return self._screen("nothing to undo")
        previous = self.items[self.history[-1]]
        if previous.decision_id is not None:
            try:
                with self._turn:
                    revoke_pair(
                        self.store,
                        previous.item.a,
                        previous.item.b,
                        reviewer=self.reviewer,
                        note="undone in review",
                        decision_id=previous.decision_id,
                    )
            except OmnimdmError as err:
                return self._screen(f"undo not saved: {err}")
            previous.decision_id = None
            self.decided -= 1
        else:
            self.skipped -= 1
        self.index = self.history.pop()
        return self._screen("undone")

    def close(self) -> None:
        if self._prefetch is not None:
            self._prefetch.join()
            self._prefetch = None
        if self._scorer is not None:
            self._scorer.close()


def run_session(
    session: ReviewSession, read_key: Callable[[], str], show: Callable[[Screen], None]
) -> Screen:
    """Drive a session: show, read a key, repeat until ``q``. Returns the last screen."""
    screen = session.start()
    show(screen)
    try:
        while True:
            key = read_key()
            if KEYS.get(key.lower()) == "quit":
                return screen
            screen = session.press(key)
            show(screen)
    finally:
        session.close()
