// GET /v1/banks/{BankID}/customers/{CustomerID} as a Node.js 20 Lambda function with the AWS SDK
// v3: the peer `make bench` times beside the Rust customers function. It does what the Rust route
// does for a staff caller: checks the authorizer's context (expiry, read scope, staff of the
// bank), reads the customer with a strongly consistent GetItem, answers 404 for another bank's
// customer, and returns the customer without its key and bookkeeping attributes, with its version
// as the ETag.
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";

// Created once per instance, at init, as the Rust function does.
const TABLE = process.env.TABLE_NAME;
const client = new DynamoDBClient(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {});
const HIDDEN = new Set(["pk", "sk", "firehose_pk", "firehose_sk", "gsi1pk", "gsi1sk", "version", "created_at",
  "dependants", "dob_of_dependents"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BANK = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

const problem = (status, title) => ({
  statusCode: status,
  headers: { "Content-Type": "application/problem+json" },
  body: JSON.stringify({ type: "about:blank", title, status }),
});

export const handler = async (event) => {
  const params = event.pathParameters ?? {};
  const bank = params.BankID ?? "";
  const customer = params.CustomerID ?? "";
  const auth = event.requestContext?.authorizer ?? {};
  if (Number(auth.exp ?? 0) + 60 < Date.now() / 1000) return problem(401, "Unauthorized");
  if (!(auth.scope ?? "").split(" ").includes("customer.read")) return problem(403, "Forbidden");
  if (!BANK.test(bank) || !UUID.test(customer)) return problem(400, "Bad Request");
  if (!(auth.bank_ids ?? "").split(" ").includes(bank)) return problem(403, "Forbidden");
  const out = await client.send(new GetItemCommand({
    TableName: TABLE,
    Key: { pk: { S: `CUSTOMER#${customer}` }, sk: { S: "CUSTOMER" } },
    ConsistentRead: true,
  }));
  const item = out.Item;
  if (!item || item.bank_id?.S !== bank) return problem(404, "Not Found");
  const body = Object.fromEntries(Object.entries(unmarshall(item)).filter(([k]) => !HIDDEN.has(k)));
  return {
    statusCode: 200,
    headers: { "Content-Type": "application/json", ETag: `"${item.version.N}"` },
    body: JSON.stringify(body),
  };
};
