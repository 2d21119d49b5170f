"""ATOL Online request bodies: a neutral ``receipt.Receipt`` in protocol v4 (FFD 1.05) and v5
(FFD 1.2) form. Plain functions of the two payload classes the clients inherit."""

import base64

from .. import receipt as rd
from .. import receipt_copy as rc
from .protocol import ADDITIONAL_PROPS_MAX, NAME_MAX, TIMESTAMP_FORMAT, VATS_MAX, v4_nomenclature_code


def _money(value):
    """Decimal kopecks to a JSON number with at most two decimals."""
    return float(value)


def _quantity(value):
    return float(value)


class V4Payload:
    """Protocol v4 (FFD 1.05): string payment objects, free-text units, corrections by VAT totals."""

    def build_payload(self, receipt):
        """The registration body for a neutral ``receipt.Receipt``."""
        if receipt.correction:
            return self._correction_payload(receipt)
        body = {
            "timestamp": receipt.timestamp.strftime(TIMESTAMP_FORMAT),
            "external_id": receipt.external_id,
            "receipt": {
                "client": self._client(receipt.client),
                "company": self._company(receipt.company),
                "items": [self._item(item) for item in receipt.items],
                "payments": self._payments(receipt),
                "total": _money(receipt.total),
            },
        }
        vats = rd.vat_totals(receipt.items)
        # The receipt holds at most six VAT totals; beyond, the register adds up the items' VAT.
        if 0 < len(vats) <= VATS_MAX:
            body["receipt"]["vats"] = [{"type": code, "sum": _money(amount)} for code, amount in vats.items()]
        if receipt.cashier:
            body["receipt"]["cashier"] = receipt.cashier
        return body

    def describe(self, payload, operation):
        """The registered request read back for the customer's copy (``receipt_copy``)."""
        payload = payload if isinstance(payload, dict) else {}
        document = payload.get("receipt") or payload.get("correction") or {}
        company = document.get("company") or {}
        client = document.get("client") or {}
        info = document.get("correction_info") or {}
        items = tuple(self._described_item(item) for item in rc.records(document.get("items")))
        payments = tuple(
            (rc.integer(payment.get("type")), rc.decimal(payment.get("sum")))
            for payment in rc.records(document.get("payments"))
        )
        vats = tuple(
            (vat.get("type", ""), rc.decimal(vat.get("sum"))) for vat in rc.records(document.get("vats"))
        )
        total = document.get("total")
        return rc.ReceiptCopy(
            operation=operation,
            items=items,
            payments=payments,
            total=rc.decimal(total)
            if total is not None
            else sum((amount for _type, amount in payments), rc.decimal(0)),
            vats=vats or rc.vat_totals(items),
            sno=company.get("sno", ""),
            inn=company.get("inn", ""),
            payment_address=company.get("payment_address", ""),
            seller_email=company.get("email", ""),
            client_contact=client.get("email") or client.get("phone") or "",
            client_name=client.get("name", ""),
            client_inn=client.get("inn", ""),
            internet=bool(document.get("internet")),
            cashier=document.get("cashier", ""),
            correction=(info.get("type", ""), info.get("base_date", ""), info.get("base_number", ""))
            if info
            else (),
        )

    def _described_item(self, item):
        vat = item.get("vat") or {}
        gross = rc.decimal(item.get("sum"))
        return rc.CopyItem(
            name=str(item.get("name", "")),
            price=rc.decimal(item.get("price")),
            quantity=rc.decimal(item.get("quantity"), "0.001"),
            sum=gross,
            vat=vat.get("type", ""),
            vat_sum=rc.item_vat(vat.get("type", ""), gross, vat.get("sum")),
            payment_method=item.get("payment_method", ""),
            payment_object=self._described_object(item),
            measure=self._described_measure(item),
        )

    @staticmethod
    def _described_object(item):
        return rd.FFD12_PAYMENT_OBJECTS.get(item.get("payment_object"))

    @staticmethod
    def _described_measure(item):
        return str(item.get("measurement_unit", ""))

    def mirror_refund(self, payload, external_id, fiscal_sign):
        """The sale's request as a refund under ``external_id``, naming the sale's fiscal sign as
        additional attribute (tag 1192)."""
        refund = dict(payload, external_id=external_id)
        refund.pop("service", None)  # requests frozen before callbacks were added at send time
        refund["receipt"] = dict(
            payload["receipt"], additional_check_props=fiscal_sign[:ADDITIONAL_PROPS_MAX]
        )
        return refund

    @staticmethod
    def _payments(receipt):
        return [{"type": payment.type, "sum": _money(payment.sum)} for payment in receipt.payments]

    def _correction_payload(self, receipt):
        """A correction document (protocol v4 §6.2 table 3): no items, VAT totals per rate."""
        company = self._company(receipt.company)
        company.pop("email", None)
        correction = {
            "company": company,
            "correction_info": self._correction_info(receipt.correction),
            "payments": self._payments(receipt),
            "vats": self._vat_totals(receipt.items),
        }
        if receipt.cashier:
            correction["cashier"] = receipt.cashier
        return self._correction_envelope(receipt, correction)

    @staticmethod
    def _correction_envelope(receipt, correction):
        return {
            "timestamp": receipt.timestamp.strftime(TIMESTAMP_FORMAT),
            "external_id": receipt.external_id,
            "correction": correction,
        }

    @staticmethod
    def _correction_info(correction):
        info = {"type": correction.type, "base_date": correction.base_date.strftime("%d.%m.%Y")}
        if correction.base_number:
            info["base_number"] = correction.base_number
        return info

    @staticmethod
    def _vat_totals(items):
        """VAT per rate of the items, computed on each rate's total (tags 1102-1107)."""
        totals = {}
        for item in items:
            totals[item.vat] = totals.get(item.vat, 0) + item.sum
        vats = []
        for code, gross in totals.items():
            amount = rd.vat_amount(code, gross)
            vats.append({"type": code, "sum": _money(amount if amount is not None else 0)})
        return vats

    @staticmethod
    def _client(client):
        values = {"email": client.email, "phone": client.phone, "name": client.name, "inn": client.inn}
        return {key: value for key, value in values.items() if value}

    @staticmethod
    def _company(company):
        values = {
            "email": company.email,
            "sno": company.sno,
            "inn": company.inn,
            "payment_address": company.payment_address,
            "location": company.location,
        }
        return {key: value for key, value in values.items() if value}

    def _item(self, item):
        values = {
            "name": rd.shortened(item.name, NAME_MAX),
            "price": _money(item.price),
            "quantity": _quantity(item.quantity),
            "sum": _money(item.sum),
            "payment_method": item.payment_method,
            "payment_object": item.payment_object,
            "vat": self._vat(item),
        }
        if item.measurement_unit:
            values["measurement_unit"] = item.measurement_unit
        if item.mark_code:
            values["nomenclature_code"] = v4_nomenclature_code(item.mark_code)
        if item.agent:
            values.update(self._agent(item.agent))
        return values

    @staticmethod
    def _agent(agent):
        supplier = {"name": agent.supplier_name, "inn": agent.supplier_inn}
        if agent.supplier_phones:
            supplier["phones"] = list(agent.supplier_phones)
        return {"agent_info": {"type": agent.type}, "supplier_info": supplier}

    @staticmethod
    def _vat(item):
        vat = {"type": item.vat}
        if item.vat_sum is not None:
            vat["sum"] = _money(item.vat_sum)
        return vat


