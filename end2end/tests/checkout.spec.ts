import { test, expect, Page } from "@playwright/test";

type Outcome = "paid" | "failed" | "canceled" | "expired" | "open";

async function openShop(page: Page) {
  await page.goto("/");
  await expect(page.locator(".card")).toHaveCount(3);
}

async function waitForHydration(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

/** Clicks Buy on one article and lands on the emulator's checkout page. */
async function buy(page: Page, article: string, quantity = 1) {
  const card = page.locator(`[data-article="${article}"]`);
  await card.getByLabel("Quantity").fill(String(quantity));
  await card.getByRole("button", { name: "Buy" }).click();
  await expect(page).toHaveURL(/\/mollie\/checkout\/tr_[A-Za-z0-9]{10}$/);
}

async function choose(page: Page, outcome: Outcome) {
  await page.locator(`input[name=outcome][value=${outcome}]`).check();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/orders\/ord_[0-9a-f]{32}$/);
}

test("storefront is rendered on the server with prices and Buy buttons", async ({ page }) => {
  await openShop(page);
  await expect(page.locator('[data-article="mug"] .price')).toHaveText("€14.50");
  await expect(page.getByRole("button", { name: "Buy" })).toHaveCount(3);
  await waitForHydration(page);
  await page.screenshot({ path: "test-results/screenshots/storefront.png", fullPage: true });
});

test("buy, pick paid: the thank-you page shows paid", async ({ page }) => {
  await openShop(page);
  await waitForHydration(page);
  await buy(page, "mug", 2);
  await expect(page.getByTestId("amount")).toHaveText("EUR 29.00");
  await page.screenshot({ path: "test-results/screenshots/emulator-checkout.png", fullPage: true });
  await choose(page, "paid");
  await expect(page.getByTestId("status")).toHaveText("paid");
  await expect(page.getByTestId("status-headline")).toContainText("Thank you");
  await page.screenshot({ path: "test-results/screenshots/thank-you-paid.png", fullPage: true });
});

test("buy, pick failed: the thank-you page shows failed", async ({ page }) => {
  await openShop(page);
  await waitForHydration(page);
  await buy(page, "notebook");
  await choose(page, "failed");
  await expect(page.getByTestId("status")).toHaveText("failed");
  await page.screenshot({ path: "test-results/screenshots/thank-you-failed.png", fullPage: true });
});

test("a failed payment can be paid again on the same order", async ({ page }) => {
  await openShop(page);
  await waitForHydration(page);
  await buy(page, "tote");
  await choose(page, "failed");
  await expect(page.getByTestId("status")).toHaveText("failed");
  const orderUrl = page.url();
  await waitForHydration(page);
  await page.getByRole("button", { name: "Try paying again" }).click();
  await expect(page).toHaveURL(/\/mollie\/checkout\/tr_[A-Za-z0-9]{10}$/);
  await choose(page, "paid");
  expect(page.url()).toBe(orderUrl);
  await expect(page.getByTestId("status")).toHaveText("paid");
});

test("the thank-you page keeps polling until the status is final", async ({ page, context }) => {
  await openShop(page);
  await waitForHydration(page);
  await buy(page, "tote");
  const checkoutUrl = page.url();
  await choose(page, "open");
  await expect(page.getByTestId("status")).toHaveText("awaiting_payment");
  await waitForHydration(page);

  // The shopper pays in another tab; this page must notice without a reload.
  const otherTab = await context.newPage();
  await otherTab.goto(checkoutUrl);
  await choose(otherTab, "paid");
  await expect(page.getByTestId("status")).toHaveText("paid");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the Buy form posts and reaches the checkout page, and the order gets paid", async ({ page }) => {
    await openShop(page);
    await buy(page, "mug");
    await choose(page, "paid");
    // No polling without JavaScript: reload until the webhook has landed.
    await expect(async () => {
      await page.reload();
      await expect(page.getByTestId("status")).toHaveText("paid", { timeout: 500 });
    }).toPass({ timeout: 10_000 });
  });
});
