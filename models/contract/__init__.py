"""The data contracts: every field of a lead or of a weekly sales table, once, with its role.

Training, serving and explain derive what they need from a contract: model inputs, PII,
protected attributes, consent flags, the target, series keys and covariates, display names.
A sales-ops user describes their own export in the same terms with a small YAML file
(:func:`load_contract`, :func:`load_sales_contract`); the built-ins :data:`HCP_LEADS` and
:data:`SALES_WEEKLY` describe the generated samples in ``data_samples/``.

Modules: ``fields`` (roles, kinds, the lead field), ``vocabulary`` (PII, protected and
after-the-fact words in column names), ``leads`` (:class:`Contract`), ``sales``
(:class:`SalesContract` and its fields and layout), ``field_set`` (what both contracts share),
``yaml_io`` (dictionary and YAML forms), ``builtin`` (the built-in contracts).
"""

from candor.models.contract.builtin import HCP_LEADS, SALES_WEEKLY
from candor.models.contract.fields import (
    MODEL_INPUT_ROLES,
    Channel,
    ConsentScope,
    Field,
    Kind,
    Purpose,
    Role,
    Sentinel,
)
from candor.models.contract.leads import Contract
from candor.models.contract.sales import (
    MAX_SEASON_LENGTH,
    GapPolicy,
    HolidayCalendar,
    SalesContract,
    SalesField,
    SalesRole,
    WeekLabel,
    WideLayout,
)
from candor.models.contract.vocabulary import (
    AFTER_THE_FACT_TOKENS,
    PII_TOKENS,
    PROTECTED_TOKENS,
    name_tokens,
)
from candor.models.contract.yaml_io import (
    contract_from_dict,
    dump_contract,
    dump_sales_contract,
    load_contract,
    load_sales_contract,
    sales_contract_from_dict,
)

__all__ = [
    "AFTER_THE_FACT_TOKENS",
    "HCP_LEADS",
    "MAX_SEASON_LENGTH",
    "MODEL_INPUT_ROLES",
    "PII_TOKENS",
    "PROTECTED_TOKENS",
    "SALES_WEEKLY",
    "Channel",
    "ConsentScope",
    "Contract",
    "Field",
    "GapPolicy",
    "HolidayCalendar",
    "Kind",
    "Purpose",
    "Role",
    "SalesContract",
    "SalesField",
    "SalesRole",
    "Sentinel",
    "WeekLabel",
    "WideLayout",
    "contract_from_dict",
    "dump_contract",
    "dump_sales_contract",
    "load_contract",
    "load_sales_contract",
    "name_tokens",
    "sales_contract_from_dict",
]
