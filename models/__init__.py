# The receipt and its builder first (the other models refer to them), then one file per model.
# isort: skip_file
from . import l10n_ru_kkm_receipt, l10n_ru_kkm_receipt_builder
from . import (
    account_move,
    account_move_line,
    account_move_send,
    account_payment,
    account_tax,
    certificate,
    demo,
    l10n_ru_kkm_cli,
    l10n_ru_kkm_client,
    l10n_ru_kkm_discrepancy,
    l10n_ru_kkm_mark_check,
    l10n_ru_kkm_reconciliation_total,
    l10n_ru_kkm_register,
    l10n_ru_kkm_receipt_attempt,
    mail_tracking_value,
    product_category,
    product_template,
    res_company,
    res_config_settings,
    uom_uom,
)
