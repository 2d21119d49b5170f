"""The operator that builds receipt links serves every service since 19.0.1.3.0: its column
keeps its values under its new name (docs/architecture.rst, "The customer's receipt")."""


def migrate(cr, version):
    cr.execute(
        """
        SELECT 1 FROM information_schema.columns
         WHERE table_name = 'res_company' AND column_name = 'l10n_ru_kkm_checkonline_ofd'
        """
    )
    if cr.fetchone():
        cr.execute("ALTER TABLE res_company RENAME COLUMN l10n_ru_kkm_checkonline_ofd TO l10n_ru_kkm_ofd")
