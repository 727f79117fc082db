"""Consent per channel and contact point, with a policy that never invents a yes.

Every member record that carries a consent flag is a consent *event* for each of its
contact points on that channel: its e-mail address for ``email``; for ``sms`` its mobile
numbers (all its numbers if it has no mobile). The event's date is the record's
``source_updated_at``. For each (golden record, channel, contact point):

1. an opt-in counts only when it comes from a record strongly matched to its cluster:
   alone in it, or with an edge to another member at or above
   ``survivorship.strong_match_probability``, so a doubtful merge cannot hand one
   person's opt-in to another (ignored opt-ins are counted in ``opt_ins_ignored``);
2. the latest event wins; an undated opt-out counts as newer than every dated event and
   an undated opt-in as older than every dated one; at the same time, opt-out wins;
3. no event (or only ignored opt-ins): unknown (NULL), never yes. An opt-in for one
   address never covers another.

``rule`` says which case decided (``undated_opt_out``, ``latest_dated_event``,
``undated_opt_in``, ``opt_in_ignored_weak_match``); ``source``, ``source_record_id`` and
``event_at`` name the deciding event.
"""

from __future__ import annotations

import duckdb

from omnimdm.survive.rules import RECORD_MASK

CONSENT_RULES = {
    0: "undated_opt_out",
    1: "latest_dated_event",
    2: "undated_opt_in",
}
IGNORED_RULE = "opt_in_ignored_weak_match"


def decide_consent(con: duckdb.DuckDBPyConnection, *, strong: float, out: str) -> None:
    """Write ``out`` (golden_id, channel, contact_point, consent, source,
    source_record_id, event_at, rule, events, opt_ins_ignored) from the candidate tables."""
    rule_case = " ".join(f"WHEN {cls} THEN '{name}'" for cls, name in CONSENT_RULES.items())
    con.execute(
        f"""
        CREATE TABLE {out} AS
        WITH events AS (
            SELECT gk, golden_id, 'email' AS channel, email_norm AS contact_point,
                   email_consent AS consent, record_id, members, cmp,
                   source_updated_at AS event_at, recency_bad
            FROM sv_base WHERE email_norm IS NOT NULL AND email_consent IS NOT NULL
            UNION ALL
            SELECT gk, golden_id, 'sms', phone, sms_consent, record_id, members, cmp,
                   source_updated_at, recency_bad
            FROM sv_phone WHERE sms_consent IS NOT NULL AND (phone_mobile OR NOT has_mobile)
        ),
        judged AS (
            SELECT *,
                   consent = 'yes' AND members > 1 AND coalesce(cmp, 0) < $strong AS ignored,
                   -- lower wins: undated opt-out, then dated (newest first; opt-out first
                   -- at the same minute), then undated opt-in; ties on the record id
                   ((CASE WHEN event_at IS NULL AND consent = 'no' THEN 0
                          WHEN event_at IS NOT NULL THEN 1 ELSE 2 END)::UHUGEINT << 100)
                   | ((CASE WHEN event_at IS NULL THEN 0 ELSE recency_bad END)::UHUGEINT << 64)
                   | ((consent = 'yes')::INT::UHUGEINT << 63) | record_id::UHUGEINT AS k
            FROM events
        ),
        decided AS (
            SELECT gk, any_value(golden_id) AS golden_id, channel, contact_point,
                   arg_min_null(consent, k) FILTER (NOT ignored) AS consent,
                   arg_min_null(event_at, k) FILTER (NOT ignored) AS event_at,
                   min(k) FILTER (NOT ignored) AS k_win,
                   min(k) AS k_any,
                   count(*) AS events,
                   count(*) FILTER (ignored) AS opt_ins_ignored
            FROM judged GROUP BY gk, channel, contact_point
        )
        SELECT d.golden_id, d.channel, d.contact_point, d.consent, k.source,
               k.source_record_id, d.event_at,
               CASE (d.k_win >> 100)::INTEGER {rule_case} ELSE '{IGNORED_RULE}' END AS rule,
               d.events, d.opt_ins_ignored
        FROM decided d JOIN sv_base k
            ON k.record_id = (coalesce(d.k_win, d.k_any) & {RECORD_MASK})::BIGINT
    """,
        {"strong": strong},
    )
