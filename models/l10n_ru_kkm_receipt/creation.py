"""How a receipt comes to be: the gate every way of creating one goes through, and its request,
built and frozen in the row that creates it (docs/architecture.rst, "Exactly once")."""

import uuid
from dataclasses import replace
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ...vendors import CLIENTS
from ...vendors import receipt as rd
from .. import problems as pb
from .receipt import FISCAL_MOVE_TYPES, PAID_STATES

USER = "l10n_ru_kkm.group_kkm_user"
MANAGER = "l10n_ru_kkm.group_kkm_manager"


class L10nRuKkmReceipt(models.Model):
    _inherit = "l10n_ru_kkm.receipt"

    # -- the gate ----------------------------------------------------------------------

    @api.model
    def _l10n_ru_kkm_refusal(self, move, payment_stage="full", mirror=False):
        """Why ``move`` may not get a receipt, as a translated sentence, or "" when it may.

        The one gate of every way a receipt is created or sent (posting, payment, buttons,
        wizards, command line, RPC): the move is posted, it is a customer invoice or credit note
        (a customer payment for an advance), its company registers receipts, and its trigger is
        reached. A ``mirror`` (the refund that re-issues a registered sale) repeats what was
        registered, whatever the trigger says now.
        """
        company = move.company_id
        if not company.l10n_ru_kkm_enabled:
            return self.env._(
                "Fiscal receipts are not enabled for %(company)s: enable them in Settings › Invoicing › "
                "Fiscalization (54-FZ).",
                company=company.name,
            )
        if move.state != "posted":
            return self.env._(
                "%(move)s is not posted: only confirmed documents are registered with the tax office.",
                move=move.display_name,
            )
        if payment_stage == "prepayment":
            payment = move.origin_payment_id
            if payment.payment_type != "inbound" or payment.partner_type != "customer":
                return self.env._("%(move)s is not a customer payment.", move=move.display_name)
            return ""
        if move.move_type not in FISCAL_MOVE_TYPES:
            return self.env._(
                "%(move)s is not a customer invoice or credit note: no fiscal receipt is registered for it.",
                move=move.display_name,
            )
        origin = move.reversed_entry_id
        if (
            origin
            and not mirror
            and not origin.l10n_ru_kkm_receipt_ids.filtered(
                lambda r: r.operation == "sell" and r.state != "cancelled"
            )
        ):
            return self.env._(
                "%(move)s reverses %(origin)s, whose sale was never registered with the tax office: there "
                "is nothing to refund.",
                move=move.display_name,
                origin=origin.display_name,
            )
        if (
            not mirror
            and payment_stage == "full"
            and company.l10n_ru_kkm_trigger == "paid"
            and move.payment_state not in PAID_STATES
        ):
            return self.env._(
                "%(move)s is not paid yet: %(company)s registers receipts when invoices are paid.",
                move=move.display_name,
                company=company.name,
            )
        return ""

    @api.model
    def _l10n_ru_kkm_check_rights(self, group):
        """Buttons are hidden from users without ``group``; RPC callers meet this check."""
        if self.env.su or self.env.user.has_group(group):
            return
        raise AccessError(
            self.env._(
                "You are not allowed to do this with fiscal receipts: it needs the group %(group)s.",
                group=self.env.ref(group).sudo().full_name,
            )
        )

    # -- new receipts ------------------------------------------------------------------

    @api.model
    def _new_external_id(self):
        return uuid.uuid4().hex

    @api.model
    def _l10n_ru_kkm_create_for_moves(self, moves):
        """Create the receipts of invoices that passed the gate; nothing is sent here.

        An invoice whose sale stands registered (not refunded by a re-issue) gets none.
        """
        values_list = []
        for move in moves:
            operation = "sell" if move.move_type == "out_invoice" else "sell_refund"
            standing = move.l10n_ru_kkm_receipt_ids.filtered(
                lambda r, op=operation: (
                    r.operation == op and r.state != "cancelled" and not r.origin_receipt_id
                )
            ).filtered(lambda r: not r.refund_receipt_ids.filtered(lambda refund: refund.state == "done"))
            if standing:
                continue
            stage = self._l10n_ru_kkm_payment_stage(move, operation)
            values_list.append(self._l10n_ru_kkm_values(move, operation, payment_stage=stage))
        return self._l10n_ru_kkm_create_prepared(values_list)

    @api.model
    def _l10n_ru_kkm_values(self, move, operation, **values):
        """A new receipt of ``move`` with a fresh id, on the register routing chooses (or the one
        given): its service and group are frozen on the receipt."""
        register = values.pop("register", None)
        note = ""
        if not register:
            register, note = self.env["l10n_ru_kkm.register"]._l10n_ru_kkm_route(move)
        values = {
            "company_id": move.company_id.id,
            "move_id": move.id,
            "operation": operation,
            "register_id": register.id,
            "register_note": note or False,
            "vendor": register.vendor,
            "group_code": register.atol_group_code,
            "external_id": self._new_external_id(),
            "amount_total": move.amount_total,
            **values,
        }
        if move.currency_id.id != self.env["ir.model.data"]._xmlid_to_res_id("base.RUB"):
            # Refused (problem "currency"): no foreign amount may pass for roubles.
            values["amount_total"] = False
        return values

    @api.model
    def _l10n_ru_kkm_payment_stage(self, move, operation):
        """What the receipt of a freshly posted invoice settles: everything, or (company option
        "Unpaid invoices on credit") a transfer on credit; a credit note of an unpaid credit
        sale returns no money and is refunded on credit too."""
        company = move.company_id
        if operation == "sell":
            on_credit = company.l10n_ru_kkm_credit and company.l10n_ru_kkm_trigger == "post"
            return "credit" if on_credit and move.payment_state not in PAID_STATES else "full"
        sales = move.reversed_entry_id.l10n_ru_kkm_receipt_ids.filtered(lambda r: r.operation == "sell")
        credit = sales.filtered(
            lambda r: r.payment_stage == "credit" and r.state not in ("error", "cancelled")
        )
        if credit and not sales.filtered(lambda r: r.payment_stage == "credit_payment"):
            return "credit"
        return "full"

    @api.model
    def _l10n_ru_kkm_create_prepared(self, values_list):
        """Create receipts with their request already frozen in the row (one INSERT each).

        A request that cannot be built leaves its receipt in error, visibly, with the reason.
        A receipt the gate refuses is not created, whoever asks (callers that talk to a person
        ask the gate first, to say why).
        """
        receipts = self.sudo()
        moves = self.env["account.move"].browse([values["move_id"] for values in values_list])
        values_list = [
            values
            for values, move in zip(values_list, moves, strict=True)
            if not self._l10n_ru_kkm_refusal(
                move, values.get("payment_stage", "full"), mirror=bool(values.get("origin_receipt_id"))
            )
        ]
        # One row per part: an invoice with more items than the service takes in one receipt is
        # registered as several receipts, each valid on its own (its client decides).
        values_list = [
            dict(values, **part_values)
            for values in values_list
            for part_values in receipts.new(values)._l10n_ru_kkm_request_values()
        ]
        # The invoice's chatter tells the story; the receipt needs no "created" note nor followers.
        created = receipts.with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True
        ).create(values_list)
        return created.with_env(receipts.env)  # later changes are tracked again

    def _l10n_ru_kkm_prepare(self):
        """Freeze the request again from the invoice as it is now (e.g. after a fix).

        A receipt whose request was never built may now need several parts: it becomes the
        first, the others are created beside it. Returns all the receipts concerned.
        """
        extra = self.browse()
        for receipt in self:
            first, *others = receipt._l10n_ru_kkm_request_values()
            first.pop("external_id", None)
            if first.pop("state", None) == "error":
                receipt._l10n_ru_kkm_set_state("error", **first)
                continue
            receipt._l10n_ru_kkm_write(first)
            if others:
                copied = receipt.copy_data(
                    {"state": "to_send", "origin_receipt_id": False, "resell_receipt_id": False}
                )[0]
                extra |= self.sudo().create([dict(copied, **values) for values in others])
        return self | extra.with_env(self.env)

    def _l10n_ru_kkm_request_values(self):
        """The values of each part: its frozen request and the fields that go with it, or the
        problems that block it. A receipt with a part number gives that part only."""
        self.ensure_one()
        try:
            parts = self._l10n_ru_kkm_build_requests()
        except pb.ReceiptMustWait as error:
            # The marking check could not be made: the receipt waits, without a request, and is
            # built again later (sending.py, _l10n_ru_kkm_wait_for_check).
            return [
                dict(pb.values(*error.problems), state="to_send", request_payload=False, error_code=False)
            ]
        except pb.ReceiptProblems as error:
            found = error.problems
        except UserError as error:
            found = [pb.problem("cannot_build", move=self.move_id.display_name, reason=error.args[0])]
        except ValueError as error:
            # The vendor's own rules (e.g. text Checkonline's register cannot print).
            found = [pb.problem("service_cannot_accept", reason=str(error))]
        else:
            # Due now: a receipt still waiting long after this lost its job (see the sweep).
            ready = dict(pb.CLEARED, error_kind=False, next_attempt_at=fields.Datetime.now())
            return [dict(values, request_payload=payload, **ready) for values, payload in parts]
        return [dict(pb.values(*found), state="error", error_kind="data", error_code=False)]

    def _l10n_ru_kkm_build_requests(self):
        """[(part values, vendor request)] of this receipt: one pair, or one per part when the
        service needs several receipts. A re-issue's refund repeats what was registered,
        whatever the invoice says now: the same part of a split invoice."""
        original = self.origin_receipt_id
        with self._l10n_ru_kkm_client(credentials=False) as client:
            if original:
                values = {
                    "part": original.part,
                    "part_count": original.part_count,
                    "external_id": self.external_id,
                    "amount_prepaid": original.amount_prepaid,
                    "amount_deducted": original.amount_deducted,
                    "vat_amounts": original.vat_amounts,
                }
                sign = original.fiscal_document_attribute or ""
                return [(values, client.mirror_refund(original.request_payload, self.external_id, sign))]
            data = self.env["l10n_ru_kkm.receipt.builder"]._build(self)
            parts = client.split(data)
            if self.part and (self.part > len(parts) or self.part_count not in (0, len(parts))):
                raise pb.ReceiptProblems(
                    self.env,
                    [
                        pb.problem(
                            "parts_changed",
                            move=self.move_id.display_name,
                            count=len(parts),
                            before=self.part_count,
                        )
                    ],
                )
            requests = []
            # The down payments the document itself deducts, shared over its parts' offsets.
            deducted = self.env["l10n_ru_kkm.receipt.builder"]._deducted_down_payments(self.move_id)
            for number, part in enumerate(parts, start=1):
                figures = _reconciliation_figures(part, deducted)
                deducted -= Decimal(str(figures["amount_deducted"]))
                if self.part and number != self.part:
                    continue
                # The first part keeps the receipt's id; the others get their own.
                external_id = self.external_id if (self.part or number == 1) else self._new_external_id()
                values = {
                    "part": number,
                    "part_count": len(parts),
                    "external_id": external_id,
                    "amount_total": float(part.total),
                    **figures,
                }
                requests.append((values, client.build_payload(replace(part, external_id=external_id))))
            return requests

    def _l10n_ru_kkm_client_class(self):
        """The client class of this receipt's service: what it can do (vendors.base.Client)."""
        return CLIENTS[self.vendor or self._l10n_ru_kkm_cash_register().vendor]

    def _l10n_ru_kkm_cash_register(self):
        """The receipt's cash register (the company's default for receipts made before there
        were several)."""
        self.ensure_one()
        return (self.register_id or self.company_id._l10n_ru_kkm_default_register()).sudo()

    # -- an invoice back to draft ------------------------------------------------------------

    def _l10n_ru_kkm_cancel(self):
        """Cancel receipts that the service certainly never registered, with their document's
        reset; kept, with their history, for the record."""
        for receipt in self:
            receipt._l10n_ru_kkm_set_state(
                "cancelled", needs_attention=False, next_attempt_at=False, retries_exhausted=False
            )
            receipt.message_post(
                body=self.env._(
                    "Cancelled with the reset of %(move)s to draft: the service never registered it.",
                    move=receipt.move_id.display_name,
                )
            )
        # The document may be confirmed again at once: its new receipt needs this one closed.
        self.flush_recordset(["state"])

    @api.model
    def _l10n_ru_kkm_strip_secrets(self):
        """Remove the secrets that requests frozen before 19.0.1.1.0 hold (see migrations/)."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE l10n_ru_kkm_receipt
               SET request_payload = request_payload - 'Password' - 'service'
             WHERE request_payload ? 'Password' OR request_payload ? 'service'
            """
        )
        count = self.env.cr.rowcount
        self.invalidate_model(["request_payload"])
        return count


def _reconciliation_figures(part, deducted):
    """What reconciliation compares with the books, frozen with the request
    (docs/architecture.rst, "Reconciliation"): what earlier payments paid of this receipt
    (payment type 2), the share of it that the document itself deducts (its down payments, not
    in its total), and the goods and VAT per rate."""
    prepaid = sum((p.sum for p in part.payments if p.type == rd.PAYMENT_ADVANCE), Decimal(0))
    rates = {}
    for item in part.items:
        gross, vat, items = rates.get(item.vat, (Decimal(0), Decimal(0), 0))
        rates[item.vat] = (gross + item.sum, vat + (item.vat_sum or Decimal(0)), items + 1)
    return {
        "amount_prepaid": float(prepaid),
        "amount_deducted": float(min(prepaid, max(deducted, Decimal(0)))),
        "vat_amounts": {
            code: {"gross": str(gross), "vat": str(vat), "items": items}
            for code, (gross, vat, items) in rates.items()
        },
    }
