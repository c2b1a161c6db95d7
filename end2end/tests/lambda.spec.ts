import { test, expect, Page } from "@playwright/test";
import { execFileSync, spawnSync } from "child_process";
import { readFileSync } from "fs";

// Only against the shop running as Lambda functions (scripts/test.sh sets
// SHOP_LAMBDA_INVOKE to the cargo-lambda binary): the reconciler there is
// its own function, invoked by a scheduled EventBridge event, not a
// background loop; the public function is reached through the edge.
const cargoLambda = process.env.SHOP_LAMBDA_INVOKE;
const publicPort = process.env.SHOP_LAMBDA_PORT ?? "9000";
const reconcilerPort = process.env.SHOP_RECONCILER_PORT ?? "9001";

/** Invokes the function on `port` with `event`, as EventBridge would. */
function invoke(port: string, event: object) {
  return spawnSync(
    cargoLambda!,
    ["lambda", "invoke", "--invoke-address", "127.0.0.1", "--invoke-port", port, "--data-ascii", JSON.stringify(event), "_"],
    { encoding: "utf8" },
  );
}

const scheduledEvent = JSON.parse(readFileSync("fixtures/scheduled-event.json", "utf8"));

/** A mug bought and paid at the emulator, through the edge: on its order's page. */
async function payForAMug(page: Page) {
  await page.goto("/");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  const card = page.locator('.card[data-article="mug"]');
  await card.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.locator('.cart-line[data-article="mug"]')).toBeVisible();
  await page.getByLabel("Your e-mail address").fill("shopper@example.com");
  await page.getByRole("button", { name: "Checkout" }).click();
  await expect(page).toHaveURL(/\/mollie\/checkout\/tr_[A-Za-z0-9]{10}$/);
  await page.locator("input[name=outcome][value=paid]").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/orders\/ord_[0-9a-f]{32}$/);
}

/** From the order's page: the back office shows its confirmation sent through SES and its event put on the bus (moto). */
async function expectConfirmationAndEventSent(page: Page) {
  const order = page.url().split("/").pop()!;
  await page.goto("/admin");
  await page.getByLabel("Name").fill("owner");
  await page.getByLabel("Password").fill("e2e operator password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto(`/admin/orders/${order}`);
  const paid = page.locator('[data-event-type="order.paid"]');
  await expect(paid).toContainText("shopper_mail: sent");
  await expect(paid).toContainText("bus: sent");
}

test("a scheduled event reconciles a payment whose webhook was dropped", { tag: "@lambda" }, async ({ page, request }) => {
  test.skip(!cargoLambda, "runs only against cargo lambda watch");
  const faults = await request.put("/mollie/_emulator/faults", { data: { dropNextWebhooks: 1 } });
  expect(faults.status()).toBe(204);
  await payForAMug(page);
  // The webhook was dropped, and refresh-on-read is off in this run: only
  // the scheduled event can find out.
  await expect(page.getByTestId("status")).toHaveText("awaiting_payment");
  await page.waitForTimeout(1_500); // the first check is due 1 s after creation
  const answer = execFileSync(
    cargoLambda!,
    [
      "lambda",
      "invoke",
      "--invoke-address",
      "127.0.0.1",
      "--invoke-port",
      reconcilerPort,
      "--data-file",
      "fixtures/scheduled-event.json",
      // "_": the one function cargo lambda watch serves on that port.
      "_",
    ],
    { encoding: "utf8" },
  );
  const pass = JSON.parse(answer);
  expect(pass.checked).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId("status")).toHaveText("paid", { timeout: 15_000 });
  // The same pass sent what its change wrote: the confirmation through SES
  // and the event on the bus (both on moto), recorded on the order.
  expect(pass.sent).toBeGreaterThanOrEqual(2);
  await expectConfirmationAndEventSent(page);
});

test("a paid order's confirmation and event go out before the webhook is answered", { tag: "@lambda" }, async ({ page }) => {
  test.skip(!cargoLambda, "runs only against cargo lambda watch");
  await payForAMug(page);
  await expect(page.getByTestId("status")).toHaveText("paid", { timeout: 15_000 });
  // No reconciler invocation: the public function sent them itself, after
  // the change the webhook made, through SES and EventBridge (moto).
  await expectConfirmationAndEventSent(page);
});

