//! Compiles the interface's translations (`locales/en.json`, English, the
//! default; `locales/zh-CN.json`, Simplified Chinese) into the `i18n` module
//! that `src/i18n.rs` includes: every key a constant, checked when used.
//! A key one language has and the other lacks fails the build here
//! (leptos_i18n itself would only warn, and fall back to English).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use leptos_i18n_build::{Config, TranslationsInfos};

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    println!("cargo::rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("i18n");
    same_keys(Path::new("locales/en.json"), Path::new("locales/zh-CN.json"))?;
    let config = Config::new("en")?.add_locale("zh-CN")?;
    let translations = TranslationsInfos::parse(config)?;
    translations.rerun_if_locales_changed();
    translations.emit_diagnostics();
    translations.generate_i18n_module(out)?;
    Ok(())
}

/// Fails unless both files hold the same keys.
fn same_keys(one: &Path, other: &Path) -> Result<(), Failure> {
    let (left, right) = (keys(one)?, keys(other)?);
    let only_left: Vec<_> = left.difference(&right).collect();
    let only_right: Vec<_> = right.difference(&left).collect();
    if only_left.is_empty() && only_right.is_empty() {
        return Ok(());
    }
    Err(format!(
        "translations differ: only in {}: {only_left:?}; only in {}: {only_right:?}",
        one.display(),
        other.display()
    )
    .into())
}

/// The keys of a flat JSON object of strings, read line by line: `"key": "…",`.
fn keys(path: &Path) -> Result<BTreeSet<String>, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| line.trim().strip_prefix('"'))
        .filter_map(|line| line.split_once("\":"))
        .map(|(key, _)| key.to_owned())
        .collect())
}
