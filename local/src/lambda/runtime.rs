//! A Lambda Runtime API on loopback, enough to run a function binary as Lambda runs it: the
//! function polls `GET /2018-06-01/runtime/invocation/next`, gets an event with the
//! `Lambda-Runtime-*` headers, and posts its answer to `.../invocation/{id}/response` (or
//! `.../error`); a failed init posts to `/2018-06-01/runtime/init/error`.
//!
//! One function process at a time per [`RuntimeApi`] (the local Lambda service gives every
//! process its own). Every process gets a new generation, and each connection belongs to the
//! generation current when it was accepted, so a poll left over from a killed process can never take
//! an event meant for the next one.

use axum::Router;
use axum::body::Bytes;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::{IncomingStream, Listener};
use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

/// The template's `Globals` timeout, for harnesses that have no function of the template.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Lambda's limit on a synchronous invocation's response payload.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;
/// Lambda's init phase is limited to 10 s, whatever the function's timeout.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an invocation has no answer: each is what Lambda reports for it, and each ends the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The process exited (crashed, or was killed) before or during the invocation.
    Exited(String),
    /// The process posted `/init/error`, or exited during init.
    Init(String),
    /// No answer within the function's timeout.
    Timeout(Duration),
    /// The answer was larger than [`MAX_RESPONSE_BYTES`].
    TooLarge(usize),
    /// The Runtime API itself failed (cannot start the process, poll lost).
    Service(String),
}

impl Failure {
    /// The error document Lambda returns to a synchronous caller for this failure.
    pub fn lambda_error(&self, request_id: &str) -> serde_json::Value {
        let (error_type, message) = match self {
            Self::Exited(status) => (
                "Runtime.ExitError",
                format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
            ),
            Self::Init(detail) => ("Runtime.InitError", format!("RequestId: {request_id} {detail}")),
            Self::Timeout(t) => (
                "Sandbox.Timedout",
                format!(
                    "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                    t.as_secs_f64()
                ),
            ),
            Self::TooLarge(n) => (
                "Function.ResponseSizeTooLarge",
                format!(
                    "Response payload size ({n} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                ),
            ),
            Self::Service(detail) => ("ServiceException", detail.clone()),
        };
        serde_json::json!({"errorType": error_type, "errorMessage": message})
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exited(status) => write!(f, "the function exited ({status})"),
            Self::Init(detail) => write!(f, "init failed: {detail}"),
            Self::Timeout(t) => write!(f, "no answer within {t:?}"),
            Self::TooLarge(n) => write!(f, "the response of {n} bytes is over Lambda's {MAX_RESPONSE_BYTES}"),
            Self::Service(detail) => f.write_str(detail),
        }
    }
}

impl From<Failure> for String {
    fn from(f: Failure) -> Self {
        f.to_string()
    }
}

/// A poll for the next invocation, waiting for an event.
struct Waiter {
    generation: u64,
    arrived: Instant,
    tx: oneshot::Sender<Invocation>,
}

struct Invocation {
    id: String,
    body: Bytes,
    deadline_ms: u64,
    arn: String,
}

/// What the function posted for an invocation.
struct Outcome {
    at: Instant,
    error: bool,
    body: Result<Bytes, usize>,
}

struct Shared {
    generation: AtomicU64,
    generation_tx: watch::Sender<u64>,
    waiters: mpsc::UnboundedSender<Waiter>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<String>>,
}

/// The generation of a connection, decided when it is accepted.
#[derive(Debug, Clone, Copy)]
struct Conn {
    generation: u64,
}

struct GenerationListener {
    inner: TcpListener,
    shared: Arc<Shared>,
}

