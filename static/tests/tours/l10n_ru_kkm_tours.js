import { registry } from "@web/core/registry";

// Settings: an administrator corrects the ATOL login and checks the connection at once, without
// saving first: the button saves, then checks what is on the screen.
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
            content: "Correct the ATOL login",
            trigger: "div[name='l10n_ru_kkm_atol_login'] input",
            run: "edit good-login",
        },
        {
            content: "Check the connection with the changes not saved",
            trigger: "button[name='action_l10n_ru_kkm_check_connection']",
            run: "click",
        },
        {
            content: "The service accepted the login on the first click",
            trigger: ".o_notification:contains(Connected to ATOL Online v4)",
        },
        {
            content: "and no dialog asked to save first",
            trigger: "body:not(:has(.modal))",
        },
    ],
});

// The widths of what the module's settings show: no label, help or value is cut.
function overflowing(root) {
    const canvas = document.createElement("canvas").getContext("2d");
    const cut = [];
    const visible = (el) => el.offsetParent !== null && el.clientWidth > 0;
    for (const el of root.querySelectorAll(
        "label, .o_form_label, .text-muted, span.o_field_widget, .o_field_widget input, .o_field_widget select, .o_field_radio .form-check-label"
    )) {
        if (!visible(el)) {
            continue;
        }
        let needed = el.scrollWidth;
        let available = el.clientWidth;
        if (el.tagName === "SELECT") {
            // A select does not scroll: measure its shown text against its inner width.
            const style = getComputedStyle(el);
            canvas.font = style.font;
            needed = canvas.measureText(el.options[el.selectedIndex]?.text || "").width;
            available =
                el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        }
        if (needed > available + 1) {
            cut.push(`${el.tagName}.${el.className} "${(el.value || el.textContent).trim()}" ${needed}>${available}`);
        }
    }
    return cut;
}

// Settings, in English and in Russian: every label, help and value of the module's settings fits
// its box, and each checkbox is beside its label.
function settingsFitSteps(sellerTitle) {
    return [
        {
            content: "The fiscalization settings are shown in the user's language",
            trigger: `#l10n_ru_kkm_seller:contains(${sellerTitle})`,
        },
        {
            content: "Nothing of the module's settings overflows its box",
            trigger: "#l10n_ru_kkm_enabled",
            run() {
                const boxes = [...document.querySelectorAll(".o_setting_box[id^='l10n_ru_kkm_']")];
                if (boxes.length < 10) {
                    throw new Error(`Only ${boxes.length} settings of the module are shown`);
                }
                const cut = boxes.flatMap((box) => overflowing(box).map((what) => `${box.id}: ${what}`));
                if (cut.length) {
                    throw new Error(`Cut in the settings:\n${cut.join("\n")}`);
                }
                const checkboxes = boxes.filter((box) => box.querySelector(".o_setting_left_pane .o_field_boolean"));
                for (const box of checkboxes) {
                    const check = box.querySelector(".o_setting_left_pane").getBoundingClientRect();
                    const label = box.querySelector(".o_setting_right_pane .o_form_label").getBoundingClientRect();
                    if (Math.abs(check.top - label.top) > 12 || label.left - check.right > 40) {
                        throw new Error(`The checkbox of ${box.id} is not beside its label`);
                    }
                }
                document.body.classList.add("o_l10n_ru_kkm_settings_fit");
            },
        },
        {
            content: "The widths were checked",
            trigger: "body.o_l10n_ru_kkm_settings_fit",
        },
    ];
}

registry.category("web_tour.tours").add("l10n_ru_kkm_settings_fit_ru", {
    steps: () => settingsFitSteps("Продавец в чеке"),
});

registry.category("web_tour.tours").add("l10n_ru_kkm_settings_fit_en", {
    steps: () => settingsFitSteps("Seller on the receipt"),
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

// The demo's story, in Russian: the accountant confirms the order with a discount; its receipt
// is being registered.
registry.category("web_tour.tours").add("l10n_ru_kkm_demo_post", {
    steps: () => [
        {
            content: "The demo order with its discount, marked goods and the agent's book",
            trigger: ".o_form_view:contains(Кроссовки беговые):contains(Кассовая дисциплина)",
        },
        {
            content: "Confirm the invoice",
            trigger: ".o_form_view button[name='action_post']",
            run: "click",
        },
        {
            content: "The invoice says, in Russian, that its receipt is being registered",
            trigger: ".alert-info:contains(Фискальный чек по этому счёту регистрируется)",
        },
    ],
});

// Once the service registered it: no banner, the receipt done.
registry.category("web_tour.tours").add("l10n_ru_kkm_demo_done", {
    steps: () => [
        {
            content: "No banner is left on the invoice",
            trigger: ".o_form_view .o_form_sheet_bg:not(:has(.alert-info, .alert-danger))",
        },
        {
            content: "Open the fiscal receipts of the invoice",
            trigger: ".o_notebook a:contains(Фискальные чеки)",
            run: "click",
        },
        {
            content: "The receipt is done",
            trigger: "div[name='l10n_ru_kkm_receipt_ids'] .o_data_row:contains(Зарегистрирован)",
        },
    ],
});

// The registered receipt, named in Russian, and its copy printed.
registry.category("web_tour.tours").add("l10n_ru_kkm_demo_copy", {
    steps: () => [
        {
            content: "The receipt is named in Russian",
            trigger: ".o_form_view h1:contains(Приход)",
        },
        {
            content: "Print the receipt copy",
            trigger: ".o_form_view h1:contains(Приход)",
            async run() {
                const id = window.location.pathname.split("/").filter((part) => /^\d+$/.test(part)).pop();
                const response = await fetch(`/report/html/l10n_ru_kkm.report_receipt_copy/${id}`);
                const text = await response.text();
                if (!response.ok || !text.includes("Кассовый чек") || !text.includes("Кроссовки беговые")) {
                    throw new Error(`The receipt copy did not print (${response.status})`);
                }
                document.body.classList.add("o_l10n_ru_kkm_copy_printed");
            },
        },
        {
            content: "The receipt copy printed",
            trigger: "body.o_l10n_ru_kkm_copy_printed",
        },
    ],
});
