"""Problems are stored as codes since 19.0.1.2.0, the service's words apart (vendor_message);
the text receipts held until then is kept as what they said (docs/architecture.rst, "Problems")."""


def migrate(cr, version):
    cr.execute(
        """
        SELECT 1 FROM information_schema.columns
         WHERE table_name = 'l10n_ru_kkm_receipt' AND column_name = 'error_message'
        """
    )
    if cr.fetchone():
        cr.execute(
            """
            UPDATE l10n_ru_kkm_receipt
               SET vendor_message = error_message
             WHERE vendor_message IS NULL AND error_message IS NOT NULL
            """
        )
