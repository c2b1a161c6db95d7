import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import * as fs from "fs";

// The operator scripts/test.sh configures (see admin.spec.ts).
const OPERATOR = "owner";
const PASSWORD = "e2e operator password";
const SHOPPER = "shopper@example.com";

test.describe.configure({ mode: "serial" });

fs.mkdirSync("test-results/screenshots", { recursive: true });
const shot = (page: Page, name: string) =>
  page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });

/** A paid order for one mug; its id. */
async function paidOrder(page: Page): Promise<string> {
  await page.goto("/");
  const card = page.locator('.card[data-article="mug"]');
  await card.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.locator('.cart-line[data-article="mug"]')).toBeVisible();
  await page.getByLabel("Your e-mail address").fill(SHOPPER);
  await page.getByRole("button", { name: "Checkout" }).click();
  await expect(page).toHaveURL(/\/mollie\/checkout\/tr_[A-Za-z0-9]{10}$/);
  await page.locator("input[name=outcome][value=paid]").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/orders\/ord_[0-9a-f]{32}$/);
  await expect(page.getByTestId("status")).toHaveText("paid", { timeout: 15_000 });
  return page.url().split("/").pop()!;
}

/**
 * axe-core's WCAG 2.1 A and AA rules and best practices find nothing on
 * the page. axe runs in the page, so only with JavaScript; the pages are
 * the same server-rendered HTML without it.
 */
async function expectAccessible(page: Page, javaScriptEnabled = true) {
  if (!javaScriptEnabled) return;
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"])
    .analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

async function fillForm(page: Page, order: string, email: string) {
  await page.getByLabel("Your name").fill("Ann Example");
  await page.getByLabel("Order number").fill(order);
  await page.getByLabel("The e-mail address you ordered with").fill(email);
  await page.getByRole("button", { name: "Continue" }).click();
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(javaScriptEnabled ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled });

    test("a shopper withdraws from a paid order through the form on every page", async ({ page }) => {
      const order = await paidOrder(page);
      // The function is one click from any page, the order's included.
      await page.getByRole("link", { name: "Withdraw from contract here" }).click();
      await expect(page).toHaveURL(/\/withdraw$/);
      await expect(page.getByRole("heading", { name: "Withdraw from contract here" })).toBeVisible();
      await expectAccessible(page, javaScriptEnabled);
      if (javaScriptEnabled) await shot(page, "withdraw-form");

      // Not the order's address: a plain answer, announced, and nothing changes.
      await fillForm(page, order, "someone.else@example.com");
      const refusal = page.getByRole("alert");
      await expect(refusal).toContainText("We found no order with this number and e-mail address");
      await expectAccessible(page, javaScriptEnabled);

      await fillForm(page, order, SHOPPER);
      await expect(page).toHaveURL(/\/withdraw\/confirm$/);
      const statement = page.getByTestId("statement");
      await expect(statement).toContainText("I, Ann Example, hereby give notice that I withdraw");
      await expect(statement).toContainText(order);
      await expectAccessible(page, javaScriptEnabled);
      if (javaScriptEnabled) await shot(page, "withdraw-confirm");
      await page.getByRole("button", { name: "Confirm withdrawal" }).click();
      await expect(page).toHaveURL(new RegExp(`/withdraw/received\\?order=${order}$`));
      await expect(page.getByTestId("received")).toContainText("We received your withdrawal on ");
      await expectAccessible(page, javaScriptEnabled);

      // Sent twice (back, confirm again): one withdrawal, a plain answer.
      await page.goto("/withdraw");
      await fillForm(page, order, SHOPPER);
      await expect(page.getByRole("alert")).toContainText("We received your withdrawal from this order already");

      // The back office: in the queue to refund, the acknowledgement sent, logged.
      await page.goto("/admin");
      await page.getByLabel("Name").fill(OPERATOR);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.goto("/admin?status=withdrawals");
      await expect(page.locator(`tr[data-order="${order}"]`)).toContainText("withdrawal to refund");
      await page.goto(`/admin/orders/${order}`);
      await expect(page.getByTestId("withdrawal")).toContainText("from Ann Example: refund by");
      await expect(page.getByTestId("audit-log")).toContainText("withdrawal from the contract received");
      const ack = page.locator('[data-event-type="withdrawal.received"]');
      await expect(ack.getByTestId("message-subject")).toContainText("we received your withdrawal");
      await expect(async () => {
        await page.reload();
        await expect(ack).toContainText("shopper_mail: sent", { timeout: 1_000 });
      }).toPass({ timeout: 15_000 });
      if (javaScriptEnabled) await shot(page, "admin-withdrawal");
    });
  });
}

test("an unpaid order, or one that is not there, cannot be withdrawn from", async ({ page }) => {
  await page.goto("/withdraw");
  await fillForm(page, "ord_00000000000000000000000000000000", SHOPPER);
  await expect(page.getByRole("alert")).toContainText("We found no order with this number");
  await fillForm(page, "not an order", SHOPPER);
  await expect(page.getByRole("alert")).toContainText("We found no order with this number");
  await page.getByLabel("Your name").fill("");
  await expectAccessible(page);
});
