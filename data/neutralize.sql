-- A copied database must never register receipts with the tax office: back to test mode,
-- without the production token.
UPDATE res_company
   SET l10n_ru_kkm_test_mode = TRUE,
       l10n_ru_kkm_atol_token = NULL,
       l10n_ru_kkm_atol_token_expiry = NULL;