impl Listener for GenerationListener {
    type Io = TcpStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (TcpStream, Conn) {
        loop {
            if let Ok((stream, _)) = self.inner.accept().await {
                let _ = stream.set_nodelay(true);
                let generation = self.shared.generation.load(Ordering::SeqCst);
                return (stream, Conn { generation });
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn local_addr(&self) -> std::io::Result<Conn> {
        Ok(Conn { generation: 0 })
    }
}

impl Connected<IncomingStream<'_, GenerationListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, GenerationListener>) -> Self {
        *stream.remote_addr()
    }
}

/// How a function process is started: its bootstrap, environment and log file.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Shown in reports.
    pub label: String,
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    pub bootstrap: PathBuf,
    /// The function's own variables (Lambda's are added by [`RuntimeApi::spawn`]).
    pub env: Vec<(String, String)>,
    /// The template's `Timeout`: for init and for each invocation.
    pub timeout: Duration,
    /// The template's `MemorySize`, in MB (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub memory_mb: u32,
    /// The access key of the function's credentials: the local IAM check knows the function by it.
    pub access_key_id: String,
    /// stdout and stderr (CloudWatch Logs on Lambda) are appended to this file; `None`: both go to
    /// this process's stderr (`make invoke`, like `sam local invoke`).
    pub log: Option<PathBuf>,
}

/// A running function process; killed when dropped.
pub struct Process {
    child: Child,
    pub spawned: Instant,
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How the process ended, if it has.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// `VmRSS` and `VmHWM` (peak) from `/proc/<pid>/status`, in KiB.
    pub fn memory_kib(&self) -> Result<(u64, u64), String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).map_err(|e| e.to_string())?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| format!("no {name} in /proc/{}/status", self.pid()))
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One invocation's answer, as the harness saw it.
pub struct Invoked {
    /// From handing the event to the function's `/next` poll to its posted answer.
    pub duration: Duration,
    /// When the function's `/next` poll arrived.
    pub polled: Instant,
    pub error: bool,
    pub body: Bytes,
}

pub struct RuntimeApi {
    pub port: u16,
    shared: Arc<Shared>,
    waiters: mpsc::UnboundedReceiver<Waiter>,
    function_arn: String,
    timeout: Duration,
    _server: crate::Background,
}

