//! Generates the client from the contract, `docs/openapi.yaml`, at build time: its 3.0 rendition
//! (progenitor reads 3.0 only), checked to describe the same API, then progenitor's code.
//! Both land in OUT_DIR: `client.rs` and `openapi-3.0.json`.

#[path = "build/openapi30.rs"]
mod openapi30;

use std::{env, fs, path::PathBuf};

const CONTRACT: &str = "../../docs/openapi.yaml";

fn main() {
    println!("cargo::rerun-if-changed={CONTRACT}");
    println!("cargo::rerun-if-changed=build/openapi30.rs");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    let text = fs::read_to_string(CONTRACT).unwrap_or_else(|e| panic!("{CONTRACT}: {e}"));
    let contract: serde_json::Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{CONTRACT}: {e}"));
    let rendition = openapi30::downgrade(&contract).unwrap_or_else(|e| panic!("{CONTRACT} has no 3.0 rendition: {e}"));
    if let Err(differences) = openapi30::same_api(&contract, &rendition) {
        panic!("the 3.0 rendition differs from {CONTRACT}:\n{}", differences.join("\n"));
    }
    let pretty = serde_json::to_string_pretty(&rendition).expect("a JSON value serializes");
    fs::write(out.join("openapi-3.0.json"), pretty).expect("OUT_DIR is writable");

    let spec: openapiv3::OpenAPI =
        serde_json::from_value(rendition).unwrap_or_else(|e| panic!("the 3.0 rendition does not parse as 3.0: {e}"));
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged);
    let tokens = progenitor::Generator::new(&settings)
        .generate_tokens(&spec)
        .unwrap_or_else(|e| panic!("progenitor: {e}"));
    let file: syn::File = syn::parse2(tokens).expect("progenitor generates Rust");
    fs::write(out.join("client.rs"), prettyplease::unparse(&file)).expect("OUT_DIR is writable");
}
