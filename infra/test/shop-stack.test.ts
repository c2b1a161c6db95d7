// The stack's resources and their settings, checked on the synthesized
// template, and cdk-nag's AwsSolutions checks with no unacknowledged finding.
// The templates are synthesized without the cdk-nag plugin (a finding would
// throw at load time and hide every other test); the cdk-nag test runs the
// plugin itself and asserts on its validation report.

import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as s3 from "aws-cdk-lib/aws-s3";
import { AwsSolutionsChecks } from "cdk-nag";
import {
  API_THROTTLE,
  FORWARDED_HEADERS,
  PKG_CACHE_CONTROL,
  PUBLIC_CONCURRENCY,
  RATE_LIMITED_POSTS,
  readTableSchema,
  ShopStack,
  type ShopStackProps,
  STATIC_CACHE_CONTROL,
} from "../lib/shop-stack.ts";
import staticPaths from "../static-paths.json" with { type: "json" };

const CDK_JSON = JSON.parse(readFileSync(new URL("../cdk.json", import.meta.url), "utf8"));

/** A stand-in function folder and site folder: the template is what is tested, not the binary. */
function fixtures(): { functionDir: string; siteDir: string } {
  const root = mkdtempSync(join(tmpdir(), "shop-infra-"));
  const functionDir = join(root, "function");
  mkdirSync(functionDir);
  writeFileSync(join(functionDir, "bootstrap"), "#!/bin/sh\n");
  writeFileSync(join(functionDir, "hash.txt"), "js: h1\nwasm: h2\ncss: h3\n");
  const siteDir = join(root, "site");
  mkdirSync(join(siteDir, "pkg"), { recursive: true });
  writeFileSync(join(siteDir, "pkg", "shop.h1.js"), "");
  return { functionDir, siteDir };
}

