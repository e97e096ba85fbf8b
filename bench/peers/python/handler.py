"""GET /v1/banks/{BankID}/customers/{CustomerID} as a Python 3.11 Lambda function with boto3: the
peer `make bench` times beside the Rust customers function. It does what the Rust route does for
a staff caller: checks the authorizer's context (expiry, read scope, staff of the bank), reads the
customer with a strongly consistent GetItem, answers 404 for another bank's customer, and returns
the customer without its key and bookkeeping attributes, with its version as the ETag."""

import json
import os
import re
import time

import boto3
from boto3.dynamodb.types import TypeDeserializer

# Created once per instance, at init, as the Rust function does.
_TABLE = os.environ["TABLE_NAME"]
_CLIENT = boto3.client("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT") or None)
_DESERIALIZE = TypeDeserializer().deserialize
_HIDDEN = {"pk", "sk", "firehose_pk", "firehose_sk", "gsi1pk", "gsi1sk", "version", "created_at",
           "dependants", "dob_of_dependents"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_BANK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def _problem(status, title):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/problem+json"},
        "body": json.dumps({"type": "about:blank", "title": title, "status": status}),
    }


def _plain(value):
    """DynamoDB numbers come back as Decimal: integers stay integers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def handler(event, context):
    params = event.get("pathParameters") or {}
    bank, customer = params.get("BankID", ""), params.get("CustomerID", "")
    auth = (event.get("requestContext") or {}).get("authorizer") or {}
    if int(auth.get("exp") or 0) + 60 < time.time():
        return _problem(401, "Unauthorized")
    if "customer.read" not in (auth.get("scope") or "").split(" "):
        return _problem(403, "Forbidden")
    if not _BANK.match(bank):
        return _problem(400, "Bad Request")
    if not _UUID.match(customer):
        return _problem(400, "Bad Request")
    if bank not in (auth.get("bank_ids") or "").split(" "):
        return _problem(403, "Forbidden")
    out = _CLIENT.get_item(
        TableName=_TABLE,
        Key={"pk": {"S": f"CUSTOMER#{customer}"}, "sk": {"S": "CUSTOMER"}},
        ConsistentRead=True,
    )
    item = out.get("Item")
    if item is None or item.get("bank_id", {}).get("S") != bank:
        return _problem(404, "Not Found")
    body = {k: _plain(_DESERIALIZE(v)) for k, v in item.items() if k not in _HIDDEN}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "ETag": f'"{item["version"]["N"]}"'},
        "body": json.dumps(body),
    }
