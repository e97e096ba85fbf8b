//! `local-api invoke`: a Docker-free `sam local invoke`. One built function, one event, its answer;
//! the function's environment from the template and an `--env-vars` file as `sam local` builds it,
//! `host.docker.internal` mapped to this machine (what `--add-host host.docker.internal:host-gateway`
//! does for `sam local` on Linux), and its DynamoDB calls through the local IAM check.

use crate::lambda::{self, Answer, EnvVars, Function};
use crate::template::{Symbols, Template};
use crate::{LocalError, iam, keys, table};
use bytes::Bytes;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Runs the invocation `args` describe: `<LogicalId> <event | -> [--env-vars FILE]`. Returns the
/// JSON to print and whether the function succeeded.
pub async fn run(local_dir: &Path, args: &[String]) -> Result<(String, bool), LocalError> {
    let usage = |m: &str| LocalError::Usage(m.to_owned());
    let mut positional = Vec::new();
    let mut env_file = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--env-vars" => {
                env_file = Some(PathBuf::from(
                    it.next().ok_or_else(|| usage("--env-vars needs a file"))?,
                ))
            }
            _ => positional.push(arg.clone()),
        }
    }
    let [function_id, event_path] = positional.as_slice() else {
        return Err(usage("invoke takes a function's logical id and an event file (or -)"));
    };
    let event = if event_path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| usage(&format!("cannot read the event from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(event_path).map_err(|e| usage(&format!("{event_path}: {e}")))?
    };
    serde_json::from_str::<serde_json::Value>(&event).map_err(|e| usage(&format!("the event is not JSON: {e}")))?;

    let template = Template::load(&crate::template_path()?)?;
    let function = template.function(function_id).ok_or_else(|| {
        let known: Vec<&str> = template.functions.iter().map(|f| f.logical_id.as_str()).collect();
        usage(&format!(
            "{function_id} is not a function of the template ({})",
            known.join(", ")
        ))
    })?;
    let env_vars = match &env_file {
        Some(path) => EnvVars::load(path).map_err(LocalError::Lambda)?,
        None => EnvVars::default(),
    };

    // The identity provider is the local one (as `make run`'s), its JWKS served here.
    let dev_keys = keys::load_or_create(local_dir)?;
    let (jwks_url, _jwks) = lambda::serve_jwks(dev_keys.jwks_json().to_owned()).await?;
    let region = crate::region();
    let local_table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "customer-api".into());
    let parameters = crate::local_identity(&jwks_url);
    let hosts = [("host.docker.internal".to_owned(), "127.0.0.1".to_owned())];
    let symbols = Symbols::new(&template, &parameters, &region, &local_table);
    let mut launch = lambda::launch(function, &symbols, &env_vars, &hosts, &crate::build_dir()?, local_dir)?;
    // Logs to stderr, as `sam local invoke` prints them.
    launch.log = None;

    // The function's DynamoDB is the one its environment names (else this process's), behind the
    // IAM check of its policy for the table it names.
    let var = |name: &str| {
        launch
            .env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let publishes = var("EVENTBRIDGE_ENDPOINT").is_none();
    let enforcer = match var("DYNAMODB_ENDPOINT").or_else(|| std::env::var("DYNAMODB_ENDPOINT").ok()) {
        Some(upstream) if function.environment.iter().any(|(k, _)| k == "DYNAMODB_ENDPOINT") => {
            let table_name = var("TABLE_NAME").unwrap_or(local_table.clone());
            let client =
                shared::config::dynamodb_client_for(Some(&upstream)).map_err(|e| LocalError::Lambda(e.to_string()))?;
            table::ensure_table(&client, &table_name, &template.table)
                .await
                .map_err(|e| {
                    LocalError::Lambda(format!(
                        "the function's DYNAMODB_ENDPOINT is {upstream}, where table {table_name} cannot be prepared: {e}"
                    ))
                })?;
            let symbols = Symbols::new(&template, &parameters, &region, &table_name);
            let enforcer = iam::Enforcer::start(&template, &symbols, &upstream).await?;
            for (k, v) in &mut launch.env {
                if k == "DYNAMODB_ENDPOINT" {
                    v.clone_from(&enforcer.endpoint);
                }
            }
            Some(enforcer)
        }
        _ => None,
    };

    // A function that publishes events (EVENTBRIDGE_ENDPOINT declared, left empty) publishes
    // them to local-api's receiver: LOCAL_DIR/events.jsonl.
    let mut receiver = None;
    if function.environment.iter().any(|(k, _)| k == "EVENTBRIDGE_ENDPOINT") && publishes {
        let started = crate::changes::receiver(local_dir).await?;
        for (k, v) in &mut launch.env {
            match k.as_str() {
                "EVENTBRIDGE_ENDPOINT" => v.clone_from(&started.url),
                "EVENT_BUS_NAME" if v.is_empty() => *v = crate::changes::BUS.to_owned(),
                _ => {}
            }
        }
        receiver = Some(started);
    }

    let function = Function::new(launch);
    let result = function.invoke(Bytes::from(event)).await;
    drop((enforcer, receiver));
    Ok(match result {
        Ok(Answer::Response(body)) => (String::from_utf8_lossy(&body).into_owned(), true),
        Ok(Answer::Error(body)) => (String::from_utf8_lossy(&body).into_owned(), false),
        Err(failure) => (failure.lambda_error("local-invoke").to_string(), false),
    })
}