function synth(
  extra: Partial<ShopStackProps> = {},
): { app: App; stack: ShopStack; template: Template } {
  // The feature flags of cdk.json, as `cdk synth` runs the app.
  const app = new App({ context: CDK_JSON.context });
  const { functionDir, siteDir } = fixtures();
  const stack = new ShopStack(app, "Shop", {
    publicUrl: "https://shop.example",
    functionCode: lambda.Code.fromAsset(functionDir),
    siteDir,
    ...extra,
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * cdk-nag's report for the app, as the validation plugin bin/shop.ts
 * registers produces it at synth: the plugin's `validate` is
 * `validateScope(app)`, which reads the acknowledgements from the tree.
 * One line per unacknowledged finding: "rule name: construct paths".
 */
function nagFindings(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  const findings = report.violations.map(
    (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`,
  );
  assert.equal(report.success, findings.length === 0);
  return findings;
}

const { app, template } = synth();

/** The distribution's configuration (there is one). */
function distributionConfig(t: Template): any {
  const distributions = Object.values(t.findResources("AWS::CloudFront::Distribution"));
  assert.equal(distributions.length, 1);
  return (distributions[0] as any).Properties.DistributionConfig;
}

function logicalIdIn(t: Template, type: string, prefix: string): string {
  const ids = Object.keys(t.findResources(type)).filter((id) => id.startsWith(prefix));
  assert.equal(ids.length, 1, `one ${type} named ${prefix}*: ${ids}`);
  return ids[0];
}
const logicalId = (type: string, prefix: string): string => logicalIdIn(template, type, prefix);

test("only CloudFront reaches the function: it sends a generated secret in X-Origin-Verify", () => {
  // A plain generated string (no template, no punctuation): the value itself.
  template.hasResourceProperties("AWS::SecretsManager::Secret", {
    GenerateSecretString: {
      PasswordLength: 64,
      ExcludePunctuation: true,
      SecretStringTemplate: Match.absent(),
      GenerateStringKey: Match.absent(),
    },
  });
  const secret = logicalId("AWS::SecretsManager::Secret", "OriginVerify");
  const apiOrigin = distributionConfig(template).Origins.find(
    (o: any) => o.CustomOriginConfig && JSON.stringify(o.DomainName).includes("execute-api"),
  );
  const header = apiOrigin.OriginCustomHeaders.find((h: any) => h.HeaderName === "X-Origin-Verify");
  // A dynamic reference to the secret, resolved at deploy: never the value.
  const value = JSON.stringify(header.HeaderValue);
  assert.match(value, /\{\{resolve:secretsmanager:/);
  assert.match(value, new RegExp(`"Ref":"${secret}"`));
  assert.match(value, /:SecretString:::\}\}/);
  template.hasResourceProperties("AWS::Lambda::Function", {
    Environment: {
      Variables: Match.objectLike({
        SHOP_ORIGIN_SECRET_ARN: { Ref: secret },
        SHOP_CLIENT_ADDRESS: "cloudfront",
      }),
    },
  });
});

test("a rotated origin secret: CloudFront sends the pinned version and the function starts anew", () => {
  const rotated = synth({ originSecretVersion: "v2-0000-1111" }).template;
  const secret = logicalId("AWS::SecretsManager::Secret", "OriginVerify");
  const apiOrigin = distributionConfig(rotated).Origins.find(
    (o: any) => o.CustomOriginConfig && JSON.stringify(o.DomainName).includes("execute-api"),
  );
  const header = apiOrigin.OriginCustomHeaders.find((h: any) => h.HeaderName === "X-Origin-Verify");
  const value = JSON.stringify(header.HeaderValue);
  assert.match(value, new RegExp(`"Ref":"${secret}"`));
  // json-key, version-stage empty; version-id pinned.
  assert.match(value, /:SecretString:::v2-0000-1111\}\}/);
  rotated.hasResourceProperties("AWS::Lambda::Function", {
    Environment: {
      Variables: Match.objectLike({
        SHOP_LAMBDA_HANDLER: "http",
        SHOP_ORIGIN_SECRET_VERSION: "v2-0000-1111",
      }),
    },
  });
});

test("CloudFront forwards the viewer's address and the headers the app reads, never Host", () => {
  template.hasResourceProperties("AWS::CloudFront::OriginRequestPolicy", {
    OriginRequestPolicyConfig: Match.objectLike({
      HeadersConfig: { HeaderBehavior: "whitelist", Headers: FORWARDED_HEADERS },
      CookiesConfig: { CookieBehavior: "all" },
      QueryStringsConfig: { QueryStringBehavior: "all" },
    }),
  });
  assert.ok(FORWARDED_HEADERS.includes("CloudFront-Viewer-Address"));
  assert.ok(!FORWARDED_HEADERS.some((h) => h.toLowerCase() === "host"));
  // CloudFront's quota: 10 headers per origin request policy.
  assert.ok(FORWARDED_HEADERS.length <= 10);
  const policy = logicalId("AWS::CloudFront::OriginRequestPolicy", "ToFunction");
  assert.deepEqual(distributionConfig(template).DefaultCacheBehavior.OriginRequestPolicyId, {
    Ref: policy,
  });
});

test("the API stage throttles and the public function has reserved concurrency", () => {
  template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
    StageName: "$default",
    DefaultRouteSettings: {
      ThrottlingRateLimit: API_THROTTLE.rateLimit,
      ThrottlingBurstLimit: API_THROTTLE.burstLimit,
    },
  });
  template.hasResourceProperties("AWS::Lambda::Function", {
    Environment: { Variables: Match.objectLike({ SHOP_PUBLIC_URL: Match.anyValue() }) },
    ReservedConcurrentExecutions: PUBLIC_CONCURRENCY,
  });
});

test("no web ACL unless asked for", () => {
  template.resourceCountIs("AWS::WAFv2::WebACL", 0);
  assert.equal(distributionConfig(template).WebACLId, undefined);
});

test("webAcl: a CloudFront web ACL rate-limits the costly POSTs (us-east-1 only)", () => {
  const { app: withAcl, template: t } = synth({ webAcl: true, env: { region: "us-east-1" } });
  t.hasResourceProperties("AWS::WAFv2::WebACL", {
    Scope: "CLOUDFRONT",
    DefaultAction: { Allow: {} },
    Rules: [
      Match.objectLike({
        Action: { Block: {} },
        Statement: {
          RateBasedStatement: Match.objectLike({
            AggregateKeyType: "IP",
            ScopeDownStatement: {
              AndStatement: {
                Statements: [
                  { ByteMatchStatement: Match.objectLike({ FieldToMatch: { Method: {} }, SearchString: "POST" }) },
                  {
                    OrStatement: {
                      Statements: RATE_LIMITED_POSTS.map((path) => ({
                        ByteMatchStatement: Match.objectLike({
                          FieldToMatch: { UriPath: {} },
                          PositionalConstraint: "EXACTLY",
                          SearchString: path,
                        }),
                      })),
                    },
                  },
                ],
              },
            },
          }),
        },
      }),
    ],
  });
  const acl = Object.keys(t.findResources("AWS::WAFv2::WebACL"))[0];
  assert.deepEqual(distributionConfig(t).WebACLId, { "Fn::GetAtt": [acl, "Arn"] });
  // With the web ACL, CFR2 needs no acknowledgement and none is left.
  assert.deepEqual(nagFindings(withAcl), []);
  assert.throws(() => synth({ webAcl: true, env: { region: "eu-west-1" } }), /us-east-1/);
});

test("the table is the one server create-table makes", () => {
  const schema = readTableSchema();
  const indexes = schema.globalSecondaryIndexes.map((index) => ({
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey.name, KeyType: "HASH" },
      ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: "RANGE" }] : []),
    ],
    Projection: { ProjectionType: "ALL" },
  }));
  template.resourceCountIs("AWS::DynamoDB::Table", 1);
  template.hasResourceProperties("AWS::DynamoDB::Table", {
    KeySchema: [
      { AttributeName: schema.partitionKey.name, KeyType: "HASH" },
      { AttributeName: schema.sortKey.name, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: indexes,
    TimeToLiveSpecification: { AttributeName: schema.timeToLiveAttribute, Enabled: true },
    BillingMode: "PAY_PER_REQUEST",
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    DeletionProtectionEnabled: true,
  });
  template.hasResource("AWS::DynamoDB::Table", {
    DeletionPolicy: "Retain",
    UpdateReplacePolicy: "Retain",
  });
});

test("the function runs the server binary on arm64 with its configuration", () => {
  template.hasResourceProperties("AWS::Lambda::Function", {
    Runtime: "provided.al2023",
    Architectures: ["arm64"],
    Handler: "bootstrap",
    Environment: {
      Variables: Match.objectLike({
        SHOP_PUBLIC_URL: "https://shop.example",
        SHOP_STORE: "dynamodb",
        SHOP_DYNAMODB_TABLE: { Ref: Match.stringLikeRegexp("^Table") },
        SHOP_PAYMENT_PROVIDER: "mollie",
        SHOP_MOLLIE_TEST_MODE: "false",
        MOLLIE_API_KEY_SECRET_ARN: { Ref: Match.stringLikeRegexp("^MollieApiKey") },
        SHOP_ADMIN_SECRET_ARN: { Ref: Match.stringLikeRegexp("^BackOffice") },
        SHOP_TRUST_FORWARDED_FOR: Match.absent(),
        LEPTOS_OUTPUT_NAME: "shop",
        LEPTOS_ENV: "PROD",
        // The pages name /pkg files by the hash.txt beside bootstrap.
        LEPTOS_HASH_FILES: "true",
      }),
    },
    LoggingConfig: Match.objectLike({ LogGroup: { Ref: Match.stringLikeRegexp("^FunctionLogs") } }),
  });
  // Past a chargeback's reach (disputes come up to 13 months later), kept on stack deletion.
  for (const group of ["FunctionLogs", "ReconcilerLogs", "ApiAccessLogs"]) {
    const id = logicalId("AWS::Logs::LogGroup", group);
    assert.equal(template.findResources("AWS::Logs::LogGroup")[id].Properties.RetentionInDays, 545);
    assert.equal(template.findResources("AWS::Logs::LogGroup")[id].DeletionPolicy, "Retain");
  }
});

/** The statements of the inline policy on role `<prefix>Role…` (there is one). */
function roleStatementsIn(t: Template, prefix: string): any[] {
  const policies = Object.entries(t.findResources("AWS::IAM::Policy")).filter(([id]) =>
    id.startsWith(`${prefix}Role`),
  );
  assert.equal(policies.length, 1, `one policy on ${prefix}'s role`);
  return (policies[0][1] as any).Properties.PolicyDocument.Statement;
}
const roleStatements = (prefix: string): any[] => roleStatementsIn(template, prefix);

test("each function may touch only its table's items and indexes, its secrets and its logs", () => {
  const table = logicalId("AWS::DynamoDB::Table", "Table");
  const tableArn = { "Fn::GetAtt": [table, "Arn"] };
  const indexArn = (name: string) => ({ "Fn::Join": ["", [tableArn, `/index/${name}`]] });
  for (const [prefix, secrets] of [
    ["Function", ["MollieApiKey", "BackOffice", "OriginVerify"]],
    ["Reconciler", ["MollieApiKey"]],
  ] as const) {
    const statements = roleStatements(prefix);
    for (const statement of statements) {
      const actions: string[] = [statement.Action].flat();
      assert.ok(
        actions.every((a) => /^(dynamodb|secretsmanager|logs|sqs|events):/.test(a)),
        `unexpected actions ${actions}`,
      );
      assert.ok(!JSON.stringify(statement.Resource).includes('"*"'), `wildcard resource for ${prefix}`);
    }
    const allowed = statements.filter((s) => s.Effect === "Allow");
    const dynamodbAllowed = allowed.filter((s) => [s.Action].flat().some((a: string) => a.startsWith("dynamodb:")));
    // Exactly what crates/store/src/dynamodb/ calls: items on the table,
    // Query on each index by name.
    assert.deepEqual(
      dynamodbAllowed.map((s) => ({ Action: s.Action, Resource: s.Resource })),
      [
        {
          Action: [
            "dynamodb:BatchGetItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
          ],
          Resource: tableArn,
        },
        {
          Action: "dynamodb:Query",
          Resource: readTableSchema().globalSecondaryIndexes.map((i) => indexArn(i.indexName)),
        },
      ],
    );
    // The audit logs are append-only, transactions included.
    assert.deepEqual(
      statements.filter((s) => s.Effect === "Deny"),
      [
        {
          Sid: "AuditIsAppendOnly",
          Effect: "Deny",
          Action: ["dynamodb:DeleteItem", "dynamodb:UpdateItem"],
          Resource: tableArn,
          Condition: { "ForAnyValue:StringLike": { "dynamodb:LeadingKeys": ["AUDIT#*", "STOCKLOG"] } },
        },
      ],
    );
    const secretsRead = JSON.stringify(
      allowed.filter((s) => [s.Action].flat().some((a: string) => a.startsWith("secretsmanager:"))),
    );
    for (const secret of ["MollieApiKey", "BackOffice", "OriginVerify"]) {
      assert.equal(
        secretsRead.includes(`"Ref":"${secret}`),
        (secrets as readonly string[]).includes(secret),
        `${prefix} reads ${secret}: ${(secrets as readonly string[]).includes(secret)}`,
      );
    }
  }
  // No managed policies on the functions' roles.
  for (const [id, role] of Object.entries(template.findResources("AWS::IAM::Role")) as [string, any][]) {
    if (id.startsWith("Function") || id.startsWith("Reconciler")) {
      assert.equal(role.Properties.ManagedPolicyArns, undefined, `${id} has managed policies`);
    }
  }
});

test("the owner's webhook: a generated secret both functions read, and its URL", () => {
  const env = (t: Template, prefix: string) =>
    (Object.entries(t.findResources("AWS::Lambda::Function")) as [string, any][]).find(([id]) =>
      id.startsWith(prefix),
    )![1].Properties.Environment.Variables;
  for (const prefix of ["Function", "Reconciler"]) {
    assert.equal(env(template, prefix).SHOP_OWNER_WEBHOOK_URL, undefined);
  }
  template.resourceCountIs("AWS::SecretsManager::Secret", 3);

  const { stack, template: withHook } = synth({ ownerWebhookUrl: "https://owner.example/shop-events" });
  const secret = logicalIdIn(withHook, "AWS::SecretsManager::Secret", "OwnerWebhook");
  withHook.hasResourceProperties("AWS::SecretsManager::Secret", {
    GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
  });
  for (const prefix of ["Function", "Reconciler"]) {
    const variables = env(withHook, prefix);
    assert.equal(variables.SHOP_OWNER_WEBHOOK_URL, "https://owner.example/shop-events");
    assert.deepEqual(variables.SHOP_OWNER_WEBHOOK_SECRET_ARN, { Ref: secret });
    const reads = JSON.stringify(
      roleStatementsIn(withHook, prefix).filter((s: any) =>
        [s.Action].flat().some((a: string) => a.startsWith("secretsmanager:")),
      ),
    );
    assert.ok(reads.includes(`"Ref":"${secret}"`), `${prefix} reads the webhook secret`);
  }
  assert.ok(stack);
  assert.throws(() => synth({ ownerWebhookUrl: "http://owner.example/" }), /https/);
});

test("events: a bus both functions put on, given-up deliveries in a queue an alarm watches", () => {
  const bus = logicalId("AWS::Events::EventBus", "Events");
  const queue = logicalId("AWS::SQS::Queue", "DeliveryDeadLetters");
  for (const prefix of ["Function", "Reconciler"]) {
    const fn = (Object.entries(template.findResources("AWS::Lambda::Function")) as [string, any][]).find(([id]) =>
      id.startsWith(prefix),
    )![1];
    assert.deepEqual(fn.Properties.Environment.Variables.SHOP_EVENT_BUS, { Ref: bus });
    assert.equal(fn.Properties.Environment.Variables.SHOP_MAIL, "off");
    const puts = roleStatements(prefix).filter((s) => [s.Action].flat().includes("events:PutEvents"));
    assert.deepEqual(
      puts.map((s) => s.Resource),
      [{ "Fn::GetAtt": [bus, "Arn"] }],
      `${prefix} puts events on the bus only`,
    );
  }
  template.hasResourceProperties("AWS::Events::Rule", {
    EventBusName: { Ref: bus },
    EventPattern: { source: ["shop"], "detail-type": ["delivery.gave_up"] },
    Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [queue, "Arn"] } })],
  });
  template.hasResourceProperties("AWS::SQS::Queue", {
    SqsManagedSseEnabled: true,
    MessageRetentionPeriod: 14 * 24 * 3600,
  });
  // In alarm while a message waits, until an operator empties the queue.
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    MetricName: "ApproximateNumberOfMessagesVisible",
    Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [queue, "QueueName"] } }],
    Threshold: 1,
    AlarmActions: [{ Ref: logicalId("AWS::SNS::Topic", "AlarmTopic") }],
  });
  // What the rule cannot hand over has a queue and an alarm of its own.
  const failures = logicalId("AWS::SQS::Queue", "DeliveryRuleFailures");
  template.hasResourceProperties("AWS::Events::Rule", {
    EventPattern: { "detail-type": ["delivery.gave_up"] },
    Targets: [Match.objectLike({ DeadLetterConfig: { Arn: { "Fn::GetAtt": [failures, "Arn"] } } })],
  });
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    MetricName: "FailedInvocations",
    Namespace: "AWS/Events",
    Dimensions: Match.arrayWith([Match.objectLike({ Name: "RuleName" })]),
  });
  assert.throws(() => synth({ ownerEmail: "owner@shop.example" }), /needs mailFrom/);
  template.resourceCountIs("AWS::SES::EmailIdentity", 0);
});

