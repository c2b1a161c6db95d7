// `npx cdk synth -c publicUrl=https://shop.example` (offline, no credentials),
// optionally with -c stage=staging, -c account=... -c region=...,
// -c domainName=shop.example -c certificateArn=arn:aws:acm:us-east-1:...,
// -c webAcl=true (us-east-1 only), -c mollieTestMode=true.
// The function's code and the static files are what `scripts/package.sh`
// builds: `target/lambda-arm64/server` (bootstrap, hash.txt) and
// `target/site` (docs/deployment.md).

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { App, Validations } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { AwsSolutionsChecks } from "cdk-nag";
import { ShopStack } from "../lib/shop-stack.ts";

const app = new App();
const fromRoot = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const context = (key: string): string | undefined => app.node.tryGetContext(key);

const publicUrl = context("publicUrl");
if (!publicUrl) {
  throw new Error(
    "set the shop's public URL: npx cdk synth -c publicUrl=https://shop.example (where Mollie sends shoppers back and calls the webhook)",
  );
}
const functionDir = context("functionDir") ?? fromRoot("target/lambda-arm64/server");
// Without hash.txt every page would fail: the function looks up the site's
// hashed file names in it.
for (const file of ["bootstrap", "hash.txt"]) {
  if (!existsSync(`${functionDir}/${file}`)) {
    throw new Error(
      `no ${functionDir}/${file}: build the function and the site first with scripts/package.sh (or pass -c functionDir=...)`,
    );
  }
}
const siteDir = context("siteDir") ?? fromRoot("target/site");
if (!existsSync(siteDir)) {
  throw new Error(`no ${siteDir}: build the site first with scripts/package.sh (or pass -c siteDir=...)`);
}
// The function names the site's files by hash.txt: a site rebuilt since
// (cargo leptos serve, the tests) would leave pages naming files no deploy
// uploads.
const hashes = new Map(
  readFileSync(`${functionDir}/hash.txt`, "utf8")
    .split("\n")
    .map((line) => line.split(":").map((part) => part.trim()) as [string, string]),
);
for (const kind of ["js", "wasm", "css"]) {
  const file = `${siteDir}/pkg/shop.${hashes.get(kind)}.${kind}`;
  if (!hashes.get(kind) || !existsSync(file)) {
    throw new Error(
      `${functionDir}/hash.txt names no file of ${siteDir}/pkg for ${kind}: build both again with scripts/package.sh`,
    );
  }
}

// `-c stage=staging` deploys the stack Shop-staging beside the others; no
// stage keeps the stack's first name, Shop.
const stage = context("stage");
// The account and region: `-c account=... -c region=...`, else the CLI's
// (the credentials' account, the profile's region).
const account = context("account") ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = context("region") ?? process.env.CDK_DEFAULT_REGION;

new ShopStack(app, stage ? `Shop-${stage}` : "Shop", {
  env: { account, region },
  stage,
  publicUrl,
  functionCode: lambda.Code.fromAsset(functionDir),
  siteDir,
  mollieTestMode: context("mollieTestMode") === "true",
  webAcl: context("webAcl") === "true",
  domainName: context("domainName"),
  certificateArn: context("certificateArn"),
  originSecretVersion: context("originSecretVersion"),
  ownerWebhookUrl: context("ownerWebhookUrl"),
  mailFrom: context("mailFrom"),
  ownerEmail: context("ownerEmail"),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
