//! The local API's dev keys against the real authorizer: what the local server mints, the
//! authorizer accepts, across restarts.

use authorizer::{ApiGatewayCustomAuthorizerRequest, Authorizer, Config};
use local_api::keys::{LOCAL_AUDIENCE, LOCAL_ISSUER, TokenRequest, load_or_create};

const METHOD_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/api/GET/v1/banks/bank-1/customers";
const WHOLE_API: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/api/*/*";

fn event(token: &str) -> ApiGatewayCustomAuthorizerRequest {
    let mut event = ApiGatewayCustomAuthorizerRequest::default();
    event.type_ = Some("TOKEN".into());
    event.authorization_token = Some(format!("Bearer {token}"));
    event.method_arn = Some(METHOD_ARN.into());
    event
}

#[tokio::test]
async fn tokens_minted_with_dev_keys_pass_the_authorizer() {
    let dir = std::env::temp_dir().join(format!("authorizer-dev-keys-{}", std::process::id()));
    let keys = load_or_create(&dir).expect("dev keys");
    let authorizer = Authorizer::from_config(Config::with_inline_jwks(LOCAL_ISSUER, LOCAL_AUDIENCE, keys.jwks_json()))
        .await
        .expect("authorizer");

    let mut request = TokenRequest::new("dev-user");
    request.bank_ids = vec!["bank-1".into(), "bank-2".into()];
    request.scope = "customer.read".into();
    let token = keys.mint(&request).expect("mint");
    let response = authorizer.authorize(event(&token)).await.expect("allowed");
    assert_eq!(response.principal_id.as_deref(), Some("dev-user"));
    let mut context = response.context.clone();
    // The token's `exp` is handed on for the functions' own expiry check.
    let exp = context["exp"]
        .as_str()
        .expect("exp")
        .parse::<u64>()
        .expect("numeric exp");
    assert!(exp > std::time::UNIX_EPOCH.elapsed().expect("clock").as_secs());
    context.as_object_mut().expect("object").remove("exp");
    assert_eq!(
        context,
        serde_json::json!({
            "user_id": "dev-user", "scope": "customer.read", "bank_ids": "bank-1 bank-2"
        })
    );
    assert_eq!(response.policy_document.statement[0].resource, [WHOLE_API]);

    // After a "restart" the same key and kid are reused: the old token still passes.
    let reloaded = load_or_create(&dir).expect("reload");
    assert_eq!(reloaded.jwks_json(), keys.jwks_json());
    let authorizer = Authorizer::from_config(Config::with_inline_jwks(
        LOCAL_ISSUER,
        LOCAL_AUDIENCE,
        reloaded.jwks_json(),
    ))
    .await
    .expect("authorizer");
    assert!(authorizer.authorize(event(&token)).await.is_ok());

    // A token for another audience, or an invalid bank id, is refused.
    let mut other = TokenRequest::new("dev-user");
    other.audience = "someone-else".into();
    let token = keys.mint(&other).expect("mint");
    assert!(authorizer.verifier().verify(&token).await.is_err());
    let mut bad_bank = TokenRequest::new("dev-user");
    bad_bank.bank_ids = vec!["not valid".into()];
    let token = keys.mint(&bad_bank).expect("mint");
    assert!(authorizer.verifier().verify(&token).await.is_err());

    // TokenRequest deserialises with defaults (e.g. from a local /token endpoint body).
    let parsed: TokenRequest = serde_json::from_str(r#"{"sub":"u"}"#).expect("json");
    assert_eq!(parsed, TokenRequest::new("u"));

    let _ = std::fs::remove_dir_all(&dir);
}