test("mailFrom: an SES domain identity, a configuration set, and only sending from them", () => {
  const { template: t } = synth({ mailFrom: "Paper & Clay <shop@Shop.Example>", ownerEmail: "owner@shop.example" });
  const set = logicalIdIn(t, "AWS::SES::ConfigurationSet", "Mail");
  t.hasResourceProperties("AWS::SES::EmailIdentity", {
    EmailIdentity: "shop.example",
    ConfigurationSetAttributes: { ConfigurationSetName: { Ref: set } },
  });
  t.hasResourceProperties("AWS::SES::ConfigurationSet", {
    SuppressionOptions: { SuppressedReasons: ["BOUNCE", "COMPLAINT"] },
    DeliveryOptions: { TlsPolicy: "REQUIRE" },
  });
  for (const prefix of ["Function", "Reconciler"]) {
    const fn = (Object.entries(t.findResources("AWS::Lambda::Function")) as [string, any][]).find(([id]) =>
      id.startsWith(prefix),
    )![1];
    const variables = fn.Properties.Environment.Variables;
    assert.equal(variables.SHOP_MAIL, "ses");
    assert.equal(variables.SHOP_MAIL_FROM, "Paper & Clay <shop@Shop.Example>");
    assert.deepEqual(variables.SHOP_SES_CONFIGURATION_SET, { Ref: set });
    assert.equal(variables.SHOP_OWNER_EMAIL, "owner@shop.example");
    const sends = roleStatementsIn(t, prefix).filter((s: any) =>
      [s.Action].flat().some((a: string) => a.startsWith("ses:")),
    );
    const resources = JSON.stringify(sends.flatMap((s: any) => [s.Resource].flat()));
    assert.ok(resources.includes(":identity/") && resources.includes(":configuration-set/"), resources);
    assert.equal(sends.flatMap((s: any) => [s.Resource].flat()).length, 2, `${prefix}: those two only`);
    assert.ok(!JSON.stringify(sends).includes('"*"'), `${prefix} sends from anything`);
  }
  // The DKIM records to add to DNS are outputs.
  assert.equal(Object.keys(t.findOutputs("*")).filter((k) => k.startsWith("MailDkim")).length, 3);
  assert.throws(() => synth({ mailFrom: "shop@localhost" }), /not an address at a domain/);
});

