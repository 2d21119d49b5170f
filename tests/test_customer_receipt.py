"""The customer's receipt: the QR code and the OFD link on the invoice PDF, in the portal and
in the e-mail, and the printable receipt copy (docs/architecture.rst, "The customer's receipt")."""

import base64
import io
from decimal import Decimal
from unittest.mock import patch
from urllib.parse import quote_plus

import lxml.html
from PIL import Image
from pyzbar.pyzbar import decode

from odoo.tests import HttpCase, new_test_user, tagged

from ..vendors.atol import AtolV4Client
from .common import DONE_PAYLOAD, KkmTestCommon
from .test_every_invoice import SALE_DATE, EveryInvoiceCommon

CHECK_STRING = "t=20261128T1200&s=1200.00&fn=9999078900004792&i=133&fp=3449555941&n=1"


def invoice_html(env, move):
    html = env["ir.actions.report"]._render_qweb_html("account.account_invoices", move.ids)[0]
    return lxml.html.fromstring(html)


def copy_html(env, receipts, roll=False):
    report = "l10n_ru_kkm.report_receipt_copy_roll" if roll else "l10n_ru_kkm.report_receipt_copy"
    return env["ir.actions.report"]._render_qweb_html(report, receipts.ids)[0].decode()


def decoded_qr(src):
    """The text of the QR code in an inline PNG image."""
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), src[:40]
    image = Image.open(io.BytesIO(base64.b64decode(src[len(prefix) :])))
    return [symbol.data.decode() for symbol in decode(image)]


def blocks(tree):
    return tree.xpath(
        "//div[@id='l10n_ru_kkm_fiscal_receipts']//div[hasclass('o_l10n_ru_kkm_fiscal_receipt')]"
    )


