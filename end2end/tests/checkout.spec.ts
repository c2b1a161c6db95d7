import { test, expect, Page, APIRequestContext } from "@playwright/test";
import * as fs from "fs";

// The emulator's faults are global to the server: one test at a time.
test.describe.configure({ mode: "serial" });

type Outcome = "paid" | "failed" | "canceled" | "expired" | "open";
const CHECKOUT_PAGE = /\/mollie\/checkout\/tr_[A-Za-z0-9]{10}$/;
const ORDER_PAGE = /\/orders\/ord_[0-9a-f]{32}$/;

fs.mkdirSync("test-results/screenshots", { recursive: true });
const shot = (page: Page, name: string) =>
  page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });

async function setFaults(request: APIRequestContext, faults: object) {
  const response = await request.put("/mollie/_emulator/faults", { data: faults });
  expect(response.status()).toBe(204);
}

async function paymentsCreated(request: APIRequestContext): Promise<number> {
  const response = await request.get("/mollie/_emulator/stats");
  return (await response.json()).paymentsCreated;
}

test.afterEach(async ({ request }) => {
  await setFaults(request, {});
});

async function openShop(page: Page) {
  await page.goto("/");
  await expect(page.locator(".card")).toHaveCount(4);
}

async function waitForHydration(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

async function addToCart(page: Page, article: string, quantity = 1) {
  const card = page.locator(`.card[data-article="${article}"]`);
  await card.getByLabel("Quantity").fill(String(quantity));
  await card.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.locator(`.cart-line[data-article="${article}"]`)).toBeVisible();
}

/** A fresh shop, one article in the cart, checkout: lands on the emulator. */
async function buy(page: Page, article: string, quantity = 1) {
  await openShop(page);
  await waitForHydration(page);
  await addToCart(page, article, quantity);
  await page.getByLabel("Your e-mail address").fill("shopper@example.com");
  await page.getByRole("button", { name: "Checkout" }).click();
  await expect(page).toHaveURL(CHECKOUT_PAGE);
}

async function choose(page: Page, outcome: Outcome) {
  await page.locator(`input[name=outcome][value=${outcome}]`).check();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(ORDER_PAGE);
}

test("the storefront is rendered on the server, with prices and a cart", async ({ page }) => {
  await openShop(page);
  await expect(page.locator('.card[data-article="mug"] .price')).toHaveText("€14.50");
  await expect(page.getByRole("button", { name: "Add to cart" })).toHaveCount(4);
  await expect(page.locator(".cart-empty")).toHaveText("Your cart is empty.");
  await expect(page.getByRole("button", { name: "Checkout" })).toBeDisabled();
  await waitForHydration(page);
  await shot(page, "storefront");
});

test("the cart adds, changes and removes lines, totals on the server, and survives a reload", async ({ page }) => {
  await openShop(page);
  await waitForHydration(page);
  await addToCart(page, "mug", 2);
  await addToCart(page, "tote", 1);
  await expect(page.getByTestId("cart-total")).toHaveText("€47.00");
  await addToCart(page, "mug", 1);
  await expect(page.locator('.cart-line[data-article="mug"] input[name=quantity][type=number]')).toHaveValue("3");
  await expect(page.getByTestId("cart-total")).toHaveText("€61.50");

  const tote = page.locator('.cart-line[data-article="tote"]');
  await tote.locator("input[type=number]").fill("2");
  await tote.getByRole("button", { name: "Update" }).click();
  await expect(page.getByTestId("cart-total")).toHaveText("€79.50");
  await shot(page, "storefront-cart");

  await page.reload();
  await expect(page.getByTestId("cart-total")).toHaveText("€79.50");
  await waitForHydration(page);
  await page.locator('.cart-line[data-article="mug"]').getByRole("button", { name: "Remove" }).click();
  await expect(page.locator('.cart-line[data-article="mug"]')).toHaveCount(0);
  await expect(page.getByTestId("cart-total")).toHaveText("€36.00");
});

test("the storefront and the thank-you page fit a phone's screen", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openShop(page);
  await waitForHydration(page);
  await addToCart(page, "notebook", 1);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(await overflow()).toBeLessThanOrEqual(0);
  await shot(page, "storefront-phone");
  await page.getByLabel("Your e-mail address").fill("shopper@example.com");
  await page.getByRole("button", { name: "Checkout" }).click();
  await expect(page).toHaveURL(CHECKOUT_PAGE);
  await choose(page, "paid");
  await expect(page.getByTestId("status")).toHaveText("paid");
  expect(await overflow()).toBeLessThanOrEqual(0);
  await shot(page, "thank-you-phone");
});

test("a quantity the shop refuses gets a message in plain words", async ({ page }) => {
  await openShop(page);
  await waitForHydration(page);
  await addToCart(page, "mug", 99);
  const card = page.locator('.card[data-article="mug"]');
  await card.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByRole("alert")).toContainText("Quantity must be between 1 and 99");
  await expect(page.locator('.cart-line[data-article="mug"] input[type=number]')).toHaveValue("99");
});