test("pages go to the HTTP API, static files to a private bucket through CloudFront", () => {
  template.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
  template.hasResourceProperties("AWS::ApiGatewayV2::Api", { ProtocolType: "HTTP" });
  template.hasResourceProperties("AWS::S3::Bucket", {
    PublicAccessBlockConfiguration: {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    },
    LoggingConfiguration: Match.objectLike({ LogFilePrefix: "site/" }),
  });
  template.resourceCountIs("AWS::CloudFront::OriginAccessControl", 1);
  const distribution = Object.values(template.findResources("AWS::CloudFront::Distribution"))[0] as any;
  const config = distribution.Properties.DistributionConfig;
  // One behavior per pattern of static-paths.json, which scripts/edge.py
  // routes by too: it knows a prefix ending in /* and one exact path.
  assert.deepEqual(
    config.CacheBehaviors.map((b: any) => b.PathPattern).sort(),
    [...staticPaths].sort(),
  );
  for (const pattern of staticPaths) {
    const path = pattern.endsWith("/*") ? pattern.slice(0, -1) : pattern;
    assert.ok(path.startsWith("/") && !/[*?]/.test(path), `${pattern}: not a form scripts/edge.py routes`);
  }
  // Pages are per shopper: the default behaviour caches nothing.
  assert.equal(config.DefaultCacheBehavior.CachePolicyId, "4135ea2d-6df8-44a3-9df3-4b5a84be39ad");
  assert.equal(config.DefaultCacheBehavior.ViewerProtocolPolicy, "redirect-to-https");
  assert.ok(config.Logging, "CloudFront logs");
  template.resourceCountIs("Custom::CDKBucketDeployment", 2);
});