impl RuntimeApi {
    /// Serves the Runtime API on `127.0.0.1:port` (0: any free port).
    pub async fn start(port: u16) -> Result<Self, String> {
        let inner = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("runtime API: cannot listen on 127.0.0.1:{port}: {e}"))?;
        let port = inner.local_addr().map_err(|e| e.to_string())?.port();
        let (generation_tx, _) = watch::channel(0);
        let (waiters_tx, waiters) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            generation_tx,
            waiters: waiters_tx,
            pending: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            // Sizes are Lambda's to judge (`Failure::TooLarge`), not the HTTP layer's.
            .layer(DefaultBodyLimit::disable())
            .with_state(shared.clone());
        let listener = GenerationListener {
            inner,
            shared: shared.clone(),
        };
        let server = crate::Background::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<Conn>()).await;
        });
        Ok(Self {
            port,
            shared,
            waiters,
            function_arn: String::new(),
            timeout: TIMEOUT,
            _server: server,
        })
    }

    /// Starts `launch` against this Runtime API, as the only function of a new generation.
    pub fn spawn(&mut self, launch: &Launch) -> Result<Process, String> {
        self.timeout = launch.timeout;
        let generation = self.shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.shared.generation_tx.send_replace(generation);
        self.shared.pending.lock().expect("pending").clear();
        *self.shared.init_error.lock().expect("init error") = None;
        while self.waiters.try_recv().is_ok() {}
        self.function_arn = format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{}",
            launch.function_name
        );

        let (stdout, stderr) = match &launch.log {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                (
                    Stdio::from(file.try_clone().map_err(|e| e.to_string())?),
                    Stdio::from(file),
                )
            }
            None => (Stdio::from(std::io::stderr()), Stdio::inherit()),
        };
        let task_root = launch.bootstrap.parent().unwrap_or(FsPath::new("."));
        let mut command = command_for(&launch.bootstrap)?;
        command
            .env_clear()
            .current_dir(task_root)
            .envs(lambda_env(launch, self.port, task_root))
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        let spawned = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", launch.bootstrap.display()))?;
        Ok(Process { child, spawned })
    }

    /// Waits for the process's next poll.
    async fn poll(&mut self, process: &mut Process, limit: Duration) -> Result<Waiter, Failure> {
        let generation = self.shared.generation.load(Ordering::SeqCst);
        let deadline = Instant::now() + limit;
        loop {
            let tick = tokio::time::sleep(Duration::from_millis(2));
            tokio::select! {
                waiter = self.waiters.recv() => {
                    let waiter = waiter.ok_or_else(|| Failure::Service("runtime API stopped".into()))?;
                    if waiter.generation == generation {
                        return Ok(waiter);
                    }
                }
                () = tick => {
                    if let Some(status) = process.exited() {
                        let init = self.shared.init_error.lock().expect("init error").take();
                        return Err(match init {
                            Some(e) => Failure::Init(format!("({status}) {e}")),
                            None => Failure::Exited(status),
                        });
                    }
                    if Instant::now() >= deadline {
                        return Err(Failure::Timeout(limit));
                    }
                }
            }
        }
    }

    /// Waits for the first poll of a freshly spawned process: the init duration.
    pub async fn init(&mut self, process: &mut Process) -> Result<(Duration, PendingPoll), Failure> {
        let waiter = match self.poll(process, INIT_TIMEOUT).await {
            Err(Failure::Exited(status)) => return Err(Failure::Init(format!("Runtime exited with error: {status}"))),
            other => other?,
        };
        Ok((waiter.arrived.duration_since(process.spawned), PendingPoll(waiter)))
    }

    /// One invocation: waits for the process's poll (unless given), hands it `event`, waits for
    /// the answer.
    pub async fn invoke(
        &mut self,
        process: &mut Process,
        polled: Option<PendingPoll>,
        event: Bytes,
    ) -> Result<Invoked, Failure> {
        let waiter = match polled {
            Some(PendingPoll(w)) => w,
            None => self.poll(process, self.timeout).await?,
        };
        // Unique across processes, as Lambda's request ids are.
        let id = shared::domain::ids::CustomerId::new().to_string();
        let (tx, mut rx) = oneshot::channel();
        self.shared.pending.lock().expect("pending").insert(id.clone(), tx);
        let deadline_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default()
            + self.timeout.as_millis() as u64;
        let polled = waiter.arrived;
        let handed = Instant::now();
        let invocation = Invocation {
            id: id.clone(),
            body: event,
            deadline_ms,
            arn: self.function_arn.clone(),
        };
        if waiter.tx.send(invocation).is_err() {
            self.shared.pending.lock().expect("pending").remove(&id);
            return Err(Failure::Service("the function's poll went away".into()));
        }
        let deadline = handed + self.timeout;
        loop {
            let tick = tokio::time::sleep(Duration::from_millis(2));
            tokio::select! {
                outcome = &mut rx => {
                    let outcome = outcome.map_err(|_| Failure::Service("runtime API dropped the invocation".into()))?;
                    return Ok(Invoked {
                        duration: outcome.at.duration_since(handed),
                        polled,
                        error: outcome.error,
                        body: outcome.body.map_err(Failure::TooLarge)?,
                    });
                }
                () = tick => {
                    if let Some(status) = process.exited() {
                        return Err(Failure::Exited(status));
                    }
                    if Instant::now() >= deadline {
                        return Err(Failure::Timeout(self.timeout));
                    }
                }
            }
        }
    }
}

/// A poll already received (the first one, which ends init).
pub struct PendingPoll(Waiter);

