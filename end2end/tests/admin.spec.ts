import { test, expect, Page } from "@playwright/test";
import * as fs from "fs";

// The operator scripts/test.sh configures (SHOP_ADMIN_OPERATORS holds the
// argon2id hash of this test-only password).
const OPERATOR = "owner";
const PASSWORD = "e2e operator password";

test.describe.configure({ mode: "serial" });

fs.mkdirSync("test-results/screenshots", { recursive: true });
const shot = (page: Page, name: string) =>
  page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });

/** A paid order for one mug, bought as a shopper; its order and payment ids. */
async function paidOrder(page: Page): Promise<{ order: string; payment: string }> {
  await page.goto("/");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  const card = page.locator('.card[data-article="mug"]');
  await card.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.locator('.cart-line[data-article="mug"]')).toBeVisible();
  await page.getByLabel("Your e-mail address").fill("shopper@example.com");
  await page.getByRole("button", { name: "Checkout" }).click();
  await expect(page).toHaveURL(/\/mollie\/checkout\/tr_[A-Za-z0-9]{10}$/);
  const payment = page.url().split("/").pop()!;
  await page.locator("input[name=outcome][value=paid]").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/orders\/ord_[0-9a-f]{32}$/);
  await expect(page.getByTestId("status")).toHaveText("paid");
  return { order: page.url().split("/").pop()!, payment };
}

async function signIn(page: Page, password: string) {
  await page.getByLabel("Name").fill(OPERATOR);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("an operator signs in, finds an order by its Mollie id and refunds part of it", { tag: "@lambda" }, async ({ page }) => {
  const { order, payment } = await paidOrder(page);

  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Back office" })).toBeVisible();
  await shot(page, "admin-sign-in");
  // A wrong password is refused, and shows no order.
  await signIn(page, "not the password");
  await expect(page.getByRole("alert")).toHaveText("Wrong name or password.");
  await expect(page.locator(".admin-orders")).toHaveCount(0);

  await signIn(page, PASSWORD);
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByTestId("operator")).toHaveText(OPERATOR);
  await expect(page.locator(`tr[data-order="${order}"]`)).toBeVisible();
  await shot(page, "admin-orders");

  await page.getByLabel("Order id or Mollie payment id").fill(payment);
  await page.getByRole("button", { name: "Find" }).click();
  await expect(page.locator(".admin-orders tbody tr")).toHaveCount(1);
  await page.getByRole("link", { name: order }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/orders/${order}$`));
  await expect(page.getByTestId("order-status")).toHaveText("paid");
  await expect(page.getByTestId("paid")).toHaveText("€14.50");

  // Part of it, with a reason; the box must be ticked: money moves.
  const refund = page.locator("form.refund");
  await refund.getByLabel("Amount (EUR)").fill("5.00");
  await refund.getByLabel("Reason").fill("damaged in transit");
  await refund.getByLabel("Yes, give this money back to the shopper").check();
  await refund.getByRole("button", { name: "Refund" }).click();

  // A plain form post: the server sends the browser back to the order.
  await expect(page).toHaveURL(new RegExp(`/admin/orders/${order}\\??$`));
  await expect(page.getByTestId("refunded")).toHaveText("€5.00");
  await expect(page.getByTestId("refunds").locator("tbody tr")).toHaveCount(1);
  await expect(page.getByTestId("refunds")).toContainText("€5.00");
  const audit = page.getByTestId("audit-log");
  await expect(audit.locator("tbody tr")).toHaveCount(2);
  await expect(audit.locator("tbody tr").last()).toContainText(OPERATOR);
  await expect(audit.locator("tbody tr").last()).toContainText("refund €5.00 (damaged in transit)");
  await expect(audit.locator("tbody tr").last()).toContainText("done");
  await expect(page.locator("form.refund").getByLabel("Amount (EUR)")).toHaveValue("9.50");
  await shot(page, "admin-order");

  // The shopper's thank-you page says so.
  await page.goto(`/orders/${order}`);
  await expect(page.getByTestId("money-note")).toHaveText("Refunded €5.00 of €14.50.");

  // Signed out, the back office shows no orders again.
  await page.goto("/admin");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Back office" })).toBeVisible();
  await expect(page.locator(".admin-orders")).toHaveCount(0);
});

/** The order's page in the back office, reloaded until its confirmation is sent. */
async function expectConfirmationListed(page: Page, order: string) {
  await page.goto("/admin");
  await signIn(page, PASSWORD);
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto(`/admin/orders/${order}`);
  await expect(page.getByTestId("shopper-email")).toHaveText("shopper@example.com");
  const paid = page.locator('[data-event-type="order.paid"]');
  // The deliverer sends right after the change; the page shows the record.
  await expect(async () => {
    await page.reload();
    await expect(paid).toContainText("shopper_mail: sent", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(paid.getByTestId("message-subject")).toContainText("thank you for your payment");
}

test("a paid order's confirmation e-mail is listed on its back office page", async ({ page }) => {
  const { order } = await paidOrder(page);
  await expectConfirmationListed(page, order);
  const paid = page.locator('[data-event-type="order.paid"]');
  await paid.getByTestId("message-subject").click();
  const message = paid.locator("iframe.admin-message");
  await expect(message).toBeVisible();
  await expect(message.contentFrame().getByText("Total paid")).toBeVisible();
  // Chosen on the provider's page (its first method for the amount).
  await expect(message.contentFrame().getByText("Paid with iDEAL.")).toBeVisible();
  // As a mail client shows it: the HTML on a page of its own (the back
  // office's policy keeps the frame's inline styles off).
  const html = await message.getAttribute("srcdoc");
  const client = await page.context().newPage();
  await client.setViewportSize({ width: 640, height: 420 });
  await client.setContent(html!);
  await expect(client.getByText("Total paid")).toBeVisible();
  await client.screenshot({ path: "test-results/screenshots/confirmation-email.png" });
  await client.close();
  await shot(page, "admin-order-messages");

  // Sent again on the operator's word, and logged.
  await paid.locator("form.resend").first().getByRole("button", { name: "Send again" }).click();
  await expect(page.getByTestId("audit-log")).toContainText("again (shopper_mail)");
  await expect(async () => {
    await page.reload();
    await expect(paid).toContainText("shopper_mail: sent", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });

  // The shopper's address erased on their request: gone, and logged.
  const erase = page.locator("form.erase");
  await erase.getByLabel("Yes, remove the shopper's e-mail address from this order").check();
  await erase.getByRole("button", { name: "Erase" }).click();
  await expect(page.getByTestId("shopper-email")).toHaveText("(no address)");
  await expect(page.getByTestId("audit-log")).toContainText("erase the shopper's personal data");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the shopper's e-mail is taken by the plain form and the confirmation listed", async ({ page }) => {
    await page.goto("/");
    const card = page.locator('.card[data-article="mug"]');
    await card.getByRole("button", { name: "Add to cart" }).click();
    await expect(page.getByTestId("cart-total")).toHaveText("€14.50");
    await page.getByLabel("Your e-mail address").fill("shopper@example.com");
    await page.getByRole("button", { name: "Checkout" }).click();
    await expect(page).toHaveURL(/\/mollie\/checkout\/tr_[A-Za-z0-9]{10}$/);
    await page.locator("input[name=outcome][value=paid]").check();
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page).toHaveURL(/\/orders\/ord_[0-9a-f]{32}$/);
    await expect(page.getByTestId("status")).toHaveText("paid", { timeout: 15_000 });
    const order = page.url().split("/").pop()!;
    await expectConfirmationListed(page, order);
  });
});
