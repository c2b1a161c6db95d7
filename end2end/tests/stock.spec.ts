import { test, expect, Page } from "@playwright/test";
import * as fs from "fs";

// The operator scripts/test.sh configures (see admin.spec.ts).
const OPERATOR = "owner";
const PASSWORD = "e2e operator password";

test.describe.configure({ mode: "serial" });

fs.mkdirSync("test-results/screenshots", { recursive: true });
const shot = (page: Page, name: string) =>
  page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });

const print = (page: Page) => page.locator('.card[data-article="print"]');

/** Signs in and sets the print's stock on the back office's stock page. */
async function setPrints(page: Page, units: number) {
  await page.goto("/admin/stock");
  if (await page.getByLabel("Password").isVisible()) {
    await page.getByLabel("Name").fill(OPERATOR);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.goto("/admin/stock");
  }
  const row = page.locator('tr[data-article="print"]');
  await row.getByLabel("Units for sale of Risograph print").fill(String(units));
  await row.getByRole("button", { name: "Set" }).click();
  await expect(row.getByTestId("level")).toHaveText(String(units));
  await expect(page.getByTestId("stock-log").locator("li").first()).toContainText(
    `${OPERATOR} set Risograph print from`,
  );
  await expect(page.getByTestId("stock-log").locator("li").first()).toContainText(`to ${units}`);
}

test("the operator sets a level; the storefront says how few are left", async ({ page }) => {
  await setPrints(page, 2);
  await shot(page, "admin-stock");
  await page.goto("/");
  await expect(print(page).getByTestId("stock")).toHaveText("Only 2 left");
  // Articles the shop does not track say nothing.
  await expect(page.locator('.card[data-article="mug"]').getByTestId("stock")).toHaveCount(0);
});

test("a checkout for more than is left is refused in plain words, nothing started", async ({ page }) => {
  await setPrints(page, 2);
  await page.goto("/");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await print(page).getByRole("button", { name: "Add to cart" }).click();
  const line = page.locator('.cart-line[data-article="print"]');
  await line.locator("input[type=number]").fill("3");
  await line.getByRole("button", { name: "Update" }).click();
  await expect(page.getByTestId("cart-total")).toHaveText("€72.00");
  await page.getByLabel("Your e-mail address").fill("shopper@example.com");
  await page.getByRole("button", { name: "Checkout" }).click();
  await expect(page.getByRole("alert")).toHaveText("Sorry, only 2 of Risograph print are left.");
  await expect(page).toHaveURL(/\/$/);
  await shot(page, "storefront-not-enough-stock");
});

test("the last units sell; then the article is sold out", async ({ page }) => {
  await setPrints(page, 1);
  await page.goto("/");
  await expect(print(page).getByTestId("stock")).toHaveText("Only 1 left");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await print(page).getByRole("button", { name: "Add to cart" }).click();
  await expect(page.locator('.cart-line[data-article="print"]')).toBeVisible();
  await page.getByLabel("Your e-mail address").fill("shopper@example.com");
  await page.getByRole("button", { name: "Checkout" }).click();
  await expect(page).toHaveURL(/\/mollie\/checkout\/tr_[A-Za-z0-9]{10}$/);
  await page.locator("input[name=outcome][value=paid]").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByTestId("status")).toHaveText("paid");

  await page.goto("/");
  await expect(print(page).getByTestId("stock")).toHaveText("Sold out");
  await expect(print(page).getByRole("button", { name: "Add to cart" })).toHaveCount(0);
  await shot(page, "storefront-sold-out");
  await setPrints(page, 25);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the refusal comes back to the page as plain words", async ({ page }) => {
    await setPrints(page, 1);
    await page.goto("/");
    const card = print(page);
    await card.getByRole("button", { name: "Add to cart" }).click();
    const line = page.locator('.cart-line[data-article="print"]');
    await line.locator("input[type=number]").fill("2");
    await line.getByRole("button", { name: "Update" }).click();
    await page.getByLabel("Your e-mail address").fill("shopper@example.com");
    await page.getByRole("button", { name: "Checkout" }).click();
    await expect(page.getByRole("alert")).toHaveText("Sorry, only 1 Risograph print is left.");
    await setPrints(page, 25);
  });
});
