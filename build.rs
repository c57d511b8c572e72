//! Compiles the interface's translations (`locales/en.json`, English, the
//! default; `locales/zh-CN.json`, Simplified Chinese) into the `i18n` module
//! that `src/i18n.rs` includes: every key a constant, checked when used.
//! A key one language has and the other lacks fails the build here
//! (leptos_i18n itself would only warn, and fall back to English).
//!
//! A release build of the server made with `RTCA_EMBED_SITE=1` (`make
//! build`) also carries its site: `OUT_DIR/site.rs` lists every file
//! cargo-leptos built into the site root (the WASM bundle, its JavaScript,
//! the stylesheet, `public/`, and their precompressed copies), each with
//! its bytes, for `server::http::site`. It must come with `--precompress`:
//! only then does cargo-leptos build the server after the site (otherwise
//! both at once, the site root emptied first), so what is carried is this
//! build's; a site missing any of its parts fails the build. Any other
//! build carries nothing, and serves the site from disk.

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
    embed_site()?;
    Ok(())
}

/// Writes `OUT_DIR/site.rs`: `SITE`, the site's files by path, sorted, for
/// a release build of the server; empty otherwise.
fn embed_site() -> Result<(), Failure> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("site.rs");
    println!("cargo::rerun-if-env-changed=RTCA_EMBED_SITE");
    let asked = std::env::var("RTCA_EMBED_SITE").as_deref() == Ok("1");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let server = std::env::var_os("CARGO_FEATURE_SSR").is_some();
    let mut files = Vec::new();
    if asked && release && server {
        println!("cargo::rerun-if-env-changed=LEPTOS_SITE_ROOT");
        let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?);
        let root = manifest.join(std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".to_owned()));
        // Any change under the root (a new bundle) builds this again.
        println!("cargo::rerun-if-changed={}", root.display());
        let output = std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "rtca".to_owned());
        for part in ["wasm", "js", "css"] {
            for suffix in ["", ".br", ".gz"] {
                let needed = root.join("pkg").join(format!("{output}.{part}{suffix}"));
                if !needed.is_file() {
                    return Err(format!(
                        "RTCA_EMBED_SITE=1 but {} is missing: build with `cargo leptos build --release --precompress`",
                        needed.display()
                    )
                    .into());
                }
            }
        }
        walk(&root, &root, &mut files)?;
    }
    files.sort();
    let mut code = String::from(
        "/// The site's files, by path (sorted), as built with this binary.\npub static SITE: &[SiteFile] = &[\n",
    );
    for (path, file) in &files {
        let bytes = std::fs::read(file)?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hasher::write(&mut hasher, &bytes);
        let etag = format!("\"{:016x}-{:x}\"", std::hash::Hasher::finish(&hasher), bytes.len());
        code.push_str(&format!(
            "    SiteFile {{ path: {path:?}, bytes: include_bytes!({file:?}), etag: {etag:?} }},\n",
            file = file.display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(out, code)?;
    Ok(())
}

/// Every file under `dir`, as its path from `root` (with `/`) and on disk.
fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> Result<(), Failure> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, files)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            let relative: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            files.push((relative.join("/"), path));
        }
    }
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
