"""The cash register clients: each service's client class, configured from a cash
register's settings, with the token store every worker shares (docs/architecture.rst,
"Layers"). The Odoo layer opens a client here and asks it what it can do."""

import base64
from contextlib import contextmanager

from odoo import api, models

from ..vendors import CLIENTS, ClientSettings
from ..vendors.atol import MemoryTokenStore
from ..vendors.checkonline import certificate_files


class L10nRuKkmClient(models.AbstractModel):
    _name = "l10n_ru_kkm.client"
    _description = "Fiscal receipts: cash register clients"

    @api.model
    @contextmanager
    def _open(
        self, register, vendor=None, on_exchange=None, credentials=True, group_code=None, shared_token=True
    ):
        """The client of ``register`` (speaking ``vendor``, its own service by default), as a
        context.

        A service that authenticates with a client certificate gets it as files, which
        ``requests`` needs: they exist, in memory, only while the context is open.
        ``credentials=False`` gives a client that can only build requests.
        """
        register = register.sudo()
        client_class = CLIENTS[vendor or register.vendor]
        token_store = RegisterTokenStore(register) if shared_token else MemoryTokenStore()
        certificate = register.checkonline_certificate_id
        if not (credentials and client_class.needs_certificate and certificate):
            settings = self._settings(register, group_code)
            yield client_class(
                client_class.configure(settings), token_store=token_store, on_exchange=on_exchange
            )
            return
        key = certificate.private_key_id
        with certificate_files(
            base64.b64decode(certificate.pem_certificate), base64.b64decode(key.pem_key), key.password or None
        ) as (cert_file, key_file):
            settings = self._settings(register, group_code, cert_file=cert_file, key_file=key_file)
            yield client_class(
                client_class.configure(settings), token_store=token_store, on_exchange=on_exchange
            )

    @api.model
    def _settings(self, register, group_code=None, **values):
        # A private CA for test endpoints such as the sandbox (technical parameter).
        ca_bundle = self.env["ir.config_parameter"].sudo().get_param("l10n_ru_kkm.ca_bundle")
        return ClientSettings(
            test_mode=register.test_mode,
            base_url=register.service_url or "",
            login=register.atol_login or "",
            password=register.atol_password or "",
            group_code=group_code or register.atol_group_code or "",
            verify=ca_bundle or None,
            device_group=register.checkonline_group or "",
            client_id=register.checkonline_client_id or "",
            cashier_password=register.checkonline_password or 1,
            tax_ids=register._l10n_ru_kkm_checkonline_tax_map(),
            ofd=register.ofd or "",
            **values,
        )


class RegisterTokenStore:
    """The service's token shared by all workers through the register's row.

    A new token is committed at once in a cursor of its own, so that other workers use it and
    a rolled-back send does not throw it away.
    """

    def __init__(self, register):
        self.register = register
        self.token = register.atol_token or ""
        self.expiry = register.atol_token_expiry

    def get(self):
        return self.token, self.expiry

    def set(self, token, expiry):
        self.token, self.expiry = token, expiry
        values = {"atol_token": token or False, "atol_token_expiry": expiry or False}
        with self.register.env.registry.cursor() as cr:
            self.register.with_env(self.register.env(cr=cr)).sudo().write(values)
        self.register.invalidate_recordset(list(values))
