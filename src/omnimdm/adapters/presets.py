"""Vendor presets: how a real export's columns map onto omnimdm's input fields.

A preset is plain data. ``columns`` maps an input field (see :data:`INPUT_FIELDS`) to the
vendor's column name (CSV/Parquet) or JSON path (JSON sources, ``$.a.b``). Adding a vendor
means adding a :class:`Preset`, not code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: text fields an adapter can fill; the normalize stage turns them into the canonical record
INPUT_FIELDS = (
    "source_record_id",
    "given_name",
    "surname",  # one column holding one or both surnames ("García López")
    "surname1",
    "surname2",
    "full_name",
    "nickname",
    "email",
    "phone",
    "mobile",
    "birth_date",
    "street",
    "street2",
    "city",
    "region",
    "postcode",
    "country",
    "national_id",
    "loyalty_id",
    "company",
    "email_opt_in",
    "email_opt_out",
    "sms_opt_in",
    "total_spent",
    "orders",
    "first_seen",
    "last_seen",
    "created_at",
    "updated_at",
    "locale",
)


@dataclass(frozen=True)
class Preset:
    """How to read one vendor's export.

    ``columns`` maps an input field to the vendor's column name, or to a tuple of
    alternatives (header variants: API names vs report labels, old vs current exports);
    the first alternative present in the file is used. ``required`` lists input fields
    that must be found under one of their names.
    """

    name: str
    format: str  # csv | json | jsonl | parquet
    columns: dict[str, str | tuple[str, ...]]
    required: tuple[str, ...]
    #: input fields whose values may carry a leading apostrophe (Shopify's Excel guard)
    strip_apostrophe: tuple[str, ...] = ()
    #: strptime formats tried in order, per date-like field
    date_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""
    #: input fields built by joining several columns with spaces (generic mappings)
    joins: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def candidates(self, input_field: str) -> tuple[str, ...]:
        value = self.columns.get(input_field, ())
        return (value,) if isinstance(value, str) else value

    def all_columns(self) -> list[str]:
        joined = {c for cols in self.joins.values() for c in cols}
        return sorted({c for f in self.columns for c in self.candidates(f)} | joined)


ISO_TS = (
    "%Y-%m-%dT%H:%M:%S.%gZ",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
DMY_TS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y")

SALESFORCE = Preset(
    name="salesforce_contacts",
    format="csv",
    description="Salesforce Contact export: API-name headers (Data Loader) or report labels",
    columns={
        "source_record_id": ("Id", "Contact ID", "Contact Id"),
        "given_name": ("FirstName", "First Name"),
        "surname": ("LastName", "Last Name"),
        "email": "Email",
        "phone": ("Phone", "Business Phone"),
        "mobile": ("MobilePhone", "Mobile", "Mobile Phone"),
        "birth_date": ("Birthdate",),
        "street": ("MailingStreet", "Mailing Street"),
        "city": ("MailingCity", "Mailing City"),
        "region": ("MailingState", "Mailing State/Province"),
        "postcode": ("MailingPostalCode", "Mailing Zip/Postal Code"),
        "country": ("MailingCountry", "Mailing Country"),
        "national_id": ("DNI__c", "DNI", "National_ID__c"),
        "email_opt_out": ("HasOptedOutOfEmail", "Email Opt Out"),
        "created_at": ("CreatedDate", "Created Date"),
        "updated_at": ("LastModifiedDate", "Last Modified Date"),
    },
    required=("source_record_id", "surname"),
    date_formats={"birth_date": ("%Y-%m-%d", "%d/%m/%Y"), "updated_at": ISO_TS + DMY_TS},
)

HUBSPOT = Preset(
    name="hubspot_contacts",
    format="csv",
    description="HubSpot contacts export (CSV)",
    columns={
        "source_record_id": ("Record ID", "Contact ID", "hs_object_id"),
        "given_name": ("First Name", "firstname"),
        "surname": ("Last Name", "lastname"),
        "email": ("Email", "email"),
        "phone": ("Phone Number", "phone"),
        "mobile": ("Mobile Phone Number", "mobilephone"),
        "birth_date": ("Date of birth", "Date of Birth", "date_of_birth"),
        "street": ("Street Address", "address"),
        "city": ("City", "city"),
        "region": ("State/Region", "state"),
        "postcode": ("Postal Code", "zip"),
        "country": ("Country/Region", "Country", "country"),
        "company": ("Company Name", "company"),
        "email_opt_out": ("Unsubscribed from all email", "hs_email_optout"),
        "created_at": ("Create Date", "createdate"),
        "updated_at": ("Last Modified Date", "lastmodifieddate"),
    },
    required=("source_record_id",),
    date_formats={"birth_date": ("%Y-%m-%d", "%d/%m/%Y"), "updated_at": ISO_TS + DMY_TS},
)

SHOPIFY = Preset(
    name="shopify_customers",
    format="csv",
    description="Shopify customer export: current headers, or the older export without "
    "Customer ID (the email, unique per Shopify store, is the id then)",
    columns={
        "source_record_id": ("Customer ID", "Email"),
        "given_name": "First Name",
        "surname": "Last Name",
        "email": "Email",
        "email_opt_in": ("Accepts Email Marketing", "Accepts Marketing"),
        "company": ("Default Address Company", "Company"),
        "street": ("Default Address Address1", "Address1"),
        "street2": ("Default Address Address2", "Address2"),
        "city": ("Default Address City", "City"),
        "region": ("Default Address Province Code", "Province Code", "Province"),
        "country": ("Default Address Country Code", "Country Code", "Country"),
        "postcode": ("Default Address Zip", "Zip"),
        "phone": ("Default Address Phone",),
        "mobile": "Phone",
        "sms_opt_in": "Accepts SMS Marketing",
        "total_spent": "Total Spent",
        "orders": "Total Orders",
    },
    required=("source_record_id", "email"),
    strip_apostrophe=("source_record_id", "postcode", "phone", "mobile"),
)

SQUARE = Preset(
    name="square_customers",
    format="csv",
    description="Square customer directory export",
    columns={
        "source_record_id": "Square Customer ID",
        "given_name": "First Name",
        "surname": "Last Name",
        "email": "Email Address",
        "phone": "Phone Number",
        "nickname": "Nickname",
        "company": "Company Name",
        "street": "Street Address 1",
        "street2": "Street Address 2",
        "city": "City",
        "region": "State",
        "postcode": "Postal Code",
        "birth_date": "Birthday",
        "loyalty_id": "Reference ID",
        "first_seen": "First Visit",
        "last_seen": "Last Visit",
        "updated_at": "Last Visit",
        "orders": "Transaction Count",
        "total_spent": "Lifetime Spend",
        "email_opt_in": "Email Subscription Status",
    },
    required=("source_record_id", "given_name", "surname"),
    date_formats={"birth_date": ("%Y-%m-%d", "%d/%m/%Y"), "updated_at": ISO_TS},
)

ZENDESK = Preset(
    name="zendesk_users",
    format="json",
    description='Zendesk users: JSON array, JSON Lines, or API pages {"users": [...]}',
    columns={
        "source_record_id": "$.id",
        "full_name": "$.name",
        "email": "$.email",
        "phone": "$.phone",
        "created_at": "$.created_at",
        "updated_at": "$.updated_at",
        "locale": "$.locale",
        "birth_date": "$.user_fields.fecha_nacimiento",
        "postcode": "$.user_fields.codigo_postal",
    },
    required=("source_record_id",),
    date_formats={"birth_date": ("%d/%m/%Y", "%Y-%m-%d"), "updated_at": ISO_TS},
)

PRESETS: dict[str, Preset] = {p.name: p for p in (SALESFORCE, HUBSPOT, SHOPIFY, SQUARE, ZENDESK)}
