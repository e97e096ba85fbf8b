// The TypeScript client (openapi-typescript types + openapi-fetch) against a running API; `make
// clients` type-checks it against the generated types and runs it against `make run`.
// Checks that every operation of docs/openapi.yaml is in the generated types, then: creates
// customers, reads one, updates it with If-Match (and gets a 412 with the old ETag), adds and
// updates an address, pages through the firehose with page_token, and gets a 400 problem as the
// client's error value. Asserts what it gets; exits non-zero on the first surprise.
//
// Environment: CUSTOMER_API_URL, CUSTOMER_API_TOKEN (staff of CUSTOMER_API_BANK with every scope),
// CUSTOMER_API_BANK (a bank with no customers yet).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import { parse } from "yaml";
import type { components, paths } from "./.build/schema.js";

type Problem = components["schemas"]["Problem"];

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

// Every operation of the contract is an entry of the generated `operations`. (Paths are relative to
// where this runs: clients/typescript/.build/tour.mjs.)
const contractUrl = new URL("../../../docs/openapi.yaml", import.meta.url);
const contract = parse(readFileSync(contractUrl, "utf8")) as {
  paths: Record<string, Record<string, { operationId?: string }>>;
};
const generated = readFileSync(new URL("./schema.d.ts", import.meta.url), "utf8");
const operationIds = Object.values(contract.paths).flatMap((item) =>
  Object.values(item).flatMap((operation) => (operation.operationId ? [operation.operationId] : [])),
);
const operationsAt = generated.indexOf("export interface operations {");
assert.ok(operationsAt >= 0, "the generated types have no operations");
for (const id of operationIds) {
  assert.ok(generated.includes(`\n    ${id}: {`, operationsAt), `operation ${id} is not in the generated types`);
}

const bank = env("CUSTOMER_API_BANK");
const client = createClient<paths>({
  baseUrl: env("CUSTOMER_API_URL"),
  headers: { Authorization: `Bearer ${env("CUSTOMER_API_TOKEN")}` },
});

// Three customers, so that the firehose has pages of two.
const created: string[] = [];
for (const n of [1, 2, 3]) {
  const { data, response } = await client.POST("/v1/customers", {
    body: { bank_id: bank, legal_name: `TypeScript Client ${n}`, email: `client${n}@example.com` },
  });
  assert.equal(response.status, 201);
  assert.ok(data);
  created.push(data.customer_id);
}
const customerId = created[0]!;
const customerPath = { path: { BankID: bank, CustomerID: customerId } };

const read = await client.GET("/v1/banks/{BankID}/customers/{CustomerID}", { params: customerPath });
assert.ok(read.data, `read: ${read.response.status}`);
assert.deepEqual([read.data.id, read.data.legal_name, read.data.email], [customerId, "TypeScript Client 1", "client1@example.com"]);
const firstVersion = read.response.headers.get("ETag");
assert.ok(firstVersion);

const updateEmail = (email: string, ifMatch: string) =>
  client.PUT("/v1/banks/{BankID}/customers/{CustomerID}/email", {
    params: { ...customerPath, header: { "If-Match": ifMatch } },
    body: { email },
  });
const updated = await updateEmail("renamed@example.com", firstVersion);
assert.ok(updated.data, `update: ${updated.response.status}`);
assert.equal(updated.data.customer.email, "renamed@example.com");
assert.notEqual(updated.response.headers.get("ETag"), firstVersion, "an update gives a new ETag");

// The version read before the update no longer matches: 412, the problem as the error value.
const stale = await updateEmail("stale@example.com", firstVersion);
const staleProblem: Problem | undefined = stale.error;
assert.equal(staleProblem?.status, 412);

const added = await client.POST("/v1/customers/{CustomerID}/address", {
  params: { path: { CustomerID: customerId } },
  body: { line_1: "12 St James Square", city: "London", country_code: "GB" },
});
assert.ok(added.data, `add address: ${added.response.status}`);
const addressPath = { path: { ...customerPath.path, CustomerAddressID: added.data.customer_address_id } };
const moved = await client.PUT("/v1/banks/{BankID}/customers/{CustomerID}/addresses/{CustomerAddressID}", {
  params: { ...addressPath, header: { "If-Match": added.response.headers.get("ETag") ?? "" } },
  body: { city: "Bath" },
});
assert.ok(moved.data, `update address: ${moved.response.status}`);
assert.deepEqual([moved.data.city, moved.data.line_1], ["Bath", "12 St James Square"]);

// Every customer of the bank, two per page, each exactly once.
const seen: string[] = [];
let pages = 0;
let pageToken: string | undefined;
do {
  const page = await client.GET("/v1/banks/{BankID}/firehose/customers", {
    params: { path: { BankID: bank }, query: { limit: 2, page_token: pageToken } },
  });
  assert.ok(page.data, `firehose: ${page.response.status}`);
  pages += 1;
  seen.push(...page.data.customers.map((customer) => customer.id));
  pageToken = page.data.next_page_token;
} while (pageToken);
assert.deepEqual([...seen].sort(), [...created].sort());
assert.ok(pages >= 2, `3 customers in pages of 2 take 2 pages, took ${pages}`);

// An update naming no field passes the client's types (every field is optional) and is refused by
// the server: a 400 problem naming what is wrong.
const empty = await client.PUT("/v1/banks/{BankID}/customers/{CustomerID}/addresses/{CustomerAddressID}", {
  params: addressPath,
  body: {},
});
assert.equal(empty.response.status, 400);
assert.equal(empty.error?.status, 400);
assert.ok(empty.error?.errors?.length, `a 400 names the rejected fields: ${JSON.stringify(empty.error)}`);
console.log(
  `typescript client: ${operationIds.length} operations; create, read, If-Match update (and a 412), address add and update, firehose in ${pages} pages, a 400 problem: all as expected`,
);