test("the provider is down: a message, the cart kept, and a retry that works", async ({ page, request }) => {
  await openShop(page);
  await waitForHydration(page);
  await addToCart(page, "mug", 1);
  await setFaults(request, { failNext: 100 });
  await page.getByLabel("Your e-mail address").fill("shopper@example.com");
  await page.getByRole("button", { name: "Checkout" }).click();
  await expect(page.getByRole("alert")).toContainText("The payment provider is not reachable right now; please try again.");
  await expect(page.locator('.cart-line[data-article="mug"]')).toBeVisible();
  await shot(page, "storefront-provider-down");
  await setFaults(request, {});
  const before = await paymentsCreated(request);
  await page.getByLabel("Your e-mail address").fill("shopper@example.com");
  await page.getByRole("button", { name: "Checkout" }).click();
  await expect(page).toHaveURL(CHECKOUT_PAGE);
  expect(await paymentsCreated(request)).toBe(before + 1);
});

test("an article that is no longer sold is taken out of the cart, with a message", async ({ page, context }) => {
  await context.addCookies([{ name: "cart", value: "mug.1-unicorn.2", url: "http://127.0.0.1:3000" }]);
  await openShop(page);
  await expect(page.getByRole("alert")).toContainText("no longer sold and were removed: unicorn");
  await expect(page.locator(".cart-line")).toHaveCount(1);
  await expect(page.getByTestId("cart-total")).toHaveText("€14.50");
});

test("paid: the thank-you page says thank you", { tag: "@lambda" }, async ({ page }) => {
  await buy(page, "mug", 2);
  await expect(page.getByTestId("amount")).toHaveText("EUR 29.00");
  await shot(page, "emulator-checkout");
  await choose(page, "paid");
  await expect(page.getByTestId("status")).toHaveText("paid");
  await expect(page.getByTestId("status-headline")).toContainText("Thank you");
  await shot(page, "thank-you-paid");
  // The cart was emptied by the checkout.
  await openShop(page);
  await expect(page.locator(".cart-empty")).toBeVisible();
});

test("the cart offers the methods that can pay its total, and the pick goes to Mollie", async ({ page }) => {
  await openShop(page);
  await waitForHydration(page);
  await addToCart(page, "mug", 1);
  const methods = page.locator("fieldset.methods");
  await expect(methods.locator('[data-method="ideal"]')).toBeVisible();
  // €14.50 is below Klarna's minimum; at €43.50 it is offered.
  await expect(methods.locator('[data-method="klarna"]')).toHaveCount(0);
  await addToCart(page, "mug", 2);
  await expect(page.getByTestId("cart-total")).toHaveText("€43.50");
  await expect(methods.locator('[data-method="klarna"]')).toBeVisible();
  await shot(page, "storefront-methods");
  await methods.getByLabel("iDEAL").check();
  await page.getByLabel("Your e-mail address").fill("shopper@example.com");
  await page.getByRole("button", { name: "Checkout" }).click();
  await expect(page).toHaveURL(CHECKOUT_PAGE);
  await expect(page.getByTestId("method")).toHaveText("ideal");
  await choose(page, "paid");
  await expect(page.getByTestId("status")).toHaveText("paid");
});

test("a refund made in Mollie's dashboard, then a chargeback, show on the thank-you page", async ({ page, request }) => {
  await buy(page, "mug", 2);
  const payment = page.url().split("/").pop()!;
  await choose(page, "paid");
  await expect(page.getByTestId("status")).toHaveText("paid");
  await expect(page.getByTestId("money-note")).toHaveCount(0);
  // As from the dashboard: straight to the emulator's API.
  const refund = await request.post(`/mollie/v2/payments/${payment}/refunds`, {
    headers: { authorization: "Bearer test_dashboard" },
    data: { amount: { currency: "EUR", value: "12.00" } },
  });
  expect(refund.status()).toBe(201);
  // Processed in well under a second here; its webhook brings it to the shop.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("money-note")).toHaveText("Refunded €12.00 of €29.00.", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("status")).toHaveText("paid");
  await shot(page, "thank-you-refunded");
  // The shopper's bank takes the rest back (the emulator's control endpoint:
  // Mollie's test mode cannot); the payment stays paid, the page says so.
  const chargeback = await request.post(`/mollie/_emulator/payments/${payment}/chargebacks`);
  expect(chargeback.status()).toBe(201);
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("money-note")).toHaveText(
      "Refunded €12.00 of €29.00. Payment reversed by your bank.",
      { timeout: 500 },
    );
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("status")).toHaveText("paid");
  await shot(page, "thank-you-charged-back");
});

test("failed, then try again, then paid on the same order", { tag: "@lambda" }, async ({ page }) => {
  await buy(page, "tote");
  await choose(page, "failed");
  await expect(page.getByTestId("status")).toHaveText("failed");
  await expect(page.getByTestId("status-headline")).toHaveText("The payment failed.");
  await shot(page, "thank-you-failed");
  const orderUrl = page.url();
  await waitForHydration(page);
  await page.getByRole("button", { name: "Try paying again" }).click();
  await expect(page).toHaveURL(CHECKOUT_PAGE);
  await choose(page, "paid");
  expect(page.url()).toBe(orderUrl);
  await expect(page.getByTestId("status")).toHaveText("paid");
});

