//! No personal data in logs: the real `local-api serve` binary, at `RUST_LOG=debug` (the most it
//! ever logs), with its stdout and stderr captured, serves creates, updates and errors carrying
//! distinctive personal data; afterwards none of those values, nor the bearer token, appears in
//! what it printed, while the structured access-log line of every request does.
//!
//! Runs against the test run's DynamoDB Local (`DYNAMODB_ENDPOINT` and the SDK's variables, as
//! `make test` sets them), in its own table and `LOCAL_DIR`.

use reqwest::Method;
use serde_json::{Value, json};
use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const BANK: &str = "logs-bank";
const SCOPES: &str = "customer.read customer.write customer.firehose";

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Everything a pipe delivers, kept as it arrives.
fn capture(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, JoinHandle<()>) {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = buffer.clone();
    let reader = std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().expect("capture").extend_from_slice(&chunk[..n]);
        }
    });
    (buffer, reader)
}

/// `local-api serve` as a child process; dropping it kills it (if still running) and removes
/// its `LOCAL_DIR`.
struct Server {
    child: Child,
    local_dir: PathBuf,
    base: String,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Server {
    fn output(&self) -> (String, String) {
        let text = |b: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&b.lock().expect("capture")).into_owned();
        (text(&self.stdout), text(&self.stderr))
    }

    fn start(local_dir: PathBuf, table: &str) -> Server {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_local-api"))
            .arg("serve")
            .env("PORT", port.to_string())
            .env("TABLE_NAME", table)
            .env("LOCAL_DIR", &local_dir)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn local-api serve");
        let (stdout, out_reader) = capture(child.stdout.take().expect("stdout"));
        let (stderr, err_reader) = capture(child.stderr.take().expect("stderr"));
        let server = Server {
            child,
            local_dir,
            base: format!("http://127.0.0.1:{port}"),
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
        };
        server.wait_until_listening(port)
    }

    fn wait_until_listening(mut self, port: u16) -> Server {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let (out, err) = self.output();
                panic!("local-api serve exited ({status}) before listening:\n{out}\n{err}");
            }
            let banner = self.output().0.contains("listening on");
            if banner && TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return self;
            }
            if Instant::now() > deadline {
                let (out, err) = self.output();
                panic!("local-api serve did not listen on {port} within 60 s:\n{out}\n{err}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Ctrl-C (its graceful shutdown), then everything it printed: (stdout, stderr).
    fn stop(mut self) -> (String, String) {
        let pid = self.child.id().to_string();
        let interrupted = Command::new("kill").args(["-INT", &pid]).status();
        assert!(interrupted.is_ok_and(|s| s.success()), "kill -INT {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "local-api serve ignored Ctrl-C for 20 s");
            std::thread::sleep(Duration::from_millis(50));
        };
        for reader in self.readers.drain(..) {
            reader.join().expect("reader");
        }
        let (out, err) = self.output();
        assert!(status.success(), "local-api serve exited with {status}:\n{err}");
        (out, err)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.local_dir);
    }
}

/// What the test sent and what came back, to find its access-log line.
struct Sent {
    what: &'static str,
    method: Method,
    route: &'static str,
    status: u16,
    request_id: String,
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    sent: Vec<Sent>,
}

impl Client {
    /// Sends `body` (raw, so malformed JSON can be sent too) and checks the status; the route
    /// template is what the access log must name.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &mut self,
        what: &'static str,
        method: Method,
        route: &'static str,
        path: &str,
        body: Option<String>,
        if_match: Option<&str>,
        status: u16,
    ) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token));
        if let Some(b) = body {
            request = request.body(b);
        }
        if let Some(v) = if_match {
            request = request.header("If-Match", v);
        }
        let response = request.send().await.expect("request");
        let got = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("body");
        assert_eq!(got, status, "{what}: {method} {path} answered {text}");
        assert!(!request_id.is_empty(), "{what}: no x-request-id");
        self.sent.push(Sent {
            what,
            method,
            route,
            status,
            request_id,
        });
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// An access-log line, which is also the request's EMF latency metric:
/// `{"_aws":{…},"Route":"GET /v1/…","Latency":…,"level":"INFO","message":"request","request_id":…,"status":…}`.
fn access_entries(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| {
            v["message"] == "request"
                && ["_aws", "Route", "Latency", "request_id", "status"]
                    .iter()
                    .all(|k| v.get(k).is_some())
        })
        .collect()
}

