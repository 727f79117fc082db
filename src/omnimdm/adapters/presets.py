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
    """How to read one vendor's export."""

    name: str
    format: str  # csv | json | jsonl | parquet
    columns: dict[str, str]
    required: tuple[str, ...]
    delimiter: str = ","
    #: input fields whose values may carry a leading apostrophe (Shopify's Excel guard)
    strip_apostrophe: tuple[str, ...] = ()
    #: strptime formats tried in order, per date-like field
    date_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""


ISO_TS = ("%Y-%m-%dT%H:%M:%S.%gZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d")

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="salesforce_contacts",
            format="csv",
            description="Salesforce Contact export (API-name headers)",
            columns={
                "source_record_id": "Id",
                "given_name": "FirstName",
                "surname": "LastName",
                "email": "Email",
                "phone": "Phone",
                "mobile": "MobilePhone",
                "birth_date": "Birthdate",
                "street": "MailingStreet",
                "city": "MailingCity",
                "region": "MailingState",
                "postcode": "MailingPostalCode",
                "country": "MailingCountry",
                "national_id": "DNI__c",
                "email_opt_out": "HasOptedOutOfEmail",
                "created_at": "CreatedDate",
                "updated_at": "LastModifiedDate",
            },
            required=("Id", "LastName"),
            date_formats={"birth_date": ("%Y-%m-%d",), "updated_at": ISO_TS},
        ),
        Preset(
            name="shopify_customers",
            format="csv",
            description="Shopify customer export (current headers)",
            columns={
                "source_record_id": "Customer ID",
                "given_name": "First Name",
                "surname": "Last Name",
                "email": "Email",
                "email_opt_in": "Accepts Email Marketing",
                "company": "Default Address Company",
                "street": "Default Address Address1",
                "street2": "Default Address Address2",
                "city": "Default Address City",
                "region": "Default Address Province Code",
                "country": "Default Address Country Code",
                "postcode": "Default Address Zip",
                "phone": "Default Address Phone",
                "mobile": "Phone",
                "sms_opt_in": "Accepts SMS Marketing",
                "total_spent": "Total Spent",
                "orders": "Total Orders",
            },
            required=("Customer ID", "Email"),
            strip_apostrophe=("source_record_id", "postcode", "phone", "mobile"),
        ),
        Preset(
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
            required=("Square Customer ID", "First Name", "Last Name"),
            date_formats={"birth_date": ("%Y-%m-%d",), "updated_at": ISO_TS},
        ),
        Preset(
            name="zendesk_users",
            format="json",
            description="Zendesk users (JSON array of user objects)",
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
            required=("$.id", "$.name"),
            date_formats={"birth_date": ("%d/%m/%Y", "%Y-%m-%d"), "updated_at": ISO_TS},
        ),
    )
}
