"""HTTPS with a client certificate (Checkonline authenticates clients by mutual TLS).

A throwaway CA, server certificate and client certificates are made at test time.
"""

import tempfile

import requests

from ..sandbox import samples
from ..sandbox.server import Sandbox
from .common import KkmCase
from .pki import Pki


class TestMutualTls(KkmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = tempfile.TemporaryDirectory()
        cls.pki = Pki(cls.folder.name)

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.sb = Sandbox(
            seed=1,
            done_delay=0,
            quiet=True,
            tls_cert=self.pki.server_cert,
            tls_key=self.pki.server_key,
            tls_client_ca=self.pki.ca,
        ).start()
        self.addCleanup(self.sb.stop)
        self.url = f"{self.sb.url}/fr/api/v2/Complex"

    def test_url_is_https(self):
        self.assertTrue(self.sb.url.startswith("https://127.0.0.1:"))

    def test_client_with_certificate_succeeds(self):
        answer = requests.post(
            self.url,
            json=samples.checkonline_complex("tls-1"),
            verify=self.pki.ca,
            cert=self.pki.client,
            timeout=5,
        )
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.json()["Response"]["Error"], 0)
        self.assertEqual(self.sb.ledger()["count"], 1)

    def test_client_without_certificate_is_refused(self):
        with self.assertRaises(requests.exceptions.ConnectionError):
            requests.post(self.url, json=samples.checkonline_complex("tls-2"), verify=self.pki.ca, timeout=5)
        self.assertEqual(self.sb.ledger()["count"], 0)

    def test_certificate_of_another_ca_is_refused(self):
        with self.assertRaises(requests.exceptions.ConnectionError):
            requests.post(
                self.url,
                json=samples.checkonline_complex("tls-3"),
                verify=self.pki.ca,
                cert=self.pki.rogue,
                timeout=5,
            )
        self.assertEqual(self.sb.ledger()["count"], 0)

    def test_server_certificate_is_checked_by_the_client(self):
        with self.assertRaises(requests.exceptions.SSLError):
            requests.post(
                self.url, json=samples.checkonline_complex("tls-4"), cert=self.pki.client, timeout=5
            )

    def test_tls_needs_both_certificate_and_key(self):
        with self.assertRaises(ValueError):
            Sandbox(tls_cert=self.pki.server_cert, quiet=True)
