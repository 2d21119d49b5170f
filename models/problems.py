"""What can keep a receipt from being registered, as codes with parameters.

A receipt stores its problems as ``[{"code": ..., "params": {...}}]`` (plus the service's own
words, as it said them): they are rendered in the language of whoever reads them -- the
banner, the lists, the report, the e-mail -- never frozen in the language of whoever posted.
Each code has a level, as Odoo's e-invoicing alerts do: info, warning or danger
(docs/architecture.rst, "Problems").
"""

from dataclasses import dataclass, field

from odoo.exceptions import UserError


def _lt(template):
    """Marks a template for translation (the export extracts ``_lt`` calls); it is translated
    when rendered, in the reader's language (``render``)."""
    return template


LEVELS = [("info", "Info"), ("warning", "Warning"), ("danger", "Danger")]
_LEVEL_ORDER = [level for level, _label in LEVELS]

TEMPLATES = {
    # -- the data of the invoice or the settings (nothing was sent) ----------------------
    "seller_inn": _lt(
        "The seller INN of %(company)s must have 10 or 12 digits: set it in Settings › Invoicing "
        "› Fiscalization (54-FZ)."
    ),
    "place_missing": _lt(
        "The place of settlement of the cash register %(company)s is missing: set the web site "
        "address on the register (Invoicing › Fiscal receipts › Configuration › Cash registers; the default register also in Settings › Invoicing › "
        "Fiscalization (54-FZ))."
    ),
    "seller_email_missing": _lt(
        "The seller e-mail of the cash register %(company)s is missing: set it on the register "
        "(Invoicing › Fiscal receipts › Configuration › Cash registers; the default register also in Settings › Invoicing › Fiscalization (54-FZ))."
    ),
    "register_missing": _lt(
        "%(company)s has no cash register: fill in Settings › Invoicing › Fiscalization (54-FZ), or "
        "add one in Invoicing › Fiscal receipts › Configuration › Cash registers."
    ),
    "cashier_inn": _lt(
        "The cashier INN of %(company)s must have 12 digits: correct it or leave it empty in "
        "Settings › Invoicing › Fiscalization (54-FZ)."
    ),
    "certificate_missing": _lt(
        "The %(service)s certificate of the cash register %(company)s is missing: an "
        "administrator must choose it on the register (Invoicing › Fiscal receipts › Configuration › Cash registers; the default register also in "
        "Settings › Invoicing › Fiscalization (54-FZ))."
    ),
    "group_code_missing": _lt(
        "The ATOL group code of the cash register %(company)s is missing: copy it from the ATOL "
        "Online account into the register (Invoicing › Fiscal receipts › Configuration › Cash registers; the default register also in Settings › "
        "Invoicing › Fiscalization (54-FZ))."
    ),
    "place_unprintable": _lt(
        "The place of settlement of %(company)s contains %(chars)s, which the cash register "
        "cannot print: write the web site address in Latin or Cyrillic letters (e.g. its punycode "
        "form) on the register (Invoicing › Fiscal receipts › Configuration › Cash registers)."
    ),
    "currency": _lt(
        "Invoice %(move)s is in %(currency)s: fiscal receipts are registered in roubles only. "
        "Issue the invoice in RUB."
    ),
    "email_invalid": _lt(
        'The e-mail "%(email)s" of customer %(partner)s cannot receive a receipt: correct it (at '
        "most 64 characters, name@domain)."
    ),
    "no_contact": _lt(
        "Customer %(partner)s has neither an e-mail nor a phone: the receipt must be sent to one "
        "of them. Add an e-mail or a phone to the customer."
    ),
    "no_product_lines": _lt("Invoice %(move)s has no product lines to put on a receipt."),
    "vat_code": _lt(
        'Line "%(line)s" of %(move)s: set the fiscal VAT code on tax %(taxes)s (Invoicing › '
        "Configuration › Taxes); a line may carry one VAT tax only."
    ),
    "vat20_after_change": _lt(
        'Line "%(line)s" of %(move)s: VAT 20%% no longer applies to sales made from 1 January '
        "2026 (this sale: %(date)s). Use a 22%% tax."
    ),
    "vat22_before_change": _lt(
        'Line "%(line)s" of %(move)s: VAT 22%% applies to sales made from 1 January 2026 only '
        "(this sale: %(date)s). Use the 20%% tax of the original sale."
    ),
    "line_unprintable": _lt(
        'Line "%(line)s" of %(move)s: the cash register cannot print %(chars)s (its fiscal '
        "storage keeps Cyrillic and Latin text only). Remove these characters from the line's "
        "label."
    ),
    "marking_or_agent_unsupported": _lt(
        'Line "%(line)s" of %(move)s carries marking codes or agent data, which %(service)s '
        "cannot take: register such invoices through ATOL Online, or remove the codes and the "
        "agent setting of the product."
    ),
    "mark_codes_count": _lt(
        'Line "%(line)s" of %(move)s has %(count)s marking codes for a quantity of %(quantity)s: '
        "enter one code per unit sold, one per line."
    ),
    "mark_code_too_long": _lt(
        'Line "%(line)s" of %(move)s: marking code "%(code)s…" is longer than %(max)s characters; '
        "scan it again."
    ),
    "mark_code_form": _lt(
        'Line "%(line)s" of %(move)s: a marking code does not start with its GTIN and serial '
        "(01…21…), the only form this protocol accepts. Scan the full code, or register through "
        "protocol v5 (FFD 1.2)."
    ),
    "agent_supplier": _lt(
        'Line "%(line)s" of %(move)s: product %(product)s is sold as agent, so the receipt must '
        "name its supplier with the supplier's INN (10 or 12 digits). Set the supplier on the "
        "product and the INN (Tax ID) on the supplier."
    ),
    "credit_unsupported": _lt(
        'Invoice %(move)s is sold on credit, which %(service)s cannot register: turn off "Unpaid '
        'invoices on credit" in Settings › Invoicing › Fiscalization (54-FZ), then resend the '
        "receipt."
    ),
    "advance_unsupported": _lt(
        'Payment %(move)s is an advance, which %(service)s cannot register: turn off "Receipts '
        'for advance payments" in Settings › Invoicing › Fiscalization (54-FZ).'
    ),
    "advance_vat": _lt(
        "The default sales tax of %(company)s has no fiscal VAT code: advances are registered at "
        "its calculated rate. Set the code on the tax (Invoicing › Configuration › Taxes) or "
        "choose a default sales tax in the accounting settings."
    ),
    "cannot_build": _lt("Invoice %(move)s cannot be turned into a fiscal receipt: %(reason)s"),
    "parts_changed": _lt(
        "%(move)s now needs %(count)s receipts instead of %(before)s: its receipts cannot be "
        "rebuilt part by part. Register a correction instead."
    ),
    "service_cannot_accept": _lt("The service cannot accept this receipt: %(reason)s"),
    # -- marked goods in the permissive mode (vendors/marking) ---------------------------
    "mark_permissive_unsupported": _lt(
        'Line "%(line)s" of %(move)s: marked goods under the permissive mode must carry the check '
        "of their codes on the receipt (tag 1260), which %(service)s cannot take. Register them "
        "through ATOL Online v5 (FFD 1.2): choose it as the service of the cash register."
    ),
    "mark_codes_missing": _lt(
        'Line "%(line)s" of %(move)s: marked goods under the permissive mode are sold only with '
        "their codes checked. Reset the invoice to draft, scan one code per unit into the line's "
        "Marking codes, then confirm it again."
    ),
    "mark_code_refused": _lt(
        'Line "%(line)s" of %(move)s: the marking code %(code)s may not be sold: %(reason)s '
        "(GIS MT check %(check)s). Nothing was registered. Reset the invoice to draft, replace "
        "the code (another unit) or remove the item, then confirm it again."
    ),
    "mark_check_waiting": _lt(
        "The marking codes of %(move)s could not be checked (%(error)s): the receipt waits and "
        "the check is made again automatically; nothing is registered before it answers."
    ),
    "mark_check_denied": _lt(
        "The marking check refused the credentials (%(error)s): an administrator must correct "
        "the API key or the local module's login in Settings › Invoicing › Fiscalization (54-FZ) "
        "› Marked goods, then resend the receipt."
    ),
    "mark_check_settings": _lt(
        "The marking check of %(company)s is not set up: an administrator must enter the GIS MT "
        "API key (online check) or the local module's address (local check or offline fallback) "
        "in Settings › Invoicing › Fiscalization (54-FZ) › Marked goods, then resend the receipt."
    ),
    "not_posted": _lt(
        "%(move)s is not posted: its receipt is not sent. Confirm it again to register its receipt."
    ),
    # -- what the service said ---------------------------------------------------------
    "refused_data": _lt(
        "The service refused the receipt (code %(code)s): %(text)s Fix the invoice or the "
        "settings, then resend it."
    ),
    "refused_auth": _lt(
        "The service refused the credentials (code %(code)s): %(text)s An administrator must "
        "check the login, password or certificate in Settings › Invoicing › Fiscalization "
        "(54-FZ)."
    ),
    "refused_config": _lt(
        "The service refused the settings (code %(code)s): %(text)s Check the service, the group "
        "and the test mode in Settings › Invoicing › Fiscalization (54-FZ)."
    ),
    "device_failed": _lt(
        "The cash register failed the document (code %(code)s): %(text)s Resend the receipt: it "
        "is sent under a new ID."
    ),
    "vendor_holds": _lt(
        "%(text)s The service may have registered this receipt: a fiscal administrator must check "
        "the service's account (or the OFD's). If nothing is registered there, use Send under a "
        "new ID on the receipt; if it is, register a correction instead."
    ),
    "report_refused": _lt(
        "The service refused to give the result of this receipt: %(text)s (code %(code)s). Check "
        "the credentials and settings; the receipt itself is not affected."
    ),
    # -- waiting ---------------------------------------------------------------------------
    "unreachable": _lt("The service could not be reached (%(error)s); sending is tried again automatically."),
    "retries_exhausted": _lt(
        "The service could not be reached after several attempts (%(error)s); sending resumes automatically."
    ),
    "unreadable": _lt("The service's answer could not be read (%(error)s); it is asked again automatically."),
    "interrupted": _lt(
        "Sending was interrupted after the request may have reached the service: the service is "
        "asked again under the same ID before anything else."
    ),
    "unexpected": _lt(
        "An unexpected error stopped the handling of this receipt (%(error)s); it is tried again "
        "automatically. If it persists, tell your administrator."
    ),
    "no_result": _lt(
        "The service accepted the receipt but has not given its result after %(count)s status requests."
    ),
}
# The level of each problem (Odoo's alert levels): danger unless said here.
LEVEL_OF = {
    "report_refused": "warning",
    "unreachable": "info",
    "retries_exhausted": "warning",
    "unreadable": "warning",
    "interrupted": "warning",
    "unexpected": "warning",
    "no_result": "warning",
    "mark_check_waiting": "warning",
}
# Parameters that name a term of a vocabulary: rendered in the reader's language as well.
TERMS = {
    "reason": {
        "sold": _lt("already sold (withdrawn from circulation)"),
        "blocked": _lt("blocked by the supervising authorities"),
        "expired": _lt("its expiry date has passed"),
        "not_found": _lt("unknown to the marking system"),
        "invalid": _lt("not a valid code"),
        "not_verified": _lt("its verification key did not verify"),
        "not_utilised": _lt("its application to the goods was never reported"),
        "not_realizable": _lt("not introduced into circulation"),
        "gray_zone": _lt("in the grey zone (not accounted for in the marking system)"),
        "check_error": _lt("the marking system answered an error for it"),
    },
}
# The service's answers, by kind of failure (vendors.outcome).
REFUSALS = {
    "validation": "refused_data",
    "auth": "refused_auth",
    "config": "refused_config",
    "device": "device_failed",
}