test("a public request cannot trigger the scheduled event, nor another event the reconciler", { tag: "@lambda" }, async ({ request }) => {
  test.skip(!cargoLambda, "runs only against cargo lambda watch");
  const response = await request.post("/events", { data: { source: "aws.events" } });
  expect(response.status()).toBe(404);
  // The schedule's own event sent to the public function: it serves HTTP
  // events only, so the invocation fails.
  const atPublic = invoke(publicPort, scheduledEvent);
  expect(atPublic.status, atPublic.stdout).not.toBe(0);
  // The reconciler refuses what is not its rule's scheduled event.
  for (const forged of [
    { ...scheduledEvent, resources: ["arn:aws:events:eu-west-1:123456789012:rule/Other"] },
    { ...scheduledEvent, source: "my.app" },
    { version: "2.0", rawPath: "/events", requestContext: {} },
  ]) {
    const refused = invoke(reconcilerPort, forged);
    expect(refused.status, refused.stdout).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("refused");
  }
});

test("only CloudFront reaches the function: without the origin secret it answers 403", { tag: "@lambda" }, async ({ request }) => {
  test.skip(!cargoLambda, "runs only against cargo lambda watch");
  // API Gateway's own endpoint, around the edge (no X-Origin-Verify).
  const direct = `http://127.0.0.1:${publicPort}`;
  expect((await request.get(`${direct}/`)).status()).toBe(403);
  expect((await request.post(`${direct}/webhooks/mollie`, { form: { id: "tr_unknown0000" } })).status()).toBe(403);
  // Through the edge, what a client sends under CloudFront's own names is
  // replaced: its guessed secret never reaches the function (else 403).
  const throughEdge = await request.get("/", {
    headers: { "cloudfront-viewer-address": "203.0.113.1:1", "x-origin-verify": "a guess" },
  });
  expect(throughEdge.status()).toBe(200);
  // A chunked body (curl sends one when told) crosses the edge like any
  // other: a webhook without an id is refused (422), with one it is 200.
  const base = process.env.SHOP_BASE_URL!;
  const chunked = (body: string) =>
    spawnSync(
      "curl",
      ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked",
        "-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", body, `${base}/webhooks/mollie`],
      { encoding: "utf8" },
    ).stdout;
  expect(chunked("id=tr_unknown0000")).toBe("200");
  expect(chunked("nothing=here")).toBe("422");
});

test("security headers, the cart cookie and the webhook's checks hold behind the Lambda adapter", { tag: "@lambda" }, async ({ request }) => {
  test.skip(!cargoLambda, "runs only against cargo lambda watch");
  const page = await request.get("/");
  expect(page.status()).toBe(200);
  const headers = page.headers();
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["cache-control"]).toContain("no-store");

  // A server function's Set-Cookie crosses the API Gateway payload (its
  // `cookies` field) with every attribute.
  const added = await request.post("/api/cart/add", {
    form: { article_id: "mug", quantity: "2" },
    headers: { accept: "application/json" },
  });
  expect(added.status()).toBe(200);
  const cookies = added.headersArray().filter((h) => h.name.toLowerCase() === "set-cookie");
  expect(cookies).toHaveLength(1);
  const [pair, ...attributes] = cookies[0].value.split("; ");
  expect(pair).toMatch(/^cart=.+/);
  expect(attributes.sort()).toEqual(["HttpOnly", "Max-Age=2592000", "Path=/", "SameSite=Lax"]);
  const refused = await request.post("/api/cart/add", {
    form: { article_id: "unicorn", quantity: "1" },
    headers: { accept: "application/json" },
  });
  expect(refused.status()).toBe(422);
  expect(refused.headersArray().some((h) => h.name.toLowerCase() === "set-cookie")).toBe(false);

  // The webhook: an id we never issued is 200 and costs no provider call;
  // a body without an id is refused.
  const stats = async () => (await (await request.get("/mollie/_emulator/stats")).json()).apiCalls;
  const callsBefore = await stats();
  const unknown = await request.post("/webhooks/mollie", { form: { id: "tr_unknown0000" } });
  expect(unknown.status()).toBe(200);
  expect(await stats()).toBe(callsBefore);
  const empty = await request.post("/webhooks/mollie", { form: { nothing: "here" } });
  expect(empty.status()).toBe(422);
});
