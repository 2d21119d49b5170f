-- A copied database must never register receipts with the tax office: back to the vendor's
-- test environment, without the service URL override, the credentials, the cached token and the
-- Checkonline certificate (see README, Security).
UPDATE res_company
   SET l10n_ru_kkm_test_mode = TRUE,
       l10n_ru_kkm_service_url = NULL,
       l10n_ru_kkm_atol_password = NULL,
       l10n_ru_kkm_atol_token = NULL,
       l10n_ru_kkm_atol_token_expiry = NULL,
       l10n_ru_kkm_checkonline_certificate_id = NULL;