test("static files: hashed pkg/ cached for good and never pruned, the rest briefly; security headers", () => {
  const deployments = Object.values(template.findResources("Custom::CDKBucketDeployment")) as any[];
  const pkg = deployments.find((d) => d.Properties.DestinationBucketKeyPrefix === "pkg/").Properties;
  assert.deepEqual(pkg.SystemMetadata, { "cache-control": PKG_CACHE_CONTROL });
  assert.equal(PKG_CACHE_CONTROL, "public, max-age=31536000, immutable");
  assert.equal(pkg.Prune, false);
  const rest = deployments.find((d) => d.Properties.DestinationBucketKeyPrefix === undefined).Properties;
  assert.deepEqual(rest.SystemMetadata, { "cache-control": STATIC_CACHE_CONTROL });
  assert.deepEqual(rest.Exclude, ["pkg/*"], "the rest's prune leaves pkg/ alone");
  assert.notEqual(rest.Prune, false);

  template.hasResourceProperties("AWS::CloudFront::ResponseHeadersPolicy", {
    ResponseHeadersPolicyConfig: Match.objectLike({
      SecurityHeadersConfig: {
        StrictTransportSecurity: {
          AccessControlMaxAgeSec: 63072000,
          IncludeSubdomains: true,
          Override: true,
        },
        ContentTypeOptions: { Override: true },
        FrameOptions: { FrameOption: "DENY", Override: true },
        ReferrerPolicy: { ReferrerPolicy: "strict-origin-when-cross-origin", Override: true },
      },
    }),
  });
  const policy = logicalId("AWS::CloudFront::ResponseHeadersPolicy", "StaticHeaders");
  for (const behavior of distributionConfig(template).CacheBehaviors) {
    assert.deepEqual(behavior.ResponseHeadersPolicyId, { Ref: policy }, behavior.PathPattern);
  }
  // The site bucket is kept with its files on stack deletion: the two agree.
  const site = logicalId("AWS::S3::Bucket", "Site");
  assert.equal(template.findResources("AWS::S3::Bucket")[site].DeletionPolicy, "Retain");
  template.resourceCountIs("Custom::S3AutoDeleteObjects", 0);
});