/// What Lambda's `provided.al2023` runtime sets for every function.
fn lambda_env(launch: &Launch, port: u16, task_root: &FsPath) -> Vec<(String, String)> {
    let name = &launch.function_name;
    [
        ("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}")),
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", launch.memory_mb.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2025/01/01/[$LATEST]0123456789abcdef".into(),
        ),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", launch.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        ("AWS_SESSION_TOKEN", "local".into()),
        ("_HANDLER", "bootstrap".into()),
        ("LAMBDA_TASK_ROOT", task_root.display().to_string()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("TZ", ":UTC".into()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

async fn next(State(shared): State<Arc<Shared>>, ConnectInfo(conn): ConnectInfo<Conn>) -> Response {
    let arrived = Instant::now();
    let mut generation = shared.generation_tx.subscribe();
    if *generation.borrow_and_update() != conn.generation {
        return gone();
    }
    let (tx, rx) = oneshot::channel();
    let waiter = Waiter {
        generation: conn.generation,
        arrived,
        tx,
    };
    if shared.waiters.send(waiter).is_err() {
        return gone();
    }
    tokio::select! {
        invocation = rx => match invocation {
            Ok(invocation) => event_response(invocation),
            Err(_) => gone(),
        },
        _ = generation.changed() => gone(),
    }
}

fn event_response(invocation: Invocation) -> Response {
    let mut response = (StatusCode::OK, invocation.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", invocation.id);
    set("lambda-runtime-deadline-ms", invocation.deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", invocation.arn);
    set(
        "lambda-runtime-trace-id",
        "Root=1-6923d1f5-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0".into(),
    );
    response
}

/// The answer to a poll of an earlier generation (its process is gone).
fn gone() -> Response {
    (StatusCode::GONE, "stale poll").into_response()
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    deliver(&shared, &id, false, body)
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    deliver(&shared, &id, true, body)
}

fn deliver(shared: &Shared, id: &str, error: bool, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let too_large = body.len() > MAX_RESPONSE_BYTES;
    let body = if too_large { Err(body.len()) } else { Ok(body) };
    match shared.pending.lock().expect("pending").remove(id) {
        // Lambda refuses an oversized answer with 413 and fails the invocation.
        Some(tx) => {
            let _ = tx.send(Outcome { at, error, body });
            if too_large {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::ACCEPTED
            }
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *shared.init_error.lock().expect("init error") = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

/// ELF `e_machine` of an aarch64 executable.
const EM_AARCH64: u16 = 183;

/// How to start `bootstrap`: itself, or, for an arm64 bootstrap on another machine, under
/// `qemu-aarch64-static` with the arm64 glibc (Debian's `qemu-user-static` and `libc6-arm64-cross`),
/// so that the architecture the template ships runs here before it ships. `LOCAL_QEMU_AARCH64` and
/// `LOCAL_AARCH64_SYSROOT` name other paths.
fn command_for(bootstrap: &FsPath) -> Result<Command, String> {
    let mut header = [0u8; 20];
    let machine = std::fs::File::open(bootstrap)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .ok()
        .filter(|()| header[..4] == *b"\x7fELF")
        .map(|()| u16::from_le_bytes([header[18], header[19]]));
    if machine != Some(EM_AARCH64) || cfg!(target_arch = "aarch64") {
        return Ok(Command::new(bootstrap));
    }
    let qemu = std::env::var("LOCAL_QEMU_AARCH64").unwrap_or_else(|_| "qemu-aarch64-static".into());
    let sysroot = std::env::var("LOCAL_AARCH64_SYSROOT").unwrap_or_else(|_| "/usr/aarch64-linux-gnu".into());
    if !FsPath::new(&sysroot).join("lib").is_dir() {
        return Err(format!(
            "{} is an arm64 bootstrap: running it here needs the arm64 glibc in {sysroot} \
             (apt-get install qemu-user-static libc6-arm64-cross libgcc-s1-arm64-cross)",
            bootstrap.display()
        ));
    }
    let mut command = Command::new(qemu);
    command.arg("-L").arg(sysroot).arg(bootstrap);
    Ok(command)
}
