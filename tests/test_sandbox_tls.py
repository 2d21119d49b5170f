"""HTTPS with a client certificate (Checkonline authenticates clients by mutual TLS).

A throwaway CA, server certificate and client certificates are made at test time.
"""

import datetime
import ipaddress
import os
import tempfile
import unittest

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..sandbox import samples
from ..sandbox.server import Sandbox


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(key, subject, issuer_key, issuer, *, ca=False, usage=None, names=None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class _Pki:
    """CA + server certificate + a client certificate it signed + one signed by another CA."""

    def __init__(self, folder):
        self.folder = folder
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _certificate(ca_key, _name("kkm test CA"), ca_key, _name("kkm test CA"), ca=True)
        self.ca = self._write("ca.pem", ca)
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = _certificate(
            server_key,
            _name("127.0.0.1"),
            ca_key,
            ca.subject,
            usage=ExtendedKeyUsageOID.SERVER_AUTH,
            names=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
        )
        self.server_cert, self.server_key = (
            self._write("server.pem", server),
            self._write_key("server.key", server_key),
        )
        client_key = ec.generate_private_key(ec.SECP256R1())
        client = _certificate(
            client_key, _name("shop"), ca_key, ca.subject, usage=ExtendedKeyUsageOID.CLIENT_AUTH
        )
        self.client = (self._write("client.pem", client), self._write_key("client.key", client_key))
        rogue_ca_key = ec.generate_private_key(ec.SECP256R1())
        rogue_key = ec.generate_private_key(ec.SECP256R1())
        rogue = _certificate(
            rogue_key, _name("shop"), rogue_ca_key, _name("other CA"), usage=ExtendedKeyUsageOID.CLIENT_AUTH
        )
        self.rogue = (self._write("rogue.pem", rogue), self._write_key("rogue.key", rogue_key))

    def _write(self, name, certificate):
        path = os.path.join(self.folder, name)
        with open(path, "wb") as handle:
            handle.write(certificate.public_bytes(serialization.Encoding.PEM))
        return path

    def _write_key(self, name, key):
        path = os.path.join(self.folder, name)
        with open(path, "wb") as handle:
            handle.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        return path


class TestMutualTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = tempfile.TemporaryDirectory()
        cls.pki = _Pki(cls.folder.name)

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
