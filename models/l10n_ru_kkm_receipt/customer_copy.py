"""The customer's receipt: its QR code, its page at the fiscal data operator, the copy the
customer can print, and the copy e-mailed once when the company asks for it
(docs/architecture.rst, "The customer's receipt").

The copy is read back from the request the service registered (``Client.describe``), never
rebuilt from the invoice, so that it says what the tax office received.
"""

import base64
from decimal import Decimal
from urllib.parse import quote_plus

from odoo import models

from ...vendors import ofd
from ...vendors import receipt_copy as rc

QR_SIZE = 150  # pixels; about 40 mm on the invoice, enough for a phone's camera
FNS_SITE = "www.nalog.gov.ru"


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    def _compute_customer_check(self):
        for receipt in self:
            values = receipt._l10n_ru_kkm_check_values()
            template = ofd.OFD_URL_TEMPLATES.get(receipt._l10n_ru_kkm_cash_register().ofd or "")
            receipt.check_string = values["qr"] if values else False
            receipt.ofd_link = receipt.ofd_receipt_url or ofd.receipt_link(template, values) or False

    def _l10n_ru_kkm_check_values(self):
        """The values of the tax service's check string of a registered receipt, or None."""
        self.ensure_one()
        if self.state != "done":
            return None
        return ofd.check_values(
            fn=self.fn_number,
            fd=self.fiscal_document_number,
            fp=self.fiscal_document_attribute,
            registered=self.receipt_datetime,
            total=Decimal(f"{self.amount_total:.2f}"),
            sign=ofd.OPERATION_SIGNS.get(self.operation),
            rn=self.ecr_registration_number,
        )

    def _l10n_ru_kkm_qr_src(self, absolute=False):
        """The QR code's image: inline for documents (PDF, HTML), an address for e-mails,
        whose readers often refuse inline images."""
        self.ensure_one()
        if not self.check_string:
            return ""
        if absolute:
            value = quote_plus(self.check_string)
            return (
                f"{self.get_base_url()}/report/barcode/?barcode_type=QR&value={value}"
                f"&width={QR_SIZE}&height={QR_SIZE}"
            )
        image = self.env["ir.actions.report"].barcode("QR", self.check_string, width=QR_SIZE, height=QR_SIZE)
        return "data:image/png;base64," + base64.b64encode(image).decode()

    def _l10n_ru_kkm_customer_title(self):
        """What the receipt is, in the reader's language: "Sale, part 1/2"."""
        self.ensure_one()
        title = dict(self._fields["operation"]._description_selection(self.env))[self.operation]
        if self.payment_stage and self.payment_stage != "full":
            stages = dict(self._fields["payment_stage"]._description_selection(self.env))
            title = f"{title} ({stages[self.payment_stage].lower()})"
        if self.part_count > 1:
            title = self.env._(
                "%(title)s, part %(part)s/%(count)s", title=title, part=self.part, count=self.part_count
            )
        return title

    def _l10n_ru_kkm_portal_url(self, report_type="html", layout="a4"):
        """The customer's address of this receipt's copy, with the invoice's access token."""
        self.ensure_one()
        query = "&layout=roll" if layout == "roll" else ""
        return self.move_id.get_portal_url(
            suffix=f"/fiscal-receipt/{self.id}", report_type=report_type, query_string=query
        )

    def _get_report_base_filename(self):
        # The name of the downloaded copy (the portal's report route asks for it).
        self.ensure_one()
        return self.env._("Receipt %(name)s", name=self.name or self.id)

    # -- the copy ----------------------------------------------------------------------------

    def _l10n_ru_kkm_copy(self):
        """The registered request as a ``receipt_copy.ReceiptCopy``."""
        self.ensure_one()
        register = self._l10n_ru_kkm_cash_register()
        with self.env["l10n_ru_kkm.client"]._open(register, self.vendor, credentials=False) as client:
            return client.describe(self.request_payload or {}, self.operation)

    def _l10n_ru_kkm_copy_values(self):
        """Everything the copy prints, as text: the requisites of an electronic receipt (54-FZ
        art. 4.7) in Russian, as the register printed them."""
        self.ensure_one()
        receipt = self.sudo()
        copy = receipt._l10n_ru_kkm_copy()
        company = receipt.company_id
        items = [
            {
                "number": index,
                "name": item.name,
                "price": _money(item.price),
                "quantity": _quantity(item.quantity),
                "measure": item.measure,
                "sum": _money(item.sum),
                "vat": rc.label(rc.VAT_LABELS, item.vat),
                "vat_sum": _money(item.vat_sum) if item.vat_sum is not None else "",
                "payment_method": rc.label(rc.PAYMENT_METHOD_LABELS, item.payment_method),
                "payment_object": rc.label(rc.PAYMENT_OBJECT_LABELS, item.payment_object),
            }
            for index, item in enumerate(copy.items, start=1)
        ]
        correction = ""
        if copy.correction:
            kind, basis_date, basis_number = copy.correction
            correction = " ".join(
                part for part in (rc.label(rc.CORRECTION_TYPE_LABELS, kind), basis_date, basis_number) if part
            )
        return {
            "title": "Кассовый чек коррекции"
            if copy.correction or "correction" in copy.operation
            else "Кассовый чек",
            "operation": rc.label(rc.OPERATION_LABELS, copy.operation),
            "seller": company.name,
            "inn": copy.inn or company.l10n_ru_kkm_inn or company.vat or "",
            "sno": rc.label(rc.SNO_LABELS, copy.sno),
            "payment_address": copy.payment_address,
            "seller_email": copy.seller_email,
            "internet": copy.internet,
            "cashier": copy.cashier,
            "client_contact": copy.client_contact,
            "client_name": copy.client_name,
            "client_inn": copy.client_inn,
            "correction": correction,
            "items": items,
            "total": _money(copy.total),
            "payments": [
                (rc.label(rc.PAYMENT_TYPE_LABELS, kind), _money(amount)) for kind, amount in copy.payments
            ],
            "vats": [
                (rc.label(rc.VAT_LABELS, code), _money(amount))
                for code, amount in copy.vats
                if code != "none"
            ],
            "without_vat": _money(sum((i.sum for i in copy.items if i.vat == "none"), Decimal(0)))
            if any(i.vat == "none" for i in copy.items)
            else "",
            "datetime": receipt.receipt_datetime or "",
            "shift": receipt.shift_number or "",
            "number": receipt.fiscal_receipt_number or "",
            "fn": receipt.fn_number or "",
            "fd": receipt.fiscal_document_number or "",
            "fp": receipt.fiscal_document_attribute or "",
            "rn": receipt.ecr_registration_number or "",
            "ofd_inn": receipt.ofd_inn or "",
            "fns_site": receipt.fns_site or FNS_SITE,
            "ofd_link": receipt.ofd_link or "",
            "check_string": receipt.check_string or "",
            "qr_src": receipt._l10n_ru_kkm_qr_src(),
        }

    # -- the e-mailed copy ---------------------------------------------------------------------

    def _l10n_ru_kkm_email_copies(self):
        """E-mail the customer a copy of each receipt just registered, once, where the company
        asks for it (off by default: the OFD e-mails one when the receipt names a contact)."""
        for receipt in self.filtered(
            lambda r: r.state == "done" and not r.copy_emailed and r.company_id.l10n_ru_kkm_email_receipt_copy
        ):
            customer = receipt.move_id.partner_id
            if not customer.email:
                receipt.message_post(
                    body=self.env._(
                        "The customer has no e-mail address: no copy of the receipt was e-mailed."
                    )
                )
                continue
            # Flagged in the same transaction as the message: a copy is never sent twice.
            receipt._l10n_ru_kkm_write({"copy_emailed": True})
            receipt._l10n_ru_kkm_post_copy(customer)

    def _l10n_ru_kkm_post_copy(self, customer):
        move = self.move_id.with_context(lang=customer.lang or self.env.lang)
        copy = self._l10n_ru_kkm_copy_values()
        copy["qr_src"] = self._l10n_ru_kkm_qr_src(absolute=True)
        body = (
            self.env["ir.qweb"]
            .with_context(lang=customer.lang or self.env.lang)
            ._render(
                "l10n_ru_kkm.mail_receipt_copy",
                {"receipt": self.with_context(lang=customer.lang), "copy": copy},
            )
        )
        move.sudo().message_post(
            body=body,
            subject=move.env._("Your receipt for %(invoice)s", invoice=move.name),
            partner_ids=customer.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="mail.mail_notification_light",
        )
        self.message_post(
            body=self.env._("A copy of the receipt was e-mailed to %(email)s.", email=customer.email)
        )


def _money(amount):
    return f"{Decimal(amount):.2f}"


def _quantity(quantity):
    text = f"{Decimal(quantity):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
