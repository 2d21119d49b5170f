import { registry } from "@web/core/registry";

// Settings: an administrator fills in the seller's INN and checks the connection.
registry.category("web_tour.tours").add("l10n_ru_kkm_settings", {
    steps: () => [
        {
            content: "The fiscalization block is shown",
            trigger: "#l10n_ru_kkm_enabled",
        },
        {
            content: "Enter the seller's INN",
            trigger: "div[name='l10n_ru_kkm_inn'] input",
            run: "edit 5544332219",
        },
        {
            content: "Save the settings",
            trigger: "button.o_form_button_save",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Check the connection with the saved settings",
            trigger: "div[name='l10n_ru_kkm_inn'] input:value(5544332219)",
        },
        {
            content: "Check the connection",
            trigger: "button[name='action_l10n_ru_kkm_check_connection']",
            run: "click",
        },
        {
            content: "The service accepted the login",
            trigger: ".o_notification:contains(Connected to ATOL Online v4)",
        },
    ],
});

// Invoice: an accountant confirms an invoice; its receipt is being registered.
registry.category("web_tour.tours").add("l10n_ru_kkm_post_invoice", {
    steps: () => [
        {
            content: "Confirm the invoice",
            trigger: ".o_form_view button[name='action_post']",
            run: "click",
        },
        {
            content: "The invoice says its receipt is being registered",
            trigger: ".alert-info:contains(fiscal receipt of this invoice is being registered)",
        },
    ],
});

// Invoice again, once the service answered: the receipt is done, with its fiscal data.
registry.category("web_tour.tours").add("l10n_ru_kkm_receipt_done", {
    steps: () => [
        {
            content: "Open the fiscal receipts of the invoice",
            trigger: ".o_notebook a:contains(Fiscal receipts)",
            run: "click",
        },
        {
            content: "The receipt is done, with its FD number",
            trigger: "div[name='l10n_ru_kkm_receipt_ids'] .o_data_row:contains(Done):contains(133)",
        },
    ],
});

// A failed receipt: its error says what is wrong; once fixed, the accountant resends it.
registry.category("web_tour.tours").add("l10n_ru_kkm_resend_failed", {
    steps: () => [
        {
            content: "The error is shown on the receipt",
            trigger: ".alert-danger:contains(neither an e-mail nor a phone)",
        },
        {
            content: "Resend the receipt",
            trigger: ".o_form_view button[name='action_l10n_ru_kkm_resend']",
            run: "click",
        },
        {
            content: "The receipt waits to be sent",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(To send)",
        },
    ],
});

// Portal: the customer opens their invoice, sees its fiscal receipt and opens the receipt copy.
registry.category("web_tour.tours").add("l10n_ru_kkm_portal_receipt", {
    steps: () => [
        {
            content: "The invoice page shows the registered receipt with its QR code",
            trigger: "#l10n_ru_kkm_portal_receipts .o_l10n_ru_kkm_fiscal_receipt img[src^='data:image/png']",
        },
        {
            content: "and its fiscal data",
            trigger: "#l10n_ru_kkm_portal_receipts .o_l10n_ru_kkm_fiscal_receipt:contains(9999078900004792)",
        },
        {
            content: "Open the receipt copy",
            trigger: "#l10n_ru_kkm_portal_receipts a.o_l10n_ru_kkm_copy_link",
            async run() {
                const response = await fetch(this.anchor.getAttribute("href"));
                const text = await response.text();
                if (!response.ok || !text.includes("Кассовый чек") || !text.includes("9999078900004792")) {
                    throw new Error(`The receipt copy did not open (${response.status})`);
                }
                document.body.classList.add("o_l10n_ru_kkm_copy_opened");
            },
        },
        {
            content: "The receipt copy opened",
            trigger: "body.o_l10n_ru_kkm_copy_opened",
        },
    ],
});