class V5Payload(V4Payload):
    """Protocol v5 (FFD 1.2): integer payment objects, mandatory measure, no free-text unit,
    whole marking codes, corrections with items."""

    def build_payload(self, receipt):
        body = super().build_payload(receipt)
        document = body["correction"] if receipt.correction else body["receipt"]
        if receipt.internet and not receipt.correction:
            document["internet"] = True  # tag 1125, mandatory for online sales since 09.2025
        if receipt.cashier_inn:
            document["cashier_inn"] = receipt.cashier_inn
        return body

    @staticmethod
    def _correction_info(correction):
        info = V4Payload._correction_info(correction)
        if correction.type != "instruction":
            info.pop("base_number", None)  # tag 1179 names the tax office's order only
        return info

    def _correction_payload(self, receipt):
        """FFD 1.2 correction (protocol v5): items, payments and total like a receipt."""
        correction = {
            "company": self._company(receipt.company),
            "correction_info": self._correction_info(receipt.correction),
            "items": [self._item(item) for item in receipt.items],
            "payments": self._payments(receipt),
            "total": _money(receipt.total),
        }
        client = self._client(receipt.client)
        if client:
            correction["client"] = client
        if receipt.cashier:
            correction["cashier"] = receipt.cashier
        return self._correction_envelope(receipt, correction)

    @staticmethod
    def _described_object(item):
        return rc.integer(item.get("payment_object")) or None

    @staticmethod
    def _described_measure(item):
        return rc.label(rc.MEASURE_LABELS, item.get("measure"))

    def _item(self, item):
        values = super()._item(item)
        values.pop("measurement_unit", None)
        values["payment_object"] = rd.ffd12_payment_object(item)
        values["measure"] = item.measure
        if values.pop("nomenclature_code", None):
            # FFD 1.2 (tag 1163): the whole code, separators included, in base64; a marked
            # unit is counted in pieces.
            values["mark_code"] = {"gs1m": base64.b64encode(item.mark_code.encode()).decode()}
            values["mark_processing_mode"] = "0"
            values["measure"] = rd.MEASURE_PIECE
        if item.industry_props:
            # Tag 1260: the permissive mode's check of the code (vendors/marking).
            values["sectoral_item_props"] = [
                {"federal_id": prop.federal_id, "date": prop.date, "number": prop.number, "value": prop.value}
                for prop in item.industry_props
            ]
        return values
