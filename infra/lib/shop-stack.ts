// The shop on AWS: one DynamoDB table, the server binary (built by cargo
// lambda) as two functions (the public one behind an HTTP API that only
// CloudFront reaches, and the scheduled reconciler), static files on S3
// behind CloudFront, secrets in Secrets Manager, alarms that e-mail the
// owner, and a dashboard. See docs/deployment.md.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type CfnElement,
  CfnOutput,
  CfnParameter,
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  Tags,
  Token,
  Validations,
} from "aws-cdk-lib";
import { type CfnStage, HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as destinations from "aws-cdk-lib/aws-lambda-destinations";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3deploy from "aws-cdk-lib/aws-s3-deployment";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as ses from "aws-cdk-lib/aws-ses";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import type { Construct } from "constructs";
import staticPaths from "../static-paths.json" with { type: "json" };

/** The table's keys, indexes and TTL: the same file `server create-table` is tested against. */
export interface TableSchema {
  partitionKey: { name: string; type: "S" | "N" };
  sortKey: { name: string; type: "S" | "N" };
  globalSecondaryIndexes: {
    indexName: string;
    partitionKey: { name: string; type: "S" | "N" };
    sortKey?: { name: string; type: "S" | "N" };
  }[];
  timeToLiveAttribute: string;
}

export const TABLE_SCHEMA_PATH = fileURLToPath(
  new URL("../../crates/store/table.json", import.meta.url),
);

export function readTableSchema(path = TABLE_SCHEMA_PATH): TableSchema {
  return JSON.parse(readFileSync(path, "utf8")) as TableSchema;
}

export interface ShopStackProps extends StackProps {
  /** Where shoppers and Mollie reach the shop (the CloudFront distribution's domain or yours), e.g. https://shop.example. */
  readonly publicUrl: string;
  /** The folder holding `bootstrap` and `hash.txt`, as `scripts/package.sh` leaves it. */
  readonly functionCode: lambda.Code;
  /** The site's static files (`target/site`: `pkg/`, `images/`, `favicon.svg`), uploaded to the bucket. */
  readonly siteDir?: string;
  /** Take Mollie test payments (a `test_` key). */
  readonly mollieTestMode?: boolean;
  /**
   * Put a WAF web ACL (rate-based rule on the POSTs that cost a Mollie call
   * or an argon2 hash) in front of the distribution. A CloudFront-scope web
   * ACL can only be created in us-east-1, so this stack must then be
   * deployed to us-east-1 (synth refuses any other concrete region).
   * @default false
   */
  readonly webAcl?: boolean;
  /** The deployment's stage (staging, production...), a cost-allocation tag. @default "production" */
  readonly stage?: string;
  /** The shop's own domain (e.g. shop.example), served by the distribution; needs `certificateArn`. */
  readonly domainName?: string;
  /** An ACM certificate for `domainName`, in us-east-1 (CloudFront takes certificates only from there). */
  readonly certificateArn?: string;
  /**
   * The `OriginVerify` version CloudFront sends (a Secrets Manager version
   * id), after a rotation: pinning it changes the template, so the deploy
   * updates CloudFront, and the function's configuration, so every instance
   * starts again and reads the new value (and accepts the previous while
   * CloudFront's edges switch). Unset: the current value.
   */
  readonly originSecretVersion?: string;
  /**
   * Where every event (order paid, payment failed, refund settled...) is
   * POSTed, signed with a secret the stack generates (docs/events.md).
   * Unset: no webhook.
   */
  readonly ownerWebhookUrl?: string;
  /**
   * Who the shop's e-mail comes from, e.g. `Paper & Clay <shop@shop.example>`:
   * the stack makes the SES identity of its domain (add the DKIM records
   * it outputs to DNS) and a configuration set; the functions send through
   * SES. Unset: no e-mail (the events still go to the bus and the webhook).
   */
  readonly mailFrom?: string;
  /** Where the owner's messages (incidents, chargebacks, failed refunds) go. */
  readonly ownerEmail?: string;
}

/** The domain of an address written `Name <user@domain>` or `user@domain`. */
export function mailDomain(from: string): string {
  const match = /@([A-Za-z0-9.-]+\.[A-Za-z]{2,})>?\s*$/.exec(from);
  if (!match) {
    throw new Error(`mailFrom ${from} is not an address at a domain`);
  }
  return match[1].toLowerCase();
}

/** Cache-Control of files under pkg/: their names carry a hash of their content (cargo-leptos hash-files). */
export const PKG_CACHE_CONTROL = "public, max-age=31536000, immutable";
/** Cache-Control of the other static files (images, favicon): names that stay, contents that may change. */
export const STATIC_CACHE_CONTROL = "public, max-age=3600";
/** Function logs are kept past a chargeback's reach (disputes come 120 days to 13 months later). */
export const FUNCTION_LOG_RETENTION = logs.RetentionDays.EIGHTEEN_MONTHS;

/**
 * Public function sizing (docs/deployment.md, "Throttling and concurrency").
 * A checkout is about 10 requests of ~50 ms plus ~0.5 s waiting for Mollie:
 * ~1 s of execution, so 100 executions carry ~100 checkouts/s, ~1,000
 * requests/s. The stage lets no more than that through (429 instead of a
 * Lambda throttle), and no burst larger than the executions it can meet.
 */
export const PUBLIC_CONCURRENCY = 100;
export const API_THROTTLE = { rateLimit: 1_000, burstLimit: PUBLIC_CONCURRENCY };

/** The headers the app reads, the only viewer headers CloudFront forwards to the function. */
export const FORWARDED_HEADERS = [
  "Accept", // leptos_axum: a form post without JavaScript is answered with a redirect
  "Accept-Language", // the page's language
  "Content-Type", // server functions' and the webhook's body encoding
  "Origin", // cross-site check on POSTs
  "Referer", // leptos_axum: where a no-JavaScript form post is redirected back to
  "Sec-Fetch-Site", // cross-site check on POSTs
  "CloudFront-Viewer-Address", // the shopper's address (SHOP_CLIENT_ADDRESS=cloudfront)
];

/** POSTs that cost a Mollie call or an argon2 hash, or guess (the withdrawal form): the WAF's rate-based rule covers these. */
export const RATE_LIMITED_POSTS = [
  "/api/checkout",
  "/api/pay_again",
  "/api/admin/sign_in",
  "/api/withdraw/check",
  "/api/withdraw/confirm",
];

/** The DynamoDB actions the store's code calls on the table (docs/dynamodb.md). */
export const TABLE_ACTIONS = [
  "dynamodb:BatchGetItem",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:Query",
  "dynamodb:UpdateItem",
];

/**
 * Paths CloudFront serves from the bucket; everything else goes to the
 * function. Kept in infra/static-paths.json, which scripts/edge.py reads
 * too: a prefix ending in `/*`, or one exact path.
 */
export const STATIC_PATHS: readonly string[] = staticPaths;

/** The value when the stack's environment fixes it, else the pseudo parameter cdk-nag prints. */
const concrete = (value: string, pseudo: string) => (Token.isUnresolved(value) ? pseudo : value);

const attributeType = (type: "S" | "N") =>
  type === "S" ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;

export class ShopStack extends Stack {
  public readonly table: dynamodb.Table;
  /** The public function: pages, server functions, the webhook. */
  public readonly function: lambda.Function;
  /** The reconciler: the same binary, run by the schedule only. */
  public readonly reconciler: lambda.Function;
  /** Every alarm notifies it; it e-mails the AlarmEmail parameter. */
  public readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: ShopStackProps) {
    super(scope, id, props);
    const schema = readTableSchema();
    if (Boolean(props.domainName) !== Boolean(props.certificateArn)) {
      throw new Error("domainName and certificateArn go together: the distribution serves the domain with that certificate");
    }
    // Cost allocation: every resource that takes tags.
    Tags.of(this).add("app", "paper-and-clay-shop");
    Tags.of(this).add("stage", props.stage ?? "production");

    this.table = new dynamodb.Table(this, "Table", {
      partitionKey: {
        name: schema.partitionKey.name,
        type: attributeType(schema.partitionKey.type),
      },
      sortKey: {
        name: schema.sortKey.name,
        type: attributeType(schema.sortKey.type),
      },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: schema.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of schema.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: {
          name: index.partitionKey.name,
          type: attributeType(index.partitionKey.type),
        },
        sortKey: index.sortKey && {
          name: index.sortKey.name,
          type: attributeType(index.sortKey.type),
        },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // Its value is set once after deploy (README): never in code or template.
    const mollieKey = new secretsmanager.Secret(this, "MollieApiKey", {
      description:
        "The Mollie API key (live_... or, in test mode, test_...). Rotate it in the Mollie dashboard, then here: the function re-reads it after a 401.",
    });
    Validations.of(mollieKey).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "Mollie API keys are issued and rotated in Mollie's dashboard, not by a Secrets Manager rotation Lambda; the function re-reads the secret after a 401, so a manual rotation takes effect without a deploy.",
    });

    // The back office: the key that signs operators' sessions is generated
    // here; the accounts (`operators`) are set after deploy (README).
    const backOffice = new secretsmanager.Secret(this, "BackOffice", {
      description:
        'The back office: {"operators": "name:$argon2id$... (from `server hash-password`), space-separated", "sessionSecret": "generated"}. Empty operators: the back office is off.',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ operators: "" }),
        generateStringKey: "sessionSecret",
        passwordLength: 64,
        excludePunctuation: true,
      },
    });
    Validations.of(backOffice).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "Operators' password hashes change when the owner changes them, not on a schedule; a new sessionSecret (set by hand) signs everyone out, which a rotation Lambda would do at random times.",
    });

    // Only CloudFront may reach the function: its API origin sends this
    // value in X-Origin-Verify, and the function answers 403 without it.
    // No punctuation and no template: the secret string is the value itself,
    // safe in an HTTP header.
    const originVerify = new secretsmanager.Secret(this, "OriginVerify", {
      description:
        "The value CloudFront sends to the function in X-Origin-Verify; requests without it are refused (403).",
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(originVerify).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "CloudFront reads the value when the stack deploys (a dynamic reference), so a rotation Lambda would lock CloudFront out until the next deploy; it is rotated by a new value and a deploy with its version (docs/deployment.md), and the function accepts the previous value meanwhile.",
    });

    // The owner's webhook: its signing secret is generated here; the owner
    // reads it from Secrets Manager to verify each request.
    const ownerWebhook = props.ownerWebhookUrl
      ? new secretsmanager.Secret(this, "OwnerWebhook", {
          description: "Signs each event POSTed to the owner's webhook (Shop-Signature); the receiver verifies with it.",
          generateSecretString: { passwordLength: 64, excludePunctuation: true },
        })
      : undefined;
    if (props.ownerEmail && !props.mailFrom) {
      throw new Error("ownerEmail needs mailFrom: without it the shop sends no e-mail");
    }
    if (ownerWebhook) {
      if (!props.ownerWebhookUrl?.startsWith("https://")) {
        throw new Error("ownerWebhookUrl must be an https:// URL");
      }
      Validations.of(ownerWebhook).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "The owner's receiver holds a copy to verify signatures; a rotation Lambda would break verification until the owner copied the new value. It is rotated by hand with the owner: a new value, then the functions sign with it and the previous one (both read at start) once their instances restart (docs/events.md).",
      });
    }

    // What follows a change (docs/events.md): every event on the shop's
    // bus, for the owner's rules; an event a channel gave up on also lands
    // in a queue an alarm watches.
    const eventBus = new events.EventBus(this, "Events", {
      description: "The shop's events (order.paid, refund.settled...), source \"shop\": subscribe with a rule.",
    });
    const deliveryDeadLetters = new sqs.Queue(this, "DeliveryDeadLetters", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deliveryDeadLetters).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself the dead-letter queue of the shop's deliveries (events a channel gave up on); an operator reads it and sends the event again from the back office.",
    });
    // What the rule cannot hand to the queue lands in a queue of its own.
    const deliveryRuleFailures = new sqs.Queue(this, "DeliveryRuleFailures", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deliveryRuleFailures).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself the dead-letter queue of the rule that feeds DeliveryDeadLetters; an alarm watches it.",
    });
    const deliveryGaveUp = new events.Rule(this, "DeliveryGaveUp", {
      description: "Events a delivery channel gave up on, to the dead-letter queue.",
      eventBus,
      eventPattern: { source: ["shop"], detailType: ["delivery.gave_up"] },
      targets: [new targets.SqsQueue(deliveryDeadLetters, { deadLetterQueue: deliveryRuleFailures })],
    });

    // E-mail through SES, from a domain identity the stack makes, with a
    // configuration set that feeds bounces and complaints to the
    // suppression list and sends over TLS only.
    const mail = props.mailFrom
      ? (() => {
          const configurationSet = new ses.ConfigurationSet(this, "Mail", {
            suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
            reputationMetrics: true,
          });
          const identity = new ses.EmailIdentity(this, "MailIdentity", {
            identity: ses.Identity.domain(mailDomain(props.mailFrom)),
            configurationSet,
          });
          // Easy DKIM: SES signs once these CNAME records are in DNS.
          identity.dkimRecords.forEach(
            (record, i) =>
              new CfnOutput(this, `MailDkim${i + 1}`, {
                description: "A CNAME record SES needs in the mail domain's DNS (name = value).",
                value: `${record.name} = ${record.value}`,
              }),
          );
          return { configurationSet, identity };
        })()
      : undefined;

    // What both functions need: the same binary, store and Mollie key.
    const common = {
      code: props.functionCode,
      environment: {
        SHOP_PUBLIC_URL: props.publicUrl,
        SHOP_STORE: "dynamodb",
        SHOP_DYNAMODB_TABLE: this.table.tableName,
        SHOP_PAYMENT_PROVIDER: "mollie",
        SHOP_MOLLIE_TEST_MODE: String(props.mollieTestMode ?? false),
        MOLLIE_API_KEY_SECRET_ARN: mollieKey.secretArn,
        // A function's files do not outlive it: SES or no e-mail at all.
        ...(mail
          ? {
              SHOP_MAIL: "ses",
              SHOP_MAIL_FROM: props.mailFrom!,
              SHOP_SES_CONFIGURATION_SET: mail.configurationSet.configurationSetName,
            }
          : { SHOP_MAIL: "off" }),
        ...(props.ownerEmail ? { SHOP_OWNER_EMAIL: props.ownerEmail } : {}),
        SHOP_EVENT_BUS: eventBus.eventBusName,
        ...(ownerWebhook
          ? { SHOP_OWNER_WEBHOOK_URL: props.ownerWebhookUrl!, SHOP_OWNER_WEBHOOK_SECRET_ARN: ownerWebhook.secretArn }
          : {}),
        LEPTOS_OUTPUT_NAME: "shop",
        LEPTOS_SITE_ROOT: "site",
        LEPTOS_SITE_PKG_DIR: "pkg",
        // /pkg file names carry their content's hash; hash.txt beside
        // bootstrap (scripts/package.sh puts it there) says which.
        LEPTOS_HASH_FILES: "true",
        LEPTOS_ENV: "PROD",
        RUST_LOG: "info",
      },
    };

    const web = this.shopFunction("Function", {
      ...common,
      description: "The shop: pages, server functions, the Mollie webhook (behind CloudFront).",
      // API Gateway's HTTP API waits 30 s at most.
      timeout: Duration.seconds(29),
      // Bounds what a flood can cost and what it can take from the account's
      // other functions (the size: PUBLIC_CONCURRENCY).
      reservedConcurrentExecutions: PUBLIC_CONCURRENCY,
      environment: {
        ...common.environment,
        SHOP_LAMBDA_HANDLER: "http",
        SHOP_ADMIN_SECRET_ARN: backOffice.secretArn,
        SHOP_ORIGIN_SECRET_ARN: originVerify.secretArn,
        // The version CloudFront sends, which the function accepts besides
        // the current and previous values; a new one starts new instances.
        ...(props.originSecretVersion ? { SHOP_ORIGIN_SECRET_VERSION: props.originSecretVersion } : {}),
        // The shopper's address is CloudFront-Viewer-Address (the origin
        // request policy forwards it); X-Forwarded-For's last entry would be
        // a CloudFront edge.
        SHOP_CLIENT_ADDRESS: "cloudfront",
        // Below the 29 s timeout, so a slow request ends with our answer,
        // not API Gateway's 503; a webhook below Mollie's 15 s.
        SHOP_REQUEST_TIMEOUT_MS: "25000",
        SHOP_WEBHOOK_TIMEOUT_MS: "10000",
      },
    });
    this.function = web.fn;
    const logGroup = web.logGroup;
    mollieKey.grantRead(this.function);
    backOffice.grantRead(this.function);
    originVerify.grantRead(this.function);
    ownerWebhook?.grantRead(this.function);

    // The reconciler: the same binary as its own function, so a slow pass
    // never takes the public function's executions or its 29 s limit. Its
    // rule's name is fixed, so the function can know the rule's ARN (to
    // accept only its events) without a reference cycle.
    const reconcileRuleName = `${this.stackName}-reconcile`;
    if (!Token.isUnresolved(reconcileRuleName) && reconcileRuleName.length > 64) {
      throw new Error(`the rule name ${reconcileRuleName} is longer than 64 characters: shorten the stack name`);
    }
    const reconcileRuleArn = this.formatArn({
      service: "events",
      resource: "rule",
      resourceName: reconcileRuleName,
    });
    const reconciler = this.shopFunction("Reconciler", {
      ...common,
      description: "The shop's reconciler: one bounded pass a minute over payments whose webhook may have been lost.",
      timeout: Duration.seconds(60),
      // One pass at a time: two would refresh the same attempts twice.
      reservedConcurrentExecutions: 1,
      environment: {
        ...common.environment,
        SHOP_LAMBDA_HANDLER: "reconciler",
        SHOP_RECONCILE_RULE_ARN: reconcileRuleArn,
        // A pass stops taking new work after 40 s, well inside the 60 s timeout.
        SHOP_RECONCILE_PASS_MAX_MS: "40000",
      },
    });
    this.reconciler = reconciler.fn;
    mollieKey.grantRead(this.reconciler);
    ownerWebhook?.grantRead(this.reconciler);
    // Both deliver: the public function after each change, the reconciler
    // in its sweep.
    for (const fn of [this.function, this.reconciler]) {
      eventBus.grantPutEventsTo(fn);
      if (mail) {
        mail.identity.grantSendEmail(fn);
        // SES v2 also authorizes the configuration set a message names.
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ["ses:SendEmail", "ses:SendRawEmail"],
            resources: [
              this.formatArn({
                service: "ses",
                resource: "configuration-set",
                resourceName: mail.configurationSet.configurationSetName,
              }),
            ],
          }),
        );
      }
    }

    // A pass that could not run (throttled behind a slow one past 2
    // minutes, or failed) is not retried: the next minute's pass does the
    // same work. It lands here, and the queue's alarm tells someone.
    const reconcileFailures = new sqs.Queue(this, "ReconcilerOnFailure", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(reconcileFailures).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself where failed reconciler invocations land (the function's on-failure destination); nothing consumes it, so a queue behind it would only move the same messages.",
    });
    this.reconciler.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(2),
      onFailure: new destinations.SqsDestination(reconcileFailures),
    });

    const api = new HttpApi(this, "Api", {
      description: "Pages, server functions and the Mollie webhook, all served by the function.",
      defaultIntegration: new HttpLambdaIntegration("Function", this.function),
    });
    // The L2 HTTP API creates its $default stage without throttling options:
    // set them on the stage itself (keeping its logical id: no replacement).
    const stage = api.defaultStage?.node.defaultChild as CfnStage;
    stage.defaultRouteSettings = {
      throttlingRateLimit: API_THROTTLE.rateLimit,
      throttlingBurstLimit: API_THROTTLE.burstLimit,
    };
    // Access logs, one JSON line a request: who (the edge's address, as
    // API Gateway sees CloudFront), what, how it ended, how long it took.
    const apiLogs = new logs.LogGroup(this, "ApiAccessLogs", {
      retention: FUNCTION_LOG_RETENTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    stage.accessLogSettings = {
      destinationArn: apiLogs.logGroupArn,
      format: JSON.stringify({
        requestId: "$context.requestId",
        ip: "$context.identity.sourceIp",
        requestTime: "$context.requestTime",
        httpMethod: "$context.httpMethod",
        routeKey: "$context.routeKey",
        status: "$context.status",
        responseLength: "$context.responseLength",
        integrationLatency: "$context.integrationLatency",
      }),
    };
    Validations.of(api).acknowledge({
      id: "AwsSolutions-APIG4",
      reason:
        "A public shop: shoppers are anonymous and Mollie's webhook carries no credentials; only CloudFront reaches the API (X-Origin-Verify), the function checks every webhook against Mollie and rate-limits per client.",
    });

    // One bounded pass a minute, to the reconciler only.
    const reconcileSchedule = new events.Rule(this, "ReconcileSchedule", {
      ruleName: reconcileRuleName,
      description: "Refreshes payments whose webhook may have been lost.",
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.reconciler, { retryAttempts: 0 })],
    });

    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: "AwsSolutions-S1",
      reason: "This is the access log bucket itself; logging it into itself would loop.",
    });

    const site = new s3.Bucket(this, "Site", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "site/",
      // Kept on stack deletion, with its files (delete it by hand): emptying
      // it would take autoDeleteObjects' own Lambda and a bucket policy
      // letting it delete everything, for files any build recreates.
      removalPolicy: RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
    });

    // The function sets its own security headers; S3 sets none.
    const staticHeaders = new cloudfront.ResponseHeadersPolicy(this, "StaticHeaders", {
      comment: "Security headers on the static files",
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
      },
    });
    const fromBucket: cloudfront.BehaviorOptions = {
      origin: origins.S3BucketOrigin.withOriginAccessControl(site),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      responseHeadersPolicy: staticHeaders,
    };
    const apiDomain = `${api.apiId}.execute-api.${this.region}.${this.urlSuffix}`;
    // ALL_VIEWER_EXCEPT_HOST_HEADER cannot add CloudFront-Viewer-Address:
    // CloudFront's "allExcept" takes no CloudFront-* headers, and "all
    // viewer + CloudFront headers" forwards Host, which API Gateway refuses.
    // So the headers are allow-listed (at most 10 per policy), cookies and
    // query strings all.
    const toFunction = new cloudfront.OriginRequestPolicy(this, "ToFunction", {
      comment: "The shop function: the headers it reads, the viewer's address, all cookies and query strings",
      headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList(...FORWARDED_HEADERS),
      cookieBehavior: cloudfront.OriginRequestCookieBehavior.all(),
      queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
    });
    const webAcl = props.webAcl ? this.rateLimitingWebAcl() : undefined;
    const distribution = new cloudfront.Distribution(this, "Distribution", {
      comment: "The shop: static files from S3, everything else from the function",
      defaultBehavior: {
        origin: new origins.HttpOrigin(apiDomain, {
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          // A dynamic reference ({{resolve:secretsmanager:...}}), resolved by
          // CloudFormation at deploy: the value is in the distribution's
          // configuration, readable only with cloudfront:GetDistributionConfig
          // (account operators, who can read the secret anyway), never in the
          // template, and CloudFront sends it only to the origin, over HTTPS.
          customHeaders: {
            "X-Origin-Verify": (props.originSecretVersion
              ? SecretValue.secretsManager(originVerify.secretArn, { versionId: props.originSecretVersion })
              : originVerify.secretValue
            ).unsafeUnwrap(),
          },
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        // Pages are per shopper (cart, checkout key): never cached.
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: toFunction,
      },
      webAclId: webAcl?.attrArn,
      additionalBehaviors: Object.fromEntries(STATIC_PATHS.map((path) => [path, fromBucket])),
      enableLogging: true,
      logBucket: accessLogs,
      logFilePrefix: "cloudfront/",
      ...(props.domainName && props.certificateArn
        ? {
            domainNames: [props.domainName],
            certificate: acm.Certificate.fromCertificateArn(this, "Certificate", props.certificateArn),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
    });
    Validations.of(distribution).acknowledge({
      id: "AwsSolutions-CFR1",
      reason: "A shop that sells everywhere it can take payments: no geo restriction.",
    });
    if (!props.certificateArn) {
      Validations.of(distribution).acknowledge({
        id: "AwsSolutions-CFR4",
        reason:
          "Without a domain of its own the distribution has CloudFront's default certificate, whose viewer policy cannot be raised; with domainName and certificateArn it gets TLSv1.2_2021 (docs/deployment.md).",
      });
    }
    if (!webAcl) {
      Validations.of(distribution).acknowledge({
        id: "AwsSolutions-CFR2",
        reason:
          "No WAF web ACL by default (it costs more than the rest of the stack at small scale): abuse is bounded by the function's per-client rate limits, the API stage's throttling and the function's reserved concurrency. The webAcl prop adds one (docs/deployment.md).",
      });
    }

    if (props.siteDir) {
      // Everything but pkg/: names that stay, so a short max-age and an
      // invalidation. The exclusion also keeps prune away from pkg/.
      const siteFiles = new s3deploy.BucketDeployment(this, "SiteFiles", {
        sources: [s3deploy.Source.asset(props.siteDir, { exclude: ["pkg", "pkg/*"] })],
        exclude: ["pkg/*"],
        destinationBucket: site,
        cacheControl: [s3deploy.CacheControl.fromString(STATIC_CACHE_CONTROL)],
        distribution,
        distributionPaths: STATIC_PATHS.filter((path) => path !== "/pkg/*"),
        memoryLimit: 512,
      });
      const pkgDir = join(props.siteDir, "pkg");
      if (existsSync(pkgDir)) {
        // pkg/: hashed names (cargo-leptos hash-files), so cached for good;
        // no prune, so a page still open from the last release finds its
        // files. /pkg/* is still invalidated, for builds without hashes.
        const pkgFiles = new s3deploy.BucketDeployment(this, "PkgFiles", {
          // The .d.ts files are wasm-bindgen's types, for no browser.
          sources: [s3deploy.Source.asset(pkgDir, { exclude: ["*.d.ts", "*.d.*.ts"] })],
          destinationBucket: site,
          destinationKeyPrefix: "pkg/",
          prune: false,
          cacheControl: [s3deploy.CacheControl.fromString(PKG_CACHE_CONTROL)],
          distribution,
          distributionPaths: ["/pkg/*"],
          memoryLimit: 512,
        });
        // New code names new files: they are in the bucket before it runs.
        this.function.node.addDependency(pkgFiles);
      }
      this.function.node.addDependency(siteFiles);
      // CDK's deploy-time handler for it is a stack-level singleton: its
      // findings are acknowledged on it alone, never stack-wide.
      const handler = this.node.children.find((child) =>
        child.node.id.startsWith("Custom::CDKBucketDeployment"),
      );
      if (!handler) {
        throw new Error("CDK's BucketDeployment handler was not found");
      }
      const why =
        "CDK's own BucketDeployment handler, which runs only at deploy time: it must read the CDK asset bucket and write, list and invalidate the site bucket and distribution it is given";
      Validations.of(handler).acknowledge(
        ...[
          "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
          "AwsSolutions-IAM5[Action::s3:Abort*]",
          "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
          "AwsSolutions-IAM5[Action::s3:GetBucket*]",
          "AwsSolutions-IAM5[Action::s3:GetObject*]",
          "AwsSolutions-IAM5[Action::s3:List*]",
          "AwsSolutions-IAM5[Resource::*]",
          `AwsSolutions-IAM5[Resource::<${this.getLogicalId(site.node.defaultChild as CfnElement)}.Arn>/*]`,
          `AwsSolutions-IAM5[Resource::arn:${concrete(this.partition, "<AWS::Partition>")}:s3:::cdk-hnb659fds-assets-${concrete(this.account, "<AWS::AccountId>")}-${concrete(this.region, "<AWS::Region>")}/*]`,
          "AwsSolutions-L1",
        ].map((id) => ({ id, reason: why })),
      );
    }

    // Alarms reach someone: an e-mail address given at deploy (a
    // parameter, so one template serves every owner), through a topic
    // encrypted with a key CloudWatch may use (the AWS-managed SNS key's
    // policy does not let CloudWatch publish).
    const alarmEmail = new CfnParameter(this, "AlarmEmail", {
      type: "String",
      description: "Where the shop's alarms are e-mailed (confirm the subscription e-mail AWS sends).",
      allowedPattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
      constraintDescription: "an e-mail address",
    });
    const alarmKey = new kms.Key(this, "AlarmTopicKey", {
      description: "Encrypts the shop's alarm topic; CloudWatch may use it to publish.",
      enableKeyRotation: true,
    });
    alarmKey.grant(new iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*");
    this.alarmTopic = new sns.Topic(this, "AlarmTopic", {
      displayName: "Shop alarms",
      masterKey: alarmKey,
      enforceSSL: true,
    });
    this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(alarmEmail.valueAsString));

    const fiveMinutes = Duration.minutes(5);
    const alarm = (id: string, description: string, metric: cloudwatch.IMetric, threshold = 1) =>
      new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    /** A metric counting log events that match `pattern`, in each of `sources`. */
    const countLogs = (id: string, sources: logs.ILogGroup[], pattern: logs.IFilterPattern) => {
      sources.forEach(
        (logGroup, i) =>
          new logs.MetricFilter(this, i === 0 ? `${id}Filter` : `${id}Filter${i}`, {
            logGroup,
            filterPattern: pattern,
            metricNamespace: "Shop",
            metricName: id,
            metricValue: "1",
          }),
      );
      return new cloudwatch.Metric({ namespace: "Shop", metricName: id, statistic: "Sum", period: fiveMinutes });
    };

    const functionErrors = this.function.metricErrors({ period: fiveMinutes });
    const reconcilerErrors = this.reconciler.metricErrors({ period: fiveMinutes });
    const functionThrottles = this.function.metricThrottles({ period: fiveMinutes });
    const reconcilerThrottles = this.reconciler.metricThrottles({ period: fiveMinutes });
    const apiErrors = api.metricServerError({ period: fiveMinutes });
    const operations = [
      dynamodb.Operation.GET_ITEM,
      dynamodb.Operation.PUT_ITEM,
      dynamodb.Operation.UPDATE_ITEM,
      dynamodb.Operation.QUERY,
      dynamodb.Operation.TRANSACT_WRITE_ITEMS,
    ];
    const tableThrottles = this.table.metricThrottledRequestsForOperations({ operations, period: fiveMinutes });
    const tableErrors = this.table.metricSystemErrorsForOperations({ operations, period: fiveMinutes });
    alarm("FunctionErrors", "The shop function failed (crashed or timed out).", functionErrors);
    alarm("ReconcilerErrors", "The reconciler failed (crashed or timed out).", reconcilerErrors);
    alarm("FunctionThrottles", "The shop function ran out of executions: shoppers get errors.", functionThrottles);
    alarm("ReconcilerThrottles", "A reconcile pass found the previous one still running.", reconcilerThrottles);
    alarm("ApiServerErrors", "The HTTP API answered 5xx (the function failed, timed out or was throttled).", apiErrors, 5);
    alarm("TableThrottles", "DynamoDB throttled the shop's requests.", tableThrottles);
    alarm("TableSystemErrors", "DynamoDB failed the shop's requests (its own errors).", tableErrors);
    alarm(
      "ReconcileFailedInvocations",
      "Reconciler invocations failed or could not run (messages in the on-failure queue).",
      // Messages arriving, not messages kept: nothing consumes the queue,
      // so its depth would stay in alarm for its whole retention and a
      // later failure would e-mail nobody.
      reconcileFailures.metricNumberOfMessagesSent({ period: fiveMinutes, statistic: "Sum" }),
    );
    // What the on-failure queue never sees: a scheduled event EventBridge
    // could not hand to the function, or a failed one the queue could not take.
    alarm(
      "ReconcileScheduleFailures",
      "The schedule could not invoke the reconciler.",
      new cloudwatch.Metric({
        namespace: "AWS/Events",
        metricName: "FailedInvocations",
        dimensionsMap: { RuleName: reconcileSchedule.ruleName },
        period: fiveMinutes,
        statistic: "Sum",
      }),
    );
    alarm(
      "ReconcilerDestinationFailures",
      "Failed reconciler invocations could not be sent to the on-failure queue.",
      this.reconciler.metric("DestinationDeliveryFailures", { period: fiveMinutes, statistic: "Sum" }),
    );
    // Webhooks answered 503 (Mollie retries, but a streak means the provider
    // or the store is down), and reconcile passes failing.
    alarm(
      "WebhookErrorsAlarm",
      "Webhooks answered 503: Mollie or the table is failing.",
      countLogs("WebhookErrors", [logGroup], logs.FilterPattern.anyTerm("webhook failed")),
      5,
    );
    alarm(
      "ReconcileFailuresAlarm",
      "Reconciliation passes are failing.",
      countLogs("ReconcileFailures", [reconciler.logGroup], logs.FilterPattern.anyTerm("reconcile failed")),
      5,
    );
    // Both functions' logs: webhooks and reconcile passes both update
    // payments, and either may ask for the operator.
    const both = [logGroup, reconciler.logGroup];
    // Log lines that ask for the operator (a refund refused as a duplicate,
    // an authorization about to lapse...): tracing's operator_action field.
    alarm(
      "OperatorActionNeeded",
      "The shop logged something an operator must act on: search the logs for operator_action.",
      countLogs("OperatorActions", both, logs.FilterPattern.booleanValue("$.fields.operator_action", true)),
    );
    // In alarm while the queue holds a message: until an operator has
    // looked (sent the event again from the back office) and emptied it.
    alarm(
      "DeliveriesGivenUp",
      "An event could not be delivered after every retry (messages in DeliveryDeadLetters): send it again from the order's back office page, then remove the message.",
      deliveryDeadLetters.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: "Maximum" }),
    );
    alarm(
      "DeliveryRuleFailuresWaiting",
      "The bus could not put a given-up delivery into its queue (messages in DeliveryRuleFailures).",
      deliveryRuleFailures.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: "Maximum" }),
    );
    alarm(
      "DeliveryRuleFailedInvocations",
      "The bus's rule for given-up deliveries failed to invoke its target.",
      new cloudwatch.Metric({
        namespace: "AWS/Events",
        metricName: "FailedInvocations",
        dimensionsMap: { RuleName: deliveryGaveUp.ruleName, EventBusName: eventBus.eventBusName },
        period: fiveMinutes,
        statistic: "Sum",
      }),
    );
    // The reconciler's heartbeat: silence (no pass done in 5 minutes) is the
    // alarm, whether the schedule, the function or its log stopped.
    const passes = countLogs("ReconcilePasses", [reconciler.logGroup], logs.FilterPattern.anyTerm("reconcile pass done"));
    new cloudwatch.Alarm(this, "ReconcilerSilent", {
      alarmDescription: "No reconcile pass finished in 5 minutes.",
      metric: passes,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // Every alarm in the stack, present and future, e-mails on alarm and on OK.
    const notify = new cloudwatchActions.SnsAction(this.alarmTopic);
    for (const construct of this.node.findAll()) {
      if (construct instanceof cloudwatch.Alarm) {
        construct.addAlarmAction(notify);
        construct.addOkAction(notify);
      }
    }

    // What the owner looks at: sales, payments, webhook latency, trouble.
    // The logs are tracing's JSON: {"fields": {"message": ..., "status": ...}}.
    const paymentStatus = (status: string) =>
      logs.FilterPattern.all(
        logs.FilterPattern.stringValue("$.fields.message", "=", "payment status updated"),
        logs.FilterPattern.stringValue("$.fields.status", "=", status),
      );
    new cloudwatch.Dashboard(this, "Dashboard", {
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: "Checkouts started",
            left: [countLogs("CheckoutsStarted", [logGroup], logs.FilterPattern.anyTerm("checkout started"))],
          }),
          new cloudwatch.GraphWidget({
            title: "Payments paid and failed",
            left: [
              countLogs("PaymentsPaid", both, paymentStatus("paid")),
              countLogs("PaymentsFailed", both, paymentStatus("failed")),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: "Latency (webhooks and pages): API p99, function p99",
            left: [
              api.metricLatency({ period: fiveMinutes, statistic: "p99" }),
              this.function.metricDuration({ period: fiveMinutes, statistic: "p99" }),
            ],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: "Errors",
            left: [functionErrors, reconcilerErrors, apiErrors, tableErrors],
          }),
          new cloudwatch.GraphWidget({
            title: "Throttles",
            left: [functionThrottles, reconcilerThrottles, tableThrottles],
          }),
          new cloudwatch.GraphWidget({ title: "Reconcile passes done", left: [passes] }),
        ],
      ],
    });

    new CfnOutput(this, "ShopUrl", { value: `https://${distribution.distributionDomainName}` });
    new CfnOutput(this, "ApiUrl", { value: api.apiEndpoint });
    new CfnOutput(this, "MollieApiKeySecret", { value: mollieKey.secretArn });
    new CfnOutput(this, "BackOfficeSecret", { value: backOffice.secretArn });
    new CfnOutput(this, "TableName", { value: this.table.tableName });
  }

  /**
   * The server binary as a function of its own, with its own role (which
   * carries only what is granted to it here) and log group.
   */
  private shopFunction(
    id: string,
    options: Pick<
      lambda.FunctionProps,
      "code" | "description" | "timeout" | "reservedConcurrentExecutions" | "environment"
    >,
  ): { fn: lambda.Function; role: iam.Role; logGroup: logs.LogGroup } {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: FUNCTION_LOG_RETENTION,
      // The logs are evidence in a dispute: they outlive the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `${id}: its log group, its table and indexes, its secrets.`,
    });
    logGroup.grantWrite(role);
    const fn = new lambda.Function(this, id, {
      ...options,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: "bootstrap",
      memorySize: 512,
      role,
      logGroup,
    });
    this.grantStoreAccess(role);
    return { fn, role, logGroup };
  }

  /**
   * What crates/store/src/dynamodb/ calls at run time, no more: GetItem,
   * Query (table and indexes), PutItem and UpdateItem (alone and inside
   * TransactWriteItems, which IAM authorizes per contained action). No
   * DeleteItem, Scan or batch writes; CreateTable, DescribeTable and
   * UpdateTimeToLive belong to `server create-table`, run by hand.
   */
  private grantStoreAccess(role: iam.Role): void {
    const tableArn = this.table.tableArn;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "ShopItems",
        actions: TABLE_ACTIONS,
        resources: [tableArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "ShopIndexes",
        actions: ["dynamodb:Query"],
        // Each index by name: no wildcard.
        resources: readTableSchema().globalSecondaryIndexes.map(
          (index) => `${tableArn}/index/${index.indexName}`,
        ),
      }),
    );
    // The audit logs are append-only: their entries (pk AUDIT#{order id},
    // and the stock log's, pk STOCKLOG) are written once with PutItem
    // (attribute_not_exists(pk)) and never changed or removed. The deny
    // holds inside transactions too.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "AuditIsAppendOnly",
        effect: iam.Effect.DENY,
        actions: ["dynamodb:DeleteItem", "dynamodb:UpdateItem"],
        resources: [tableArn],
        conditions: { "ForAnyValue:StringLike": { "dynamodb:LeadingKeys": ["AUDIT#*", "STOCKLOG"] } },
      }),
    );
  }

  /**
   * A CloudFront-scope web ACL: everything allowed, except a client (by
   * address) sending more than 50 POSTs to RATE_LIMITED_POSTS within 5
   * minutes is blocked until its rate drops.
   */
  private rateLimitingWebAcl(): wafv2.CfnWebACL {
    if (!Token.isUnresolved(this.region) && this.region !== "us-east-1") {
      throw new Error(
        `webAcl: a CloudFront web ACL can only be created in us-east-1, and this stack is in ${this.region}`,
      );
    }
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const matches = (field: wafv2.CfnWebACL.FieldToMatchProperty, value: string) => ({
      byteMatchStatement: {
        fieldToMatch: field,
        positionalConstraint: "EXACTLY",
        searchString: value,
        textTransformations: [{ priority: 0, type: "NONE" }],
      },
    });
    return new wafv2.CfnWebACL(this, "WebAcl", {
      scope: "CLOUDFRONT",
      defaultAction: { allow: {} },
      visibilityConfig: visibility("ShopWebAcl"),
      rules: [
        {
          name: "CostlyPostsPerClient",
          priority: 0,
          action: { block: {} },
          visibilityConfig: visibility("ShopCostlyPostsPerClient"),
          statement: {
            rateBasedStatement: {
              limit: 50,
              evaluationWindowSec: 300,
              aggregateKeyType: "IP",
              scopeDownStatement: {
                andStatement: {
                  statements: [
                    matches({ method: {} }, "POST"),
                    {
                      orStatement: {
                        statements: RATE_LIMITED_POSTS.map((path) => matches({ uriPath: {} }, path)),
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      ],
    });
  }
}
