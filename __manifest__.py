{
    "name": "Russia - Fiscal receipts (54-FZ): ATOL Online, Checkonline",
    "version": "19.0.1.0.0",
    "summary": "Register a fiscal receipt for every customer invoice and credit note "
    "through ATOL Online (FFD 1.05 / 1.2) or Checkonline, exactly once",
    "category": "Accounting/Localizations",
    "author": "l10n_ru_kkm developers",
    "license": "LGPL-3",
    "depends": ["account", "queue_job"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/l10n_ru_kkm_security.xml",
        "data/queue_job_data.xml",
        "data/ir_cron.xml",
        "data/mail_activity_type_data.xml",
        "views/kkm_receipt_views.xml",
        "views/account_move_views.xml",
        "views/account_tax_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "demo": ["demo/demo_company.xml"],
}