test("the HTTP API logs every request as JSON", () => {
  const group = logicalId("AWS::Logs::LogGroup", "ApiAccessLogs");
  const stage = Object.values(template.findResources("AWS::ApiGatewayV2::Stage"))[0] as any;
  const settings = stage.Properties.AccessLogSettings;
  assert.deepEqual(settings.DestinationArn, { "Fn::GetAtt": [group, "Arn"] });
  assert.deepEqual(Object.keys(JSON.parse(settings.Format)), [
    "requestId",
    "ip",
    "requestTime",
    "httpMethod",
    "routeKey",
    "status",
    "responseLength",
    "integrationLatency",
  ]);
});

test("cost-allocation tags: the app and its stage", () => {
  const tagsOf = (t: Template) =>
    (Object.values(t.findResources("AWS::DynamoDB::Table"))[0] as any).Properties.Tags;
  assert.deepEqual(tagsOf(template), [
    { Key: "app", Value: "paper-and-clay-shop" },
    { Key: "stage", Value: "production" },
  ]);
  const { template: staging } = synth({ stage: "staging" });
  assert.deepEqual(tagsOf(staging), [
    { Key: "app", Value: "paper-and-clay-shop" },
    { Key: "stage", Value: "staging" },
  ]);
  const fn = shopFunction(template, "http").props;
  assert.ok(fn.Tags.some((t: any) => t.Key === "app" && t.Value === "paper-and-clay-shop"));
});

test("a domain of its own: served with its certificate and TLS 1.2 at least; CFR4 then needs no acknowledgement", () => {
  assert.equal(distributionConfig(template).Aliases, undefined);
  const certificateArn = "arn:aws:acm:us-east-1:111111111111:certificate/abc";
  const { app: withDomain, template: t } = synth({ domainName: "shop.example", certificateArn });
  const config = distributionConfig(t);
  assert.deepEqual(config.Aliases, ["shop.example"]);
  assert.equal(config.ViewerCertificate.AcmCertificateArn, certificateArn);
  assert.equal(config.ViewerCertificate.MinimumProtocolVersion, "TLSv1.2_2021");
  assert.equal(config.ViewerCertificate.SslSupportMethod, "sni-only");
  assert.deepEqual(nagFindings(withDomain), []);
  // Without the certificate's acknowledgement being needed, none is recorded.
  const acknowledged = withDomain.node
    .findAll()
    .flatMap((c) => c.node.metadata)
    .filter((m) => m.type === "aws:cdk:acknowledged-rules")
    .flatMap((m) => Object.keys(m.data as object));
  assert.ok(!acknowledged.some((id) => id.includes("CFR4")), acknowledged.join(", "));
  assert.throws(() => synth({ domainName: "shop.example" }), /certificateArn/);
});

test("the Mollie key and the back office's accounts are secrets that only the function may read", () => {
  template.resourceCountIs("AWS::SecretsManager::Secret", 3);
  template.hasResourceProperties("AWS::SecretsManager::Secret", {
    GenerateSecretString: Match.anyValue(),
  });
  // The session key is generated; no account exists until the owner adds one.
  template.hasResourceProperties("AWS::SecretsManager::Secret", {
    GenerateSecretString: {
      SecretStringTemplate: JSON.stringify({ operators: "" }),
      GenerateStringKey: "sessionSecret",
      PasswordLength: 64,
      ExcludePunctuation: true,
    },
  });
});

/** The Lambda function whose SHOP_LAMBDA_HANDLER is `handler`. */
function shopFunction(t: Template, handler: string): { id: string; props: any } {
  const found = Object.entries(t.findResources("AWS::Lambda::Function")).filter(
    ([, r]: [string, any]) => r.Properties.Environment?.Variables?.SHOP_LAMBDA_HANDLER === handler,
  );
  assert.equal(found.length, 1, `one function with SHOP_LAMBDA_HANDLER=${handler}`);
  return { id: found[0][0], props: (found[0][1] as any).Properties };
}

test("the reconciler is its own function, on the schedule alone", () => {
  const web = shopFunction(template, "http");
  const reconciler = shopFunction(template, "reconciler");
  assert.equal(reconciler.props.Code.S3Key, web.props.Code.S3Key, "the same binary");
  assert.equal(reconciler.props.Timeout, 60);
  assert.equal(reconciler.props.ReservedConcurrentExecutions, 1);
  const env = reconciler.props.Environment.Variables;
  assert.equal(env.SHOP_RECONCILE_PASS_MAX_MS, "40000");
  assert.ok(Number(env.SHOP_RECONCILE_PASS_MAX_MS) < reconciler.props.Timeout * 1000);
  // The reconciler reads no back-office or origin secret.
  assert.equal(env.SHOP_ADMIN_SECRET_ARN, undefined);
  assert.equal(env.SHOP_ORIGIN_SECRET_ARN, undefined);
  // The public function: under API Gateway's 30 s, its own bounds below it.
  assert.equal(web.props.Timeout, 29);
  assert.equal(web.props.Environment.Variables.SHOP_REQUEST_TIMEOUT_MS, "25000");
  assert.equal(web.props.Environment.Variables.SHOP_WEBHOOK_TIMEOUT_MS, "10000");

  // The only scheduled rule (the other rule routes given-up deliveries).
  const rules = (Object.values(template.findResources("AWS::Events::Rule")) as any[]).filter(
    (r) => r.Properties.ScheduleExpression !== undefined,
  );
  assert.equal(rules.length, 1);
  const rule = rules[0].Properties;
  assert.equal(rule.ScheduleExpression, "rate(1 minute)");
  assert.equal(rule.Name, "Shop-reconcile");
  assert.deepEqual(
    rule.Targets.map((t: any) => t.Arn),
    [{ "Fn::GetAtt": [reconciler.id, "Arn"] }],
    "the schedule targets the reconciler only",
  );
  // The ARN the function is told is the rule's own.
  assert.deepEqual(env.SHOP_RECONCILE_RULE_ARN, {
    "Fn::Join": [
      "",
      [
        "arn:",
        { Ref: "AWS::Partition" },
        ":events:",
        { Ref: "AWS::Region" },
        ":",
        { Ref: "AWS::AccountId" },
        ":rule/Shop-reconcile",
      ],
    ],
  });
  template.hasResourceProperties("AWS::Lambda::Permission", {
    Principal: "events.amazonaws.com",
    FunctionName: { "Fn::GetAtt": [reconciler.id, "Arn"] },
  });
  const permissions = Object.values(template.findResources("AWS::Lambda::Permission")) as any[];
  assert.ok(
    !permissions.some(
      (p) => p.Properties.Principal === "events.amazonaws.com" && JSON.stringify(p.Properties.FunctionName).includes(web.id),
    ),
    "no scheduled events to the public function",
  );
});