@tagged("post_install", "-at_install")
class TestCustomerReceipt(KkmTestCommon):
    def done_invoice(self, amounts=(1200.0,), move_type="out_invoice", uuid="uuid-c1"):
        move = self.post_invoice(amounts=amounts, move_type=move_type)
        operation = "sell_refund" if move_type == "out_refund" else "sell"
        self.atol.token_ok()
        self.atol.register_ok(uuid=uuid, operation=operation)
        self.atol.report_done(uuid=uuid)
        receipt = move.l10n_ru_kkm_receipt_ids
        receipt._l10n_ru_kkm_send()
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "done", receipt.error_message)
        return move, receipt

    def test_a_done_receipt_has_its_check_string_and_link(self):
        _move, receipt = self.done_invoice()
        self.assertEqual(receipt.check_string, CHECK_STRING)
        self.assertEqual(receipt.ofd_link, DONE_PAYLOAD["ofd_receipt_url"])
        _refund, refund = self.done_invoice(move_type="out_refund", uuid="uuid-c2")
        self.assertEqual(refund.check_string, CHECK_STRING.replace("n=1", "n=2"))

    def test_the_invoice_chatter_gets_one_short_note_when_registered(self):
        move, receipt = self.done_invoice()
        notes = move.message_ids.filtered(lambda m: "registered: FD 133" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.assertIn(f'href="{receipt.ofd_link.replace("&", "&amp;")}"', notes.body)
        self.assertFalse(notes.partner_ids, "a note, not an e-mail")

    def test_the_link_is_built_from_the_company_operator_when_the_service_gives_none(self):
        move = self.post_invoice()
        receipt = move.l10n_ru_kkm_receipt_ids
        self.atol.token_ok()
        self.atol.register_ok(uuid="uuid-c3")
        self.atol.report_done(uuid="uuid-c3", payload=dict(DONE_PAYLOAD, ofd_receipt_url=None))
        receipt._l10n_ru_kkm_send()
        receipt._l10n_ru_kkm_fetch_report()
        self.assertEqual(receipt.state, "done")
        self.assertFalse(receipt.ofd_link)
        # Each company's own operator: another company's setting changes nothing here.
        self.env["res.company"].create({"name": "Other shop", "l10n_ru_kkm_ofd": "1-ofd"})
        receipt.invalidate_recordset(["ofd_link"])
        self.assertFalse(receipt.ofd_link)
        self.company.l10n_ru_kkm_ofd = "ofd.ru"
        receipt.invalidate_recordset(["ofd_link"])
        self.assertEqual(receipt.ofd_link, "https://check.ofd.ru/rec/9999078900004792/133/3449555941")

    def test_the_invoice_pdf_shows_the_fiscal_block_and_its_qr_decodes(self):
        move, receipt = self.done_invoice()
        tree = invoice_html(self.env, move)
        (block,) = blocks(tree)
        text = " ".join(block.text_content().split())
        for expected in (
            "9999078900004792",
            "133",
            "3449555941",
            "28.11.2026 12:00:00",
            "Shift: 23",
            "1200.00",
        ):
            self.assertIn(expected, text)
        self.assertEqual(block.xpath(".//a[hasclass('o_l10n_ru_kkm_ofd_link')]/@href"), [receipt.ofd_link])
        (src,) = block.xpath(".//img/@src")
        self.assertEqual(decoded_qr(src), [CHECK_STRING])

    def test_no_block_without_a_done_receipt(self):
        move = self.post_invoice()
        self.assertEqual(move.l10n_ru_kkm_receipt_ids.state, "to_send")
        self.assertEqual(blocks(invoice_html(self.env, move)), [])
        self.assertFalse(move.l10n_ru_kkm_receipt_ids.check_string)

    def test_a_split_invoice_has_one_block_per_part(self):
        with patch.object(AtolV4Client, "max_items", 2):
            move = self.post_invoice(amounts=(100.0, 200.0, 300.0))
        parts = move.l10n_ru_kkm_receipt_ids.sorted("part")
        self.assertEqual(parts.mapped("part"), [1, 2])
        for part in parts:
            self.mock.reset()
            uuid = f"uuid-part-{part.part}"
            self.atol.token_ok()
            self.atol.register_ok(uuid=uuid)
            payload = dict(DONE_PAYLOAD, total=part.amount_total, fiscal_document_number=200 + part.part)
            self.atol.report_done(uuid=uuid, payload=payload)
            part._l10n_ru_kkm_send()
            part._l10n_ru_kkm_fetch_report()
            self.assertEqual(part.state, "done", part.error_message)
        found = blocks(invoice_html(self.env, move))
        self.assertEqual(len(found), 2)
        self.assertEqual(
            [decoded_qr(block.xpath(".//img/@src")[0]) for block in found],
            [[part.check_string] for part in parts],
        )
        self.assertIn("i=201", parts[0].check_string)
        self.assertIn("i=202", parts[1].check_string)
        self.assertIn("part 1/2", found[0].text_content())

    def test_pdf_rendering_works(self):
        move, receipt = self.done_invoice()
        self.assertEqual(self.env["ir.actions.report"].get_wkhtmltopdf_state(), "ok")
        reports = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        for report, ids in (
            ("account.account_invoices", move.ids),
            ("l10n_ru_kkm.report_receipt_copy", receipt.ids),
            ("l10n_ru_kkm.report_receipt_copy_roll", receipt.ids),
        ):
            with self.subTest(report=report):
                pdf, kind = reports._render_qweb_pdf(report, ids)
                self.assertEqual(kind, "pdf")
                self.assertTrue(pdf.startswith(b"%PDF"))

    def test_the_receipt_copy_has_every_requisite(self):
        move, receipt = self.done_invoice()
        for roll in (False, True):
            with self.subTest(roll=roll):
                html = copy_html(self.env, receipt, roll=roll)
                text = " ".join(lxml.html.fromstring(html).text_content().split())
                for expected in (
                    "Кассовый чек",
                    "Приход",
                    self.company.name,
                    "ИНН 5544332219",
                    "Место расчетов: https://shop.example.ru",
                    "Эл. адрес отправителя: shop@example.ru",
                    "СНО: ОСН",
                    "1. test line",
                    "× 1200.00 = 1200.00",
                    "НДС 20%",
                    "Признак способа расчета: Полный расчет",
                    "Предмет расчета: Товар",
                    "ИТОГ = 1200.00",
                    "Безналичными = 1200.00",
                    "Сумма НДС 20% = 200.00",
                    "Эл. адрес или телефон покупателя: buyer@example.ru",
                    "Смена № 23 · Чек № 6",
                    "РН ККТ: 0000111118041361",
                    "ФН № 9999078900004792",
                    "ФД № 133",
                    "ФП 3449555941",
                    "ИНН ОФД: 7709364346",
                    "Сайт ФНС: www.nalog.gov.ru",
                    "28.11.2026 12:00:00",
                ):
                    self.assertIn(expected, text)
                (src,) = lxml.html.fromstring(html).xpath(
                    "//div[hasclass('o_l10n_ru_kkm_receipt_copy')]//img/@src"
                )
                self.assertEqual(decoded_qr(src), [CHECK_STRING])
        self.assertIn("o_l10n_ru_kkm_roll", copy_html(self.env, receipt, roll=True))

    def test_a_credit_note_shows_its_refund_receipt(self):
        credit_note, refund = self.done_invoice(move_type="out_refund", uuid="uuid-c5")
        (block,) = blocks(invoice_html(self.env, credit_note))
        self.assertEqual(decoded_qr(block.xpath(".//img/@src")[0]), [CHECK_STRING.replace("n=1", "n=2")])
        self.assertIn("Sale refund", block.text_content())
        text = " ".join(lxml.html.fromstring(copy_html(self.env, refund)).text_content().split())
        self.assertIn("Возврат прихода", text)
        self.assertIn("ИТОГ = 1200.00", text)

    def test_a_receipt_not_registered_has_no_copy(self):
        receipt = self.post_invoice().l10n_ru_kkm_receipt_ids
        html = copy_html(self.env, receipt)
        self.assertIn("not registered", html)
        self.assertNotIn("o_l10n_ru_kkm_receipt_copy", html)

    def test_the_invoice_email_carries_the_qr_code_and_the_links(self):
        move, receipt = self.done_invoice()
        template = self.env.ref("account.email_template_edi_invoice")
        body = self.env["account.move.send"]._get_default_mail_body(move, template, "en_US")
        self.assertIn("Fiscal receipt", body)
        self.assertIn(f"/report/barcode/?barcode_type=QR&amp;value={quote_plus(CHECK_STRING)}", body)
        self.assertIn(f"/my/invoices/{move.id}/fiscal-receipt/{receipt.id}?access_token=", body)
        # An invoice without a registered receipt keeps its e-mail as it was.
        other = self.post_invoice()
        self.assertNotIn(
            "Fiscal receipt", self.env["account.move.send"]._get_default_mail_body(other, template, "en_US")
        )

    def test_the_copy_is_emailed_once_when_the_company_asks(self):
        copies = lambda move: move.message_ids.filtered(lambda m: "Кассовый чек" in (m.body or ""))  # noqa: E731
        move, receipt = self.done_invoice()
        self.assertFalse(copies(move), "off by default")
        self.company.l10n_ru_kkm_email_receipt_copy = True
        move, receipt = self.done_invoice(amounts=(1500.0,), uuid="uuid-c4")
        (message,) = copies(move)
        self.assertEqual(message.partner_ids, self.partner_a)
        self.assertIn(quote_plus(receipt.check_string), message.body)  # the QR image, by address
        self.assertIn(f"ФН № <span>{receipt.fn_number}</span>", message.body)
        mails = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        self.assertEqual(mails.recipient_ids, self.partner_a)
        self.assertTrue(receipt.copy_emailed)
        receipt._l10n_ru_kkm_email_copies()
        receipt._l10n_ru_kkm_on_done()
        self.assertEqual(len(copies(move)), 1, "never twice")

    def test_a_customer_without_email_gets_no_copy_and_the_receipt_says_so(self):
        self.company.l10n_ru_kkm_email_receipt_copy = True
        self.partner_a.write({"email": False, "phone": "+79001234567"})
        _move, receipt = self.done_invoice()
        self.assertFalse(receipt.copy_emailed)
        self.assertIn("no e-mail address", receipt.message_ids[0].body)


@tagged("post_install", "-at_install")
class TestReceiptCopyAtTheSandbox(EveryInvoiceCommon):
    """The copy says what each service registered: every protocol, several rates, weights."""

    def test_the_copy_of_every_protocol(self):
        for vendor in ("atol_v4", "atol_v5", "checkonline"):
            with self.subTest(vendor=vendor), self.trapped() as trap:
                self.use_vendor(vendor)
                move = self.invoice(
                    [
                        self.line(1220.0, name="Чайник"),
                        self.line(899.9, quantity=0.347, tax=self.vat10, name="Сыр весовой"),
                    ],
                    invoice_date=SALE_DATE,
                )
                (receipt,) = self.settle(trap, move)
                copy = receipt._l10n_ru_kkm_copy()
                self.assertEqual(f"{copy.total:.2f}", f"{move.amount_total:.2f}")
                self.assertEqual([item.name for item in copy.items], ["Чайник", "Сыр весовой"])
                lines = move.invoice_line_ids.sorted("sequence")
                self.assertEqual(
                    [item.quantity for item in copy.items],
                    [Decimal(str(q)) for q in lines.mapped("quantity")],
                )
                self.assertEqual(sum(item.sum for item in copy.items), Decimal(f"{move.amount_total:.2f}"))
                self.assertEqual([code for code, _amount in copy.vats], ["vat22", "vat10"])
                html = copy_html(self.env, receipt)
                text = " ".join(lxml.html.fromstring(html).text_content().split())
                for expected in (
                    "Чайник",
                    f"{copy.items[1].quantity.normalize()} ",
                    f"× {copy.items[1].price:.2f} = {copy.items[1].sum:.2f}",
                    "НДС 22%",
                    "НДС 10%",
                    f"ФН № {receipt.fn_number}",
                    f"ФД № {receipt.fiscal_document_number}",
                    f"ИТОГ = {move.amount_total:.2f}",
                ):
                    self.assertIn(expected, text)
                (src,) = lxml.html.fromstring(html).xpath(
                    "//div[hasclass('o_l10n_ru_kkm_receipt_copy')]//img/@src"
                )
                self.assertEqual(decoded_qr(src), [receipt.check_string])
                self.assertIn(f"&s={move.amount_total:.2f}&", receipt.check_string)


@tagged("post_install", "-at_install")
class TestCustomerPortal(KkmTestCommon, HttpCase):
    """Only the invoice's customer (or its access token) opens the receipt copy."""

    def setUp(self):
        super().setUp()
        self.customer = new_test_user(self.env, login="kkm_portal_a", groups="base.group_portal")
        self.customer.partner_id.email = "portal.a@example.ru"
        self.stranger = new_test_user(self.env, login="kkm_portal_b", groups="base.group_portal")
        self.move = self.post_invoice(partner=self.customer.partner_id)
        self.receipt = self.move.l10n_ru_kkm_receipt_ids
        self.register_done(self.receipt, "uuid-portal")
        self.path = f"/my/invoices/{self.move.id}/fiscal-receipt/{self.receipt.id}"

    def test_portal_tour_shows_the_receipt_and_opens_its_copy(self):
        self.start_tour(f"/my/invoices/{self.move.id}", "l10n_ru_kkm_portal_receipt", login="kkm_portal_a")

    def test_only_the_customer_or_the_token_opens_the_copy(self):
        self.authenticate("kkm_portal_a", "kkm_portal_a")
        response = self.url_open(self.path)
        self.assertEqual(response.status_code, 200)
        self.assertIn("ФН № <span>9999078900004792</span>", response.content.decode())
        self.assertEqual(self.url_open(self.path + "?report_type=pdf").status_code, 200)

        self.authenticate("kkm_portal_b", "kkm_portal_b")
        self.assertEqual(self.url_open(self.path).status_code, 404)
        # Another invoice's receipt under the customer's own invoice is not found either.
        other = self.post_invoice(partner=self.stranger.partner_id)
        self.register_done(other.l10n_ru_kkm_receipt_ids, "uuid-other")
        self.authenticate("kkm_portal_a", "kkm_portal_a")
        wrong = f"/my/invoices/{self.move.id}/fiscal-receipt/{other.l10n_ru_kkm_receipt_ids.id}"
        self.assertEqual(self.url_open(wrong).status_code, 404)

        self.authenticate(None, None)
        self.assertEqual(self.url_open(self.path).status_code, 404)
        with_token = self.receipt._l10n_ru_kkm_portal_url()
        self.assertEqual(self.url_open(with_token).status_code, 200)
        self.assertEqual(
            self.url_open(with_token.replace("access_token=", "access_token=x")).status_code, 404
        )
