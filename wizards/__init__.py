from . import (
    l10n_ru_kkm_correction_wizard,
    l10n_ru_kkm_receipt_renew_wizard,
    l10n_ru_kkm_receipt_resell_wizard,
    l10n_ru_kkm_receipt_resend_wizard,
    l10n_ru_kkm_reconciliation_wizard,
    l10n_ru_kkm_report_wizard,
    l10n_ru_kkm_vat_code_wizard,
    l10n_ru_kkm_vat_code_wizard_line,
)