test("a reconciler invocation is never retried; a failed one lands in an encrypted queue", () => {
  const reconciler = shopFunction(template, "reconciler");
  const queue = logicalId("AWS::SQS::Queue", "ReconcilerOnFailure");
  template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
    FunctionName: { Ref: reconciler.id },
    MaximumRetryAttempts: 0,
    MaximumEventAgeInSeconds: 120,
    DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [queue, "Arn"] } } },
  });
  template.hasResourceProperties("AWS::SQS::Queue", { SqsManagedSseEnabled: true });
  template.hasResourceProperties("AWS::SQS::QueuePolicy", {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      ]),
    },
  });
  // Messages sent, not the depth: nothing consumes the queue, so its depth
  // would stay in alarm and a later failure would e-mail nobody.
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    MetricName: "NumberOfMessagesSent",
    Statistic: "Sum",
    Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [queue, "QueueName"] } }],
    Threshold: 1,
  });
  // What never reaches the queue: failed ones the queue could not take,
  // scheduled events EventBridge could not hand to the function.
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    Namespace: "AWS/Lambda",
    MetricName: "DestinationDeliveryFailures",
    Statistic: "Sum",
    Dimensions: [{ Name: "FunctionName", Value: { Ref: reconciler.id } }],
    Threshold: 1,
    ComparisonOperator: "GreaterThanOrEqualToThreshold",
  });
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    Namespace: "AWS/Events",
    MetricName: "FailedInvocations",
    Statistic: "Sum",
    Dimensions: [{ Name: "RuleName", Value: { Ref: logicalId("AWS::Events::Rule", "ReconcileSchedule") } }],
    Threshold: 1,
  });
});

test("the function's new code runs only once the files it names are uploaded", () => {
  const web = shopFunction(template, "http").id;
  const dependsOn: string[] = template.findResources("AWS::Lambda::Function")[web].DependsOn ?? [];
  const pkgFiles = Object.keys(template.findResources("Custom::CDKBucketDeployment")).find((id) =>
    id.startsWith("PkgFiles"),
  );
  assert.ok(pkgFiles, "the pkg/ upload");
  assert.ok(dependsOn.includes(pkgFiles), `${web} depends on ${dependsOn}`);
  const siteFiles = Object.keys(template.findResources("Custom::CDKBucketDeployment")).find((id) =>
    id.startsWith("SiteFiles"),
  );
  assert.ok(siteFiles && dependsOn.includes(siteFiles), "and on the other static files");
});

test("the template has no dependency cycle (CloudFormation would refuse it)", () => {
  const resources = template.toJSON().Resources as Record<string, any>;
  /** The resources one resource needs: DependsOn, Ref and Fn::GetAtt. */
  const needs = (id: string): string[] => {
    const found = new Set<string>([resources[id].DependsOn ?? []].flat());
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        for (const [key, value] of Object.entries(node)) {
          if (key === "Ref" && typeof value === "string") found.add(value);
          else if (key === "Fn::GetAtt" && Array.isArray(value)) found.add(value[0]);
          else walk(value);
        }
      }
    };
    walk(resources[id].Properties);
    return [...found].filter((other) => other in resources);
  };
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === "done") return;
    assert.notEqual(state.get(id), "visiting", `cycle: ${[...path, id].join(" -> ")}`);
    state.set(id, "visiting");
    for (const other of needs(id)) visit(other, [...path, id]);
    state.set(id, "done");
  };
  for (const id of Object.keys(resources)) visit(id, []);
});

