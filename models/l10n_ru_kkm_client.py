"""The cash register clients: each service's client class, configured from a cash
register's settings, with the token store every worker shares (docs/architecture.rst,
"Layers"). The Odoo layer opens a client here and asks it what it can do."""

import base64
import zlib
from contextlib import contextmanager

from odoo import api, models

from ..vendors import CLIENTS, ClientSettings
from ..vendors.atol import MemoryTokenStore
from ..vendors.checkonline import certificate_files
from .l10n_ru_kkm_register.pace import read_committed

# Advisory lock class of token renewals (the second key is the register id).
TOKEN_LOCK = zlib.crc32(b"l10n_ru_kkm.token") & 0x7FFFFFFF


class L10nRuKkmClient(models.AbstractModel):
    _name = "l10n_ru_kkm.client"
    _description = "Fiscal receipts: cash register clients"

    @api.model
    @contextmanager
    def _open(
        self,
        register,
        vendor=None,
        on_exchange=None,
        credentials=True,
        group_code=None,
        shared_token=True,
        token_store=None,
    ):
        """The client of ``register`` (speaking ``vendor``, its own service by default), as a
        context.

        A service that authenticates with a client certificate gets it as files, which
        ``requests`` needs: they exist, in memory, only while the context is open.
        ``credentials=False`` gives a client that can only build requests.
        """
        register = register.sudo()
        client_class = CLIENTS[vendor or register.vendor]
        if token_store is None:
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
    """The service's token shared by all workers and servers through the register's row.

    A new token is committed at once in a cursor of its own, so that other workers use it and
    a rolled-back send does not throw it away. One worker renews it at a time: the others
    wait on a lock, then read the token it stored (docs/architecture.rst, "Speed and scale").
    """

    def __init__(self, register):
        self.register = register
        self.token = register.atol_token or ""
        self.expiry = register.atol_token_expiry
        self._renewing = None

    def get(self):
        return self.token, self.expiry

    def set(self, token, expiry):
        self.token, self.expiry = token, expiry
        values = {"atol_token": token or False, "atol_token_expiry": expiry or False}
        if self._renewing is not None:
            self._store(self._renewing, values)
        else:
            with self.register.env.registry.cursor() as cr:
                read_committed(cr)
                self._store(cr, values)
        self.register.invalidate_recordset(list(values))

    @contextmanager
    def renewal(self):
        with self.register.env.registry.cursor() as cr:
            read_committed(cr)
            cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", (TOKEN_LOCK, self.register.id))
            cr.execute(
                "SELECT atol_token, atol_token_expiry FROM l10n_ru_kkm_register WHERE id = %s",
                (self.register.id,),
            )
            row = cr.fetchone()
            if row:
                self.token, self.expiry = row[0] or "", row[1]
            self._renewing = cr
            try:
                yield
            finally:
                self._renewing = None

    def _store(self, cr, values):
        self.register.with_env(self.register.env(cr=cr)).sudo().write(values)


class ThreadTokenStore:
    """The register's token for requests made from threads (a poll batch asks its groups side
    by side): read here, before the threads start; a token renewed in a thread stays in memory
    and is stored by the caller's thread afterwards (``store``), since threads open no cursor."""

    def __init__(self, register):
        self.register = register
        self.token = register.atol_token or ""
        self.expiry = register.atol_token_expiry
        self.renewed = False

    def get(self):
        return self.token, self.expiry

    def set(self, token, expiry):
        self.token, self.expiry, self.renewed = token, expiry, True

    @contextmanager
    def renewal(self):
        yield

    def store(self):
        if self.renewed:
            RegisterTokenStore(self.register).set(self.token, self.expiry)
