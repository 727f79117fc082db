"""Survivorship rules as data: which fields survive, and how a rule chain ranks candidates.

A golden field takes the value of the member record (for ``phone``: the member number)
that ranks first under the field's rule chain. Every rule is a *badness* (a small
non-negative integer, lower is better); a chain packs its badnesses, most important first,
into one ``UHUGEINT``, so a plain ``min()`` finds the winner. The lowest 64 bits hold a
hash of the candidate's value as compared (names accent- and case-blind), so the winning
key also names the winning value, and a full tie between different values ends on that
fixed hash; among members with the winning value, the smallest record id is the one
lineage names. Phones end on the number's position in the record and the record id.
Nothing depends on row order.

=================  ==================================================================
rule               prefers
=================  ==================================================================
source_priority    the source with the highest ``trust``
most_recent        the latest ``source_updated_at`` (to the minute; undated rank last)
most_frequent      the value most members carry (names compared accent- and case-blind)
most_complete      the candidate with the most parts filled (address: street, number,
                   postcode, city, region, country; a one-part field always ties)
longest            the longest text (up to 255 characters)
valid_first        a valid value (see ``valid`` below: a mobile over a landline, ...)
collect            (email, phone) keep every distinct value; the rest picks the primary
=================  ==================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: the final tie-break of record fields: a 64-bit hash of the value as compared (``h_*``);
#: of phones: the number's position in the record's list (8 bits), then the record id
VALUE_BITS = 64
VALUE_MASK = (1 << VALUE_BITS) - 1
RECORD_BITS = 63
POSITION_BITS = 8
RECORD_MASK = (1 << RECORD_BITS) - 1
#: bits each rule's badness takes in the packed key (with the range of its badness)
RULE_BITS = {
    "valid_first": 3,  # 7 - validity score (0..7)
    "most_complete": 3,  # 7 - parts filled
    "most_frequent": 8,  # 255 - members carrying the value
    "longest": 8,  # 255 - characters
    "source_priority": 7,  # 100 - trust * 100
    "most_recent": 30,  # minutes since 1900-01-01, reversed (to about 3940); undated = max
}
RANKING_RULES = tuple(RULE_BITS)
RULES = (*RANKING_RULES, "collect")
#: fields with several values per person: ``collect`` keeps them all
MULTI_VALUED = ("email", "phone")
#: what the lineage ``rule`` column says when no rule of the chain told the candidates apart
ONLY_CANDIDATE = "only_candidate"  # one member has a value
AGREED = "agreed"  # several members have one and the same value
TIE = "tie"  # the whole chain tied between different values: the fixed tie-break decided


@dataclass(frozen=True)
class FieldSpec:
    """One survivorship field over the candidate rows ``sv_base`` (or ``sv_phone``).

    ``columns`` are the golden columns the winner fills (several for a unit: the address
    survives whole from one record); ``present`` says a row is a candidate; ``compare`` is
    the value's identity (one or more SQL expressions) for ``most_frequent`` and for telling
    values apart; ``parts`` are counted by ``most_complete``;
    ``valid`` is the ``valid_first`` score (higher is better, 0..7); ``display`` ranks
    display forms of the same name (accents, mixed case) for name fields.
    """

    name: str
    columns: dict[str, str]
    present: str
    compare: str
    valid: str
    parts: tuple[str, ...] = ()
    display: str | None = None
    candidates: str = "record"  # record | phone
    #: the lineage row's value, over the golden columns (default: the first column)
    lineage_value: str | None = None

    @property
    def lineage_sql(self) -> str:
        return self.lineage_value or f"{next(iter(self.columns))}::VARCHAR"

    @property
    def present_value(self) -> str:
        """An expression that is NULL exactly when the row is no candidate (for count)."""
        if len(self.columns) == 1:
            return next(iter(self.columns.values()))
        return f"CASE WHEN {self.present} THEN 1 END"

    @property
    def text(self) -> str:
        """The main value as text (for ``longest``)."""
        return next(iter(self.columns.values()))


def _name(col: str) -> FieldSpec:
    return FieldSpec(
        name=col,
        columns={col: col},
        present=f"{col} IS NOT NULL",
        compare=f"coalesce({col}_norm, lower(strip_accents({col})))",
        # an initial ('M.') is a weaker name than a written one
        valid=f"CASE WHEN length(replace({col}, '.', '')) > 1 THEN 1 ELSE 0 END",
        parts=(col,),
        # accented (García over Garcia), then mixed case (García over GARCÍA)
        display=f"({col} <> strip_accents({col}))::INT * 2 "
        f"+ ({col} <> upper({col}) AND {col} <> lower({col}))::INT",
    )


ADDRESS_PARTS = ("street", "street_number", "postcode", "city", "region", "country")

FIELD_SPECS: dict[str, FieldSpec] = {
    "given_name": _name("given_name"),
    "surname1": _name("surname1"),
    "surname2": _name("surname2"),
    "email": FieldSpec(
        name="email",
        columns={"email": "email_norm"},
        present="email_norm IS NOT NULL",
        compare="email_norm",
        # 3 own address, 2 own address after a domain-typo fix, 1 shared by many people
        valid="CASE WHEN email_match IS NULL THEN 1 WHEN email_corrected THEN 2 ELSE 3 END",
        parts=("email_norm",),
    ),
    "phone": FieldSpec(
        name="phone",
        columns={"phone": "phone"},
        present="phone IS NOT NULL",
        compare="phone",
        # 3 personal mobile, 2 landline, 1 shared by many people (the shop's own number)
        valid="CASE WHEN phone_shared THEN 1 WHEN phone_mobile THEN 3 ELSE 2 END",
        parts=("phone",),
        candidates="phone",
    ),
    "birth_date": FieldSpec(
        name="birth_date",
        columns={"birth_date": "birth_date"},
        present="birth_date IS NOT NULL",
        compare="birth_date",
        valid="CASE WHEN birth_date_reason IS NULL THEN 1 ELSE 0 END",
        parts=("birth_date",),
    ),
    "address": FieldSpec(
        name="address",
        columns={c: c for c in ADDRESS_PARTS},
        present="coalesce(" + ", ".join(ADDRESS_PARTS) + ") IS NOT NULL",
        # the parsed street (type, name accent- and case-blind, number) and place
        compare="street_type, coalesce(lower(strip_accents(street_name)), lower(street)), "
        "street_number, postcode, city_norm",
        # 2 street and postcode (deliverable), 1 postcode or city, 0 otherwise
        valid="CASE WHEN street IS NOT NULL AND postcode IS NOT NULL THEN 2 "
        "WHEN postcode IS NOT NULL OR city IS NOT NULL THEN 1 ELSE 0 END",
        parts=ADDRESS_PARTS,
        # one lineage row for the unit: "street, postcode city, region, country"
        lineage_value="nullif(concat_ws(', ', street, nullif(concat_ws(' ', postcode, city), ''), "
        "region, country), '')",
    ),
    "national_id": FieldSpec(
        name="national_id",
        columns={"national_id": "national_id", "national_id_kind": "national_id_kind"},
        present="national_id IS NOT NULL",
        compare="national_id",
        valid="CASE WHEN national_id_valid THEN 1 ELSE 0 END",
        parts=("national_id", "national_id_kind"),
    ),
    "loyalty_id": FieldSpec(
        name="loyalty_id",
        columns={"loyalty_id": "loyalty_id"},
        present="loyalty_id IS NOT NULL",
        compare="loyalty_id",
        valid="1",
        parts=("loyalty_id",),
    ),
    "company": FieldSpec(
        name="company",
        columns={"company": "company"},
        present="company IS NOT NULL",
        compare="lower(strip_accents(company))",
        valid="1",
        parts=("company",),
    ),
}


def chain_for(field: str, fields: Mapping[str, Sequence[str]], default_rule: str) -> list[str]:
    """The ranking rules of ``field`` (``collect`` removed): its own chain or the default."""
    chain = fields.get(field, [default_rule])
    return [r for r in chain if r != "collect"]


def collects(field: str, fields: Mapping[str, Sequence[str]]) -> bool:
    return "collect" in fields.get(field, [])


def rule_bits(rule: str, spec: FieldSpec) -> int:
    """Bits of ``rule`` in ``spec``'s key (0 when it can never tell candidates apart)."""
    if rule == "most_complete" and len(spec.parts) < 2:
        return 0
    return RULE_BITS[rule]


