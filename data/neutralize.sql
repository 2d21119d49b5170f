-- A copied database must never register receipts with the tax office: every cash register back
-- to the vendor's test environment, without the service URL override, the credentials, the
-- cached token and the Checkonline certificate (see README, Security).
UPDATE l10n_ru_kkm_register
   SET test_mode = TRUE,
       service_url = NULL,
       atol_password = NULL,
       atol_token = NULL,
       atol_token_expiry = NULL,
       checkonline_certificate_id = NULL;
-- ... nor check marking codes with the company's own credentials (permissive mode).
UPDATE res_company
   SET l10n_ru_kkm_mark_url = NULL,
       l10n_ru_kkm_mark_api_key = NULL,
       l10n_ru_kkm_mark_local_password = NULL;