for (const [outcome, headline] of [
  ["canceled", "The payment was canceled."],
  ["expired", "The payment expired."],
] as const) {
  test(`${outcome}: the page says so and offers to pay again`, async ({ page }) => {
    await buy(page, "notebook");
    await choose(page, outcome);
    await expect(page.getByTestId("status")).toHaveText(outcome);
    await expect(page.getByTestId("status-headline")).toHaveText(headline);
    await expect(page.getByRole("button", { name: "Try paying again" })).toBeVisible();
    await expect(page.getByRole("link", { name: "Back to the shop" })).toBeVisible();
    await shot(page, `thank-you-${outcome}`);
  });
}

test("a delayed webhook: the page shows the payment pending, then paid without a reload", async ({ page, request }) => {
  await setFaults(request, { webhookDelayMs: 2500 });
  await buy(page, "mug");
  await choose(page, "paid");
  await expect(page.getByTestId("status")).toHaveText("awaiting_payment");
  await expect(page.locator(".spinner")).toBeVisible();
  await shot(page, "thank-you-waiting");
  await waitForHydration(page);
  await expect(page.getByTestId("status")).toHaveText("paid", { timeout: 15_000 });
  await expect(page.locator(".spinner")).toHaveCount(0);
  // Announced to screen readers: the panel itself is replaced whole.
  await expect(page.getByRole("status")).toHaveText("Thank you! Your payment was received. We are packing your order.");
});

test("a dropped webhook: reconciliation makes the order paid", async ({ page, request }) => {
  await setFaults(request, { dropNextWebhooks: 1 });
  await buy(page, "tote");
  await choose(page, "paid");
  await expect(page.getByTestId("status")).toHaveText("awaiting_payment");
  await waitForHydration(page);
  await expect(page.getByTestId("status")).toHaveText("paid", { timeout: 20_000 });
});

test("the thank-you page keeps polling while the shopper pays in another tab", async ({ page, context }) => {
  await buy(page, "tote");
  const checkoutUrl = page.url();
  await choose(page, "open");
  await expect(page.getByTestId("status")).toHaveText("awaiting_payment");
  await waitForHydration(page);
  const otherTab = await context.newPage();
  await otherTab.goto(checkoutUrl);
  await choose(otherTab, "paid");
  await expect(page.getByTestId("status")).toHaveText("paid");
});

test("a double click on checkout creates one payment", { tag: "@lambda" }, async ({ page, request }) => {
  await openShop(page);
  await waitForHydration(page);
  await addToCart(page, "notebook", 2);
  const before = await paymentsCreated(request);
  await page.getByLabel("Your e-mail address").fill("shopper@example.com");
  await page.getByRole("button", { name: "Checkout" }).dblclick();
  await expect(page).toHaveURL(CHECKOUT_PAGE);
  expect(await paymentsCreated(request)).toBe(before + 1);
});

test("an unknown or malformed order id gets a 404 page", async ({ page }) => {
  for (const id of ["ord_00000000000000000000000000000000", "not-an-order"]) {
    const response = await page.goto(`/orders/${id}`);
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  }
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await shot(page, "not-found");
});

test.describe("without JavaScript", { tag: "@lambda" }, () => {
  test.use({ javaScriptEnabled: false });

  test("the cart and checkout work as plain forms, all the way to paid", async ({ page }) => {
    await openShop(page);
    const card = page.locator('.card[data-article="mug"]');
    await card.getByLabel("Quantity").fill("2");
    await card.getByRole("button", { name: "Add to cart" }).click();
    // Back on the storefront (leptos_axum redirects a form post to its referrer).
    await expect(page).toHaveURL(/^http:\/\/[^/]+\/\??$/);
    await expect(page.getByTestId("cart-total")).toHaveText("€29.00");
    await page.getByLabel("Your e-mail address").fill("shopper@example.com");
    await page.getByRole("button", { name: "Checkout" }).click();
    await expect(page).toHaveURL(CHECKOUT_PAGE);
    await choose(page, "paid");
    // No polling without JavaScript: the page refreshes itself until final.
    await expect(page.getByTestId("status")).toHaveText("paid", { timeout: 15_000 });
  });

  test("a refused form comes back to its page with the message in plain words", async ({ page }) => {
    await openShop(page);
    const card = page.locator('.card[data-article="mug"]');
    await card.getByLabel("Quantity").fill("99");
    await card.getByRole("button", { name: "Add to cart" }).click();
    await expect(page.getByTestId("cart-total")).toHaveText("€1435.50");
    // 99 and 1 more: the browser's own checks cannot see it, the server refuses.
    await card.getByLabel("Quantity").fill("1");
    await card.getByRole("button", { name: "Add to cart" }).click();
    await expect(page.getByRole("alert")).toContainText("Quantity must be between 1 and 99");
    await expect(page.getByTestId("cart-total")).toHaveText("€1435.50");
  });
});