@dataclass(frozen=True)
class Problem:
    code: str
    params: dict = field(default_factory=dict)

    def as_json(self):
        return {"code": self.code, "params": self.params}


def problem(kind, /, **params):
    """The problem ``kind`` of the catalogue, with its parameters as text (numbers kept)."""
    assert kind in TEMPLATES, kind
    return Problem(
        kind, {key: value if isinstance(value, (int, float)) else str(value) for key, value in params.items()}
    )


class ReceiptProblems(UserError):
    """What keeps a receipt from being built, as problems; the message is for a person now."""

    def __init__(self, env, problems):
        self.problems = list(problems)
        super().__init__(render(env, [p.as_json() for p in self.problems]))


class ReceiptMustWait(ReceiptProblems):
    """What keeps a receipt from being built now, not for good (the marking check could not be
    made and the company waits for it): the receipt waits without a request, and is built again
    after the company's retry intervals (sending.py)."""


def render(env, problems):
    """The problems as text, in the language of ``env``."""
    lines = []
    translate = env._  # the templates are extracted from _lt() above, not here
    for entry in problems or ():
        template = TEMPLATES.get(entry.get("code"))
        params = entry.get("params") or {}
        params = {key: term(translate, key, value) for key, value in params.items()}
        if not template:
            lines.append(str(params.get("text") or entry.get("code") or ""))
            continue
        lines.append(translate(template, **params))
    return "\n".join(line for line in lines if line)


def term(translate, key, value):
    """A parameter in the reader's language: a vocabulary term's words (several, comma-separated),
    else the value itself."""
    vocabulary = TERMS.get(key)
    if not vocabulary or not isinstance(value, str):
        return value
    return ", ".join(translate(vocabulary[word]) if word in vocabulary else word for word in value.split(","))


def level(problems):
    """The level of the most serious of ``problems`` (False when there is none)."""
    levels = [
        LEVEL_OF.get(entry["code"], "danger") for entry in problems or () if entry.get("code") in TEMPLATES
    ]
    return max(levels, key=_LEVEL_ORDER.index, default=False)


def values(*problems, text=""):
    """Receipt field values for ``problems`` and the service's own words ``text``."""
    entries = [p.as_json() for p in problems]
    return {"problems": entries or False, "problem_level": level(entries), "vendor_message": text or False}


CLEARED = {"problems": False, "problem_level": False, "vendor_message": False}
