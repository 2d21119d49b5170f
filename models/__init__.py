from . import (
    account_move,
    account_move_line,
    account_tax,
    certificate,
    cli_service,
    demo,
    kkm_receipt,
    kkm_receipt_actions,
    kkm_receipt_attempt,
    kkm_receipt_queue,
    kkm_receipt_resell,
    kkm_receipt_sending,
    kkm_report,
    product_template,
    receipt_builder,
    receipt_checks,
    receipt_credit,  # extends the builder: after it
    receipt_discount,
    receipt_prepayment,  # extends the builder too
    res_company,
    res_config_settings,
    uom_uom,
)