test("every alarm e-mails the AlarmEmail parameter through an encrypted topic, on alarm and on OK", () => {
  template.hasParameter("AlarmEmail", { Type: "String" });
  const topic = logicalId("AWS::SNS::Topic", "AlarmTopic");
  template.hasResourceProperties("AWS::SNS::Topic", {
    KmsMasterKeyId: { "Fn::GetAtt": [Match.stringLikeRegexp("^AlarmTopicKey"), "Arn"] },
  });
  template.hasResourceProperties("AWS::SNS::TopicPolicy", {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      ]),
    },
  });
  template.hasResourceProperties("AWS::SNS::Subscription", {
    Protocol: "email",
    Endpoint: { Ref: "AlarmEmail" },
    TopicArn: { Ref: topic },
  });
  // CloudWatch may use the topic's key (else alarms cannot publish).
  template.hasResourceProperties("AWS::KMS::Key", {
    EnableKeyRotation: true,
    KeyPolicy: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        }),
      ]),
    },
  });
  const alarms = Object.entries(template.findResources("AWS::CloudWatch::Alarm"));
  assert.ok(alarms.length >= 14, `${alarms.length} alarms`);
  for (const [id, alarm] of alarms as [string, any][]) {
    assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: topic }], `${id}'s alarm actions`);
    assert.deepEqual(alarm.Properties.OKActions, [{ Ref: topic }], `${id}'s OK actions`);
  }
});

test("alarms: both functions' errors and throttles, API 5xx, DynamoDB, the logs, the reconciler's heartbeat", () => {
  const web = shopFunction(template, "http").id;
  const reconciler = shopFunction(template, "reconciler").id;
  for (const fn of [web, reconciler]) {
    for (const metric of ["Errors", "Throttles"]) {
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "AWS/Lambda",
        MetricName: metric,
        Dimensions: [{ Name: "FunctionName", Value: { Ref: fn } }],
      });
    }
  }
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    Namespace: "AWS/ApiGateway",
    MetricName: "5xx",
  });
  // DynamoDB's throttles and system errors, as math over its operations.
  for (const metric of ["ThrottledRequests", "SystemErrors"]) {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: "AWS/DynamoDB", MetricName: metric }),
          }),
        }),
      ]),
    });
  }
  const filters = template.findResources("AWS::Logs::MetricFilter");
  const filterOn = (phrase: string, group: string) =>
    Object.values(filters).find(
      (f: any) =>
        f.Properties.FilterPattern.includes(phrase) &&
        JSON.stringify(f.Properties.LogGroupName).includes(group),
    ) as any;
  const reconcilerLogs = logicalId("AWS::Logs::LogGroup", "ReconcilerLogs");
  assert.ok(filterOn("webhook failed", "FunctionLogs"));
  assert.ok(filterOn("reconcile failed", reconcilerLogs));
  // Log lines asking for an operator, from either function, alarm.
  assert.ok(filterOn("operator_action", "FunctionLogs"));
  assert.ok(filterOn("operator_action", reconcilerLogs));
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    Namespace: "Shop",
    MetricName: "OperatorActions",
    Threshold: 1,
  });
  const heartbeat = filterOn("reconcile pass done", reconcilerLogs);
  assert.ok(heartbeat, "a filter counting finished passes on the reconciler's logs");
  const heartbeatMetric = heartbeat.Properties.MetricTransformations[0];
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    Namespace: heartbeatMetric.MetricNamespace,
    MetricName: heartbeatMetric.MetricName,
    Statistic: "Sum",
    Period: 300,
    Threshold: 1,
    ComparisonOperator: "LessThanThreshold",
    TreatMissingData: "breaching",
  });
});

test("a dashboard of checkouts, payments paid and failed, latency, errors and throttles", () => {
  const filters = Object.values(template.findResources("AWS::Logs::MetricFilter")) as any[];
  const metricOf = (pattern: string) =>
    filters
      .filter((f) => f.Properties.FilterPattern === pattern)
      .map((f) => f.Properties.MetricTransformations[0].MetricName);
  assert.deepEqual(metricOf('"checkout started"'), ["CheckoutsStarted"]);
  // tracing's JSON puts the event's fields under "fields"; both functions update payments.
  for (const [status, metric] of [["paid", "PaymentsPaid"], ["failed", "PaymentsFailed"]]) {
    assert.deepEqual(
      metricOf(`{ ($.fields.message = "payment status updated") && ($.fields.status = "${status}") }`),
      [metric, metric],
    );
  }
  const dashboards = Object.values(template.findResources("AWS::CloudWatch::Dashboard")) as any[];
  assert.equal(dashboards.length, 1);
  const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
  for (const shown of [
    "CheckoutsStarted",
    "PaymentsPaid",
    "PaymentsFailed",
    "Latency",
    "Errors",
    "Throttles",
    "ThrottledRequests",
    "ReconcilePasses",
  ]) {
    assert.ok(body.includes(shown), `the dashboard shows ${shown}`);
  }
});

test("cdk-nag finds nothing that is not acknowledged with a reason", () => {
  assert.deepEqual(nagFindings(app), []);
});

test("the cdk-nag test sees a finding: an unacknowledged public bucket is reported", () => {
  const { app: bare, stack } = synth();
  // A bucket with no access logs and no SSL policy: S1 and S10 must show.
  new s3.Bucket(stack, "Unjustified");
  const findings = nagFindings(bare).join("\n");
  assert.match(findings, /AwsSolutions-S1: Shop\/Unjustified\/Resource/);
  assert.match(findings, /AwsSolutions-S10: Shop\/Unjustified\/Resource/);
});
