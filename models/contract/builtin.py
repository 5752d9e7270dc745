"""The built-in contracts: the generated samples in ``data_samples/`` (leads and weekly sales)."""

from __future__ import annotations

from candor.models.contract.fields import Channel, ConsentScope, Field, Kind, Purpose, Role
from candor.models.contract.leads import Contract
from candor.models.contract.sales import HolidayCalendar, SalesContract, SalesField, SalesRole

_N, _C, _B = Kind.NUMERIC, Kind.CATEGORICAL, Kind.BOOLEAN

HCP_LEADS = Contract(
    name="hcp-leads",
    version="1",
    description="Healthcare-professional leads from a pharma CRM (the generated sample).",
    fields=(
        Field("lead_id", Role.ID, description="CRM lead identifier"),
        Field("full_name", Role.PII, description="the professional's name"),
        Field("email", Role.PII, description="work e-mail address"),
        Field("phone", Role.PII, description="work telephone number"),
        Field("specialty", Role.FEATURE, _C, "clinical specialty", "Specialty", audit_segment=True),
        Field("region", Role.FEATURE, _C, "sales region", "Region", audit_segment=True),
        Field(
            "territory_type",
            Role.FEATURE,
            _C,
            "urban, suburban or rural territory",
            "Territory type",
            audit_segment=True,
        ),
        Field(
            "practice_setting",
            Role.FEATURE,
            _C,
            "hospital, group, solo practice or clinic",
            "Practice setting",
            audit_segment=True,
        ),
        Field(
            "practice_size",
            Role.FEATURE,
            _N,
            "prescribers in the practice",
            "Practice size",
            "Works in a practice of {value} prescribers",
            "prescribers",
        ),
        Field(
            "years_in_practice",
            Role.FEATURE,
            _N,
            "years since first licence",
            "Years in practice",
            "{value} years in practice",
            "years",
        ),
        Field("lead_source", Role.FEATURE, _C, "how the lead reached the CRM", "Lead source"),
        Field(
            "emails_opened_90d",
            Role.FEATURE,
            _N,
            "marketing e-mails opened, last 90 days",
            "E-mails opened (90 days)",
            "Opened {value} e-mails in the last 90 days",
            "e-mails",
        ),
        Field(
            "webinars_attended_90d",
            Role.FEATURE,
            _N,
            "webinars attended, last 90 days",
            "Webinars attended (90 days)",
            "Attended {value} webinars in the last 90 days",
            "webinars",
        ),
        Field(
            "rep_visits_90d",
            Role.FEATURE,
            _N,
            "sales-rep visits, last 90 days",
            "Rep visits (90 days)",
            "Had {value} rep visits in the last 90 days",
            "visits",
        ),
        Field(
            "samples_requested_90d",
            Role.FEATURE,
            _N,
            "product samples requested, last 90 days",
            "Samples requested (90 days)",
            "Requested {value} samples in the last 90 days",
            "samples",
        ),
        Field(
            "website_visits_30d",
            Role.FEATURE,
            _N,
            "visits to the HCP website, last 30 days",
            "Website visits (30 days)",
            "Visited the website {value} times in the last 30 days",
            "visits",
        ),
        Field(
            "days_since_last_contact",
            Role.FEATURE,
            _N,
            "days since the last contact; missing if never contacted",
            "Days since last contact",
            "Last contacted {value} days ago",
            "days",
        ),
        Field(
            "formulary_status",
            Role.FEATURE,
            _C,
            "the product's status on the local formulary",
            "Formulary status",
            "Formulary status is {value}",
        ),
        Field(
            "prescribing_decile",
            Role.SENSITIVE,
            _N,
            "prescribing volume decile (1-10), health-derived",
            "Prescribing decile",
            "In prescribing decile {value}",
            "decile",
        ),
        Field(
            "patient_volume_band",
            Role.SENSITIVE,
            _C,
            "patient volume band, health-derived",
            "Patient volume",
            "Patient volume is {value}",
        ),
        Field(
            "data_use_consent",
            Role.CONSENT,
            description="consent to use health-derived data (every purpose)",
            scope=ConsentScope.DATA_USE,
        ),
        Field(
            "data_use_consent_call_planning",
            Role.CONSENT,
            description="consent to use health-derived data to plan calls as well",
            scope=ConsentScope.DATA_USE,
            purpose=Purpose.CALL_PLANNING,
        ),
        Field(
            "do_not_contact",
            Role.CONSENT,
            description="opted out of all contact",
            scope=ConsentScope.CONTACT,
        ),
        Field(
            "consent_email",
            Role.CONSENT,
            description="consent to be contacted by e-mail (double opt-in)",
            scope=ConsentScope.CONTACT_CHANNEL,
            channel=Channel.EMAIL,
            expires="consent_email_expires_at",
        ),
        Field(
            "consent_email_expires_at",
            Role.CONSENT_EXPIRY,
            description="when the e-mail consent lapses (ISO 8601 date)",
        ),
        Field(
            "consent_phone",
            Role.CONSENT,
            description="consent to be called",
            scope=ConsentScope.CONTACT_CHANNEL,
            channel=Channel.PHONE,
        ),
        Field(
            "consent_visit",
            Role.CONSENT,
            description="consent to rep visits",
            scope=ConsentScope.CONTACT_CHANNEL,
            channel=Channel.VISIT,
        ),
        Field(
            "consent_text",
            Role.CONSENT,
            description="consent to text messages",
            scope=ConsentScope.CONTACT_CHANNEL,
            channel=Channel.TEXT,
            expires="consent_text_expires_at",
        ),
        Field(
            "consent_text_expires_at",
            Role.CONSENT_EXPIRY,
            description="when the text-message consent lapses (ISO 8601 date)",
        ),
        Field("gender", Role.PROTECTED, description="self-reported gender"),
        Field("age_band", Role.PROTECTED, description="age band"),
        Field("converted", Role.TARGET, description="1 if the lead converted"),
    ),
)


SALES_WEEKLY = SalesContract(
    name="sales-weekly",
    version="1",
    description=(
        "Weekly units sold per territory and product, with the field force's activity "
        "(the generated sample, data_samples/sales_weekly.csv)."
    ),
    holidays=HolidayCalendar("US"),  # US public holidays, from the holidays package
    fields=(
        SalesField("week", SalesRole.DATE, description="first day (Monday) of the week"),
        SalesField(
            "territory", SalesRole.SERIES, description="sales territory", display="Territory"
        ),
        SalesField(
            "region",
            SalesRole.GROUP,
            description="sales region of the territory",
            display="Region",
            groups="territory",
        ),
        SalesField("product", SalesRole.SERIES, description="product", display="Product"),
        SalesField(
            "product_line",
            SalesRole.GROUP,
            description="product line (therapeutic area) of the product",
            display="Product line",
            groups="product",
        ),
        SalesField("units", SalesRole.TARGET, description="units sold in the week", unit="units"),
        SalesField(
            "rep_calls",
            SalesRole.COVARIATE,
            _N,
            known_in_future=True,
            description="rep calls on prescribers in the week (from the call plan)",
            display="Rep calls",
            unit="calls",
        ),
        SalesField(
            "samples_dropped",
            SalesRole.COVARIATE,
            _N,
            description="product samples left with prescribers in the week",
            display="Samples dropped",
            unit="samples",
        ),
        SalesField(
            "promo",
            SalesRole.COVARIATE,
            _B,
            known_in_future=True,
            description="1 if a planned promotion ran in the week",
            display="Promotion",
        ),
    ),
)
