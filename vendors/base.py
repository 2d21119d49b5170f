"""What every cash register client offers, and what it can do (docs/architecture.rst, "Vendors").

The Odoo layer holds a client and asks it: it never compares service names. Adding a service
is adding a subclass (a package under ``vendors/`` when it is large), registering it in
``vendors.CLIENTS``, and its tests.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from . import receipt as rd
from .transport import Transport


@dataclass(frozen=True)
class ClientSettings:
    """The company's settings as the Odoo layer hands them over; each client takes its own."""

    test_mode: bool = True
    base_url: str = ""  # replaces the official host, e.g. the sandbox
    login: str = ""
    password: str = ""
    group_code: str = ""
    cert_file: str = ""  # a TLS client certificate and its key, as file paths
    key_file: str = ""
    verify: object = None  # a CA bundle for test endpoints; None: the system's
    device_group: str = ""
    client_id: str = ""
    cashier_password: int = 1
    tax_ids: Mapping = None  # VAT code -> the service's own tax number, where it differs
    ofd: str = ""  # the fiscal data operator, for the receipt link


class Client:
    """One cash register service speaking one protocol.

    A client takes its configuration (``configure`` builds it from the neutral settings the
    Odoo layer gives), an injected ``requests.Session`` and an ``on_exchange`` callback that
    receives one ``outcome.Exchange`` per HTTP exchange, secrets masked.
    """

    code = ""  # the value of the company's "Cash register service" setting
    label = ""
    service = ""  # the service's name in transport errors
    # -- capabilities (the Odoo layer reads these; it never compares codes) --------------
    is_synchronous = False  # register() answers with the fiscal data: no status request
    supports_callbacks = False  # the service posts the result back to the database
    correction_operations = ()  # operations of correction receipts it registers
    correction_number_always = False  # a correction names its basis document even on the seller's initiative
    supports_credit = False  # transfers on credit, their payment, advances (tag 1214 = 3, 6, 7)
    supports_agents = False  # agent and supplier data (tags 1222-1226)
    marking = ""  # how marking codes travel: "" (refused), "gtin_serial" (FFD 1.05), "full_code" (FFD 1.2)
    # an item's industry requisite (tag 1260), which carries the permissive mode's marking check
    industry_props = False
    max_items = None  # items per receipt; None: no limit documented
    needs_certificate = False  # authenticates with a TLS client certificate (else login and password)
    needs_group_code = False  # its account is a group of registers, named in the settings
    other_version = ""  # the code of the protocol version the same account may speak instead

    def __init__(self, config, session=None, on_exchange=None, token_store=None):
        self.config = config
        self.on_exchange = on_exchange or (lambda exchange: None)
        self.token_store = token_store
        self.transport = Transport(
            self.service, session, self.on_exchange, config.connect_timeout, config.read_timeout
        )
        self.session = self.transport.session

    @classmethod
    def configure(cls, settings):
        """This client's configuration from the neutral settings (``ClientSettings``)."""
        raise NotImplementedError

    # -- receipts ------------------------------------------------------------------------

    def split(self, receipt):
        """The receipts that carry ``receipt`` within this service's limits (one, usually)."""
        return rd.split(receipt, self.max_items)

    def build_payload(self, receipt):
        raise NotImplementedError

    def describe(self, payload, operation):
        """``payload``, a request this client built for ``operation``, read back as a
        ``receipt_copy.ReceiptCopy`` for the customer's copy of the receipt."""
        raise NotImplementedError

    def mirror_refund(self, payload, external_id, fiscal_sign):
        """The refund request that repeats a registered sale's request ``payload`` (resell)."""
        raise NotImplementedError

    @staticmethod
    def unprintable(text):
        """The characters of ``text`` the register cannot keep (none, unless said otherwise)."""
        return []

    @classmethod
    def mark_code_accepted(cls, code):
        """Whether a marking code can travel in this protocol as it is."""
        return bool(cls.marking)

    # -- the service -------------------------------------------------------------------

    def register(self, operation, payload, callback_url=""):
        raise NotImplementedError

    def report(self, reference, payload=None):
        """The result of a registered document (services that are not synchronous)."""
        raise NotImplementedError

    def check_connection(self):
        raise NotImplementedError

    @classmethod
    def wrong_version(cls, outcome):
        """Whether a failed ``outcome`` says the account speaks ``other_version``."""
        return False