// contract: C-OUT-3
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_and_tokens_never_reach_the_logs() {
    assert!(
        std::env::var_os("DYNAMODB_ENDPOINT").is_some_and(|v| !v.is_empty()),
        "DYNAMODB_ENDPOINT is not set: run the tests with `make test`, which starts DynamoDB Local and sets it \
         (or start one with scripts/dynamodb-local.sh and export DYNAMODB_ENDPOINT, AWS_REGION and credentials)"
    );
    assert!(
        std::env::var_os("AWS_REGION").is_some(),
        "AWS_REGION is not set: run the tests with `make test`"
    );
    let run = shared::domain::ids::CustomerId::new().to_string();
    // A marker in every personal value below (and nowhere else): it must never be printed.
    // (Not from `run`: the table's name is logged, at DEBUG, in the SDK's endpoint parameters.)
    let m = shared::domain::ids::CustomerId::new().to_string().replace('-', "")[20..].to_owned();
    let digits: String = m.bytes().map(|b| char::from(b'0' + b % 10)).collect();
    let (d1, d2) = (&digits[..6], &digits[6..]);
    let local_dir = std::env::temp_dir().join(format!("local-api-logs-{run}"));
    let table = format!("logs-{run}");

    // The token, minted by the same binary with the same LOCAL_DIR (so the server trusts its key).
    let out = Command::new(env!("CARGO_BIN_EXE_local-api"))
        .args(["token", "--sub", "log-auditor", "--bank", BANK, "--scope", SCOPES])
        .env("LOCAL_DIR", &local_dir)
        .output()
        .expect("local-api token");
    assert!(
        out.status.success(),
        "local-api token: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT: {token}");

    let server = Server::start(local_dir, &table);
    let mut api = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: token.clone(),
        sent: Vec::new(),
    };

    // Personal data, each value distinctive.
    let name_1 = format!("Zenobia Quillfeather {m}");
    let name_2 = format!("Bartholomew Inkwater {m}");
    let renamed = format!("Zenobia Q. Renamed {m}");
    let email_1 = format!("zenobia.{m}@canary-mail.example");
    let email_2 = format!("bart.{m}@canary-mail.example");
    let email_3 = format!("z.quill.{m}@canary-post.example");
    let phone_1 = format!("+44 7700 {d1}");
    let phone_2 = format!("+1 415-{d2}");
    let phone_3 = format!("+33 6 {d1}{}", &d2[..2]);
    let number_1 = format!("CN-{m}-1");
    let number_2 = format!("CN-{m}-2");
    let line_1 = format!("77 Canary Wharf Lane {m}");
    let line_1b = format!("Flat 3, {m} Mews");
    let city = format!("Quillborough {m}");
    let postcode = format!("ZX9 {}", &d1[..3]);
    let handle = format!("@zenobia_{m}");
    let tax_number = format!("TX-{m}");
    let detail = format!("Customer {m} disclosed a gambling debt");
    let result = format!("Promised repayment {m}");
    let documentation = format!("Payslip of {m}");
    let bad_email = format!("zenobia-{m}-at-nowhere");
    let bad_phone = format!("call {m} anytime");
    let typed = format!("yes {m}");
    let malformed_name = format!("Broken Brenda {m}");
    let date_of_birth = "1937-02-23";

    const CUSTOMERS: &str = "/v1/customers";
    const CUSTOMER: &str = "/v1/banks/{BankID}/customers/{CustomerID}";
    let post = Method::POST;
    let put = Method::PUT;
    let get = Method::GET;

    // Creates.
    let mut ids = Vec::new();
    for (name, email, phone, number) in [
        (&name_1, &email_1, &phone_1, &number_1),
        (&name_2, &email_2, &phone_2, &number_2),
    ] {
        let body = json!({
            "bank_id": BANK, "legal_name": name, "email": email, "mobile_phone_number": phone,
            "customer_number": number, "date_of_birth": date_of_birth, "title": "Dr",
            "face_image": {"url": format!("https://img.example/{m}.png")},
        });
        let r = api
            .send(
                "create",
                post.clone(),
                CUSTOMERS,
                CUSTOMERS,
                Some(body.to_string()),
                None,
                201,
            )
            .await;
        ids.push(r["customer_id"].as_str().expect("customer_id").to_owned());
    }
    let id = ids[0].clone();
    let at = format!("/v1/banks/{BANK}/customers/{id}");
    api.send("read", get.clone(), CUSTOMER, &at, None, None, 200).await;
    api.send(
        "read by number",
        get.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/customer-number/{CustomerNumber}",
        &format!("{at}/customer-number/{number_1}"),
        None,
        None,
        200,
    )
    .await;

    // Children, a link and a CRM event.
    let r = api
        .send(
            "address",
            post.clone(),
            "/v1/customers/{CustomerID}/address",
            &format!("/v1/customers/{id}/address"),
            Some(json!({"line_1": line_1, "city": city, "postcode": postcode, "country_code": "GB"}).to_string()),
            None,
            201,
        )
        .await;
    let address = r["customer_address_id"].as_str().expect("address id").to_owned();
    api.send(
        "social media handle",
        post.clone(),
        "/v1/customers/{CustomerID}/social_media_handles",
        &format!("/v1/customers/{id}/social_media_handles"),
        Some(json!({"type": "twitter", "handle": handle}).to_string()),
        None,
        201,
    )
    .await;
    api.send(
        "tax residence",
        post.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/tax-residences",
        &format!("{at}/tax-residences"),
        Some(json!({"domain": "DE", "tax_number": tax_number}).to_string()),
        None,
        201,
    )
    .await;
    api.send(
        "credit limit order",
        post.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/credit_limit/requests",
        &format!("{at}/credit_limit/requests"),
        Some(
            json!({"requested_current_rate_amount1": "7500", "current_credit_documentation": documentation})
                .to_string(),
        ),
        None,
        201,
    )
    .await;
    api.send(
        "CRM event",
        post.clone(),
        "/v1/banks/{BankID}/crm-events",
        &format!("/v1/banks/{BANK}/crm-events"),
        Some(
            json!({"customer_id": id, "category": "call", "channel": "phone", "detail": detail, "result": result})
                .to_string(),
        ),
        None,
        201,
    )
    .await;
    let link = json!({"user_id": "log-auditor", "customer_id": id}).to_string();
    api.send(
        "link",
        post.clone(),
        "/v1/banks/{BankID}/user_customer_links",
        &format!("/v1/banks/{BANK}/user_customer_links"),
        Some(link.clone()),
        None,
        201,
    )
    .await;

    // Updates and reads of what they changed.
    api.send(
        "update email",
        put.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/email",
        &format!("{at}/email"),
        Some(json!({"email": email_3}).to_string()),
        Some("\"1\""),
        200,
    )
    .await;
    api.send(
        "update phone",
        put.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/mobile-number",
        &format!("{at}/mobile-number"),
        Some(json!({"mobile_phone_number": phone_3}).to_string()),
        None,
        200,
    )
    .await;
    api.send(
        "update identity",
        put.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/identity",
        &format!("{at}/identity"),
        Some(json!({"legal_name": renamed, "date_of_birth": date_of_birth}).to_string()),
        None,
        200,
    )
    .await;
    api.send(
        "update address",
        put.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/addresses/{CustomerAddressID}",
        &format!("{at}/addresses/{address}"),
        Some(json!({"line_1": line_1b}).to_string()),
        None,
        200,
    )
    .await;
    for (what, route, path) in [
        (
            "list addresses",
            "/v1/banks/{BankID}/customers/{CustomerID}/addresses",
            format!("{at}/addresses"),
        ),
        (
            "list handles",
            "/v1/banks/{BankID}/customers/{CustomerID}/social_media_handles",
            format!("{at}/social_media_handles"),
        ),
        (
            "list tax residences",
            "/v1/banks/{BankID}/customers/{CustomerID}/tax-residences",
            format!("{at}/tax-residences"),
        ),
        (
            "list CRM events",
            "/v1/banks/{BankID}/crm-events",
            format!("/v1/banks/{BANK}/crm-events"),
        ),
        (
            "firehose",
            "/v1/banks/{BankID}/firehose/customers",
            format!("/v1/banks/{BANK}/firehose/customers"),
        ),
        (
            "linked customers",
            "/v1/users/current/customers",
            "/v1/users/current/customers".to_owned(),
        ),
    ] {
        api.send(what, get.clone(), route, &path, None, None, 200).await;
    }

    // Errors whose bodies carry personal data, some of it echoed in the 400's messages.
    api.send(
        "400 bad email",
        post.clone(),
        CUSTOMERS,
        CUSTOMERS,
        Some(json!({"bank_id": BANK, "legal_name": name_1, "email": bad_email}).to_string()),
        None,
        400,
    )
    .await;
    api.send(
        "400 bad email update",
        put.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/email",
        &format!("{at}/email"),
        Some(json!({"email": bad_email}).to_string()),
        None,
        400,
    )
    .await;
    api.send(
        "400 bad phone",
        put.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/mobile-number",
        &format!("{at}/mobile-number"),
        Some(json!({"mobile_phone_number": bad_phone}).to_string()),
        None,
        400,
    )
    .await;
    api.send(
        "400 wrong type (serde echoes the value)",
        post.clone(),
        CUSTOMERS,
        CUSTOMERS,
        Some(json!({"bank_id": BANK, "legal_name": name_2, "kyc_status": typed}).to_string()),
        None,
        400,
    )
    .await;
    api.send(
        "400 malformed JSON",
        post.clone(),
        CUSTOMERS,
        CUSTOMERS,
        Some(format!(
            r#"{{"bank_id": "{BANK}", "legal_name": "{malformed_name}", "email": "{email_1}""#
        )),
        None,
        400,
    )
    .await;
    let missing = shared::domain::ids::CustomerId::new();
    api.send(
        "404 read",
        get.clone(),
        CUSTOMER,
        &format!("/v1/banks/{BANK}/customers/{missing}"),
        None,
        None,
        404,
    )
    .await;
    api.send(
        "404 update",
        put.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/email",
        &format!("/v1/banks/{BANK}/customers/{missing}/email"),
        Some(json!({"email": email_1}).to_string()),
        None,
        404,
    )
    .await;
    api.send(
        "409 duplicate number",
        post.clone(),
        CUSTOMERS,
        CUSTOMERS,
        Some(json!({"bank_id": BANK, "legal_name": name_2, "email": email_2, "customer_number": number_1}).to_string()),
        None,
        409,
    )
    .await;
    api.send(
        "409 duplicate link",
        post.clone(),
        "/v1/banks/{BankID}/user_customer_links",
        &format!("/v1/banks/{BANK}/user_customer_links"),
        Some(link),
        None,
        409,
    )
    .await;
    api.send(
        "412 stale If-Match",
        put.clone(),
        "/v1/banks/{BankID}/customers/{CustomerID}/email",
        &format!("{at}/email"),
        Some(json!({"email": email_1}).to_string()),
        Some("\"1\""),
        412,
    )
    .await;

    // A token that fails verification (its signature altered): the authorizer's refusal must not
    // print it either; it carries the real token's claims.
    let flipped = if parts[2].starts_with('A') { "B" } else { "A" };
    let tampered = format!("{}.{}.{flipped}{}", parts[0], parts[1], &parts[2][1..]);
    let r = api
        .http
        .get(format!("{}{at}", api.base))
        .header("Authorization", format!("Bearer {tampered}"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 401, "a tampered token");

    // The change events of the successful writes (the changes function reads the stream
    // asynchronously): wait for them before stopping the server.
    let events_file = server.local_dir.join("events.jsonl");
    let writes = api
        .sent
        .iter()
        .filter(|s| s.method != Method::GET && s.status < 300)
        .count();
    let mut events = String::new();
    for _ in 0..100 {
        events = std::fs::read_to_string(&events_file).unwrap_or_default();
        if events.lines().count() >= writes {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(events.lines().count() >= writes, "{writes} writes, events: {events}");

    let Client { http, sent, .. } = api;
    drop(http);
    let (stdout, stderr) = server.stop();
    let output = format!("{stdout}\n{stderr}");

    // Nothing personal, in any form the API may have normalised it to.
    let mut secrets: Vec<(&str, String)> = vec![
        ("the run's marker", m.clone()),
        ("the bearer token", token.clone()),
        ("the token's claims", parts[1].to_owned()),
        ("the token's signature", parts[2].to_owned()),
        ("a tampered token", tampered.clone()),
        ("a date of birth", date_of_birth.to_owned()),
    ];
    for (what, value) in [
        ("a legal name", &name_1),
        ("a legal name", &name_2),
        ("a legal name", &renamed),
        ("a legal name", &malformed_name),
        ("an email", &email_1),
        ("an email", &email_2),
        ("an email", &email_3),
        ("an invalid email", &bad_email),
        ("a customer number", &number_1),
        ("a customer number", &number_2),
        ("an address", &line_1),
        ("an address", &line_1b),
        ("a city", &city),
        ("a postcode", &postcode),
        ("a social media handle", &handle),
        ("a tax number", &tax_number),
        ("a CRM event detail", &detail),
        ("a CRM event result", &result),
        ("credit documentation", &documentation),
        ("an invalid phone number", &bad_phone),
        ("an echoed value", &typed),
    ] {
        secrets.push((what, value.clone()));
        secrets.push((what, value.to_lowercase()));
    }
    // Events carry ids (a customer's id is how a consumer finds it), never personal values or tokens.
    let in_events: Vec<&str> = secrets
        .iter()
        .filter(|(_, value)| events.contains(value.as_str()))
        .map(|(what, _)| *what)
        .collect();
    assert!(in_events.is_empty(), "change events carry {in_events:?}:\n{events}");
    // Not personal data as such, but they point at a person, and the access log promises no ids.
    for id in &ids {
        secrets.push(("a customer id", id.clone()));
    }
    for phone in [&phone_1, &phone_2, &phone_3] {
        secrets.push(("a phone number", phone.clone()));
        // As stored: E.164 without spaces and dashes.
        secrets.push(("a phone number", phone.replace([' ', '-'], "")));
    }
    let leaks: Vec<String> = secrets
        .iter()
        .filter(|(_, value)| output.contains(value.as_str()))
        .map(|(what, value)| {
            let line = output.lines().find(|l| l.contains(value.as_str())).unwrap_or_default();
            format!("{what} ({value}) in: {line}")
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "local-api's output (RUST_LOG=debug) carries personal data or the token:\n{}",
        leaks.join("\n")
    );

    // The structured access log is there: one line per request, found by its request id.
    let entries = access_entries(&stdout);
    let mut problems = Vec::new();
    for s in &sent {
        let lines: Vec<&Value> = entries
            .iter()
            .filter(|e| e["request_id"] == json!(s.request_id))
            .collect();
        match lines.as_slice() {
            [e] if e["Route"] == json!(format!("{} {}", s.method, s.route))
                && e["status"] == json!(s.status)
                && e["Latency"].as_f64().is_some_and(|l| l >= 0.0) => {}
            other => problems.push(format!(
                "{} ({} {} → {}, request id {}): access log lines {other:?}",
                s.what, s.method, s.route, s.status, s.request_id
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "access-log lines missing or wrong ({} entries in {} stdout lines):\n{}",
        entries.len(),
        stdout.lines().count(),
        problems.join("\n")
    );
    let debug_lines = output.lines().filter(|l| l.contains(r#""level":"DEBUG""#)).count();
    assert!(
        debug_lines > 0,
        "RUST_LOG=debug produced no debug line: the strictest case was not exercised"
    );
    println!(
        "logs: {} requests, {} access-log lines, {} stdout + {} stderr lines ({debug_lines} at DEBUG), {} bytes; \
         none of {} personal values or the token",
        sent.len(),
        entries.len(),
        stdout.lines().count(),
        stderr.lines().count(),
        output.len(),
        secrets.len()
    );
}