def tiebreak_bits(spec: FieldSpec) -> int:
    return RECORD_BITS + POSITION_BITS if spec.candidates == "phone" else VALUE_BITS


def badness_sql(rule: str, spec: FieldSpec) -> str:
    """SQL for one rule's badness of a candidate row (0 = best; within RULE_BITS)."""
    if rule == "source_priority":
        return "(100 - round(trust * 100))"
    if rule == "most_recent":
        return "recency_bad"
    if rule == "most_frequent":
        return f"(255 - least(coalesce(freq_{spec.name}, 1), 255))"
    if rule == "most_complete":
        filled = " + ".join(f"({p} IS NOT NULL)::INT" for p in spec.parts)
        return f"(7 - ({filled}))"
    if rule == "longest":
        return f"(255 - least(length({spec.text}::VARCHAR), 255))"
    if rule == "valid_first":
        return f"(7 - ({spec.valid}))"
    raise ValueError(f"unknown rule {rule!r}")


def packed_key_sql(chain: list[str], spec: FieldSpec) -> str:
    """One UHUGEINT per candidate: the chain's badnesses, most important first, then the
    tie-break in the lowest bits (the value hash ``h_<field>``; for phones the position and
    the record id). ``min()`` is the winner."""
    tiebreak = f"h_{spec.name}::UHUGEINT"
    if spec.candidates == "phone":
        tiebreak = f"(least(pos, 255)::UHUGEINT << {RECORD_BITS}) | record_id::UHUGEINT"
    expr = f"({tiebreak})"
    shift = tiebreak_bits(spec)
    for rule in reversed(chain):
        bits = rule_bits(rule, spec)
        if bits:
            expr = f"(({badness_sql(rule, spec)})::UHUGEINT << {shift}) | {expr}"
            shift += bits
    return expr


def key_bits(chain: list[str], spec: FieldSpec) -> int:
    return tiebreak_bits(spec) + sum(rule_bits(r, spec) for r in chain)


def deciding_rule_sql(
    chain: list[str], spec: FieldSpec, *, winner: str, runner_up: str, candidates: str
) -> str:
    """SQL naming what decided a field: ``only_candidate`` (one member has a value),
    ``agreed`` (every candidate has the winner's value), else the first rule of the chain
    on which the winner and the best candidate with a *different* value differ (``tie``
    when the whole chain tied)."""
    whens = [
        f"WHEN coalesce({candidates}, 1) < 2 THEN '{ONLY_CANDIDATE}'",
        f"WHEN {runner_up} IS NULL THEN '{AGREED}'",
    ]
    shift = key_bits(chain, spec)
    for rule in chain:
        bits = rule_bits(rule, spec)
        if not bits:
            continue
        shift -= bits
        whens.append(f"WHEN ({winner} >> {shift}) <> ({runner_up} >> {shift}) THEN '{rule}'")
    return "CASE " + " ".join(whens) + f" ELSE '{TIE}' END"
