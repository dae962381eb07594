//! Checks that cmake and libclang are available; see the crate docs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=BOUNDARY_SKIP_BUILD_CHECK");
    println!("cargo:rerun-if-env-changed=CMAKE");
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");
    println!("cargo:rerun-if-env-changed=PATH");
    if std::env::var_os("BOUNDARY_SKIP_BUILD_CHECK").is_some() {
        return;
    }
    let mut missing = Vec::new();
    if !has_cmake() {
        missing.push("cmake (llama.cpp's build system)");
    }
    if !has_libclang() {
        missing.push("libclang (bindgen reads llama.cpp's C headers with it)");
    }
    if missing.is_empty() {
        return;
    }
    eprintln!();
    eprintln!("Boundary's embedded engine builds llama.cpp from source and needs:");
    for tool in &missing {
        eprintln!("  - {tool}");
    }
    eprintln!();
    eprintln!("Install them with:   scripts/setup/build-tools.sh");
    eprintln!(
        "  (apt-get install cmake libclang-dev as root; otherwise the PyPI wheels `cmake` and"
    );
    eprintln!("   `libclang`, then `source ~/.cache/boundary/build-tools.env` before building)");
    eprintln!("Or build without the embedded backend (HTTP backends only):");
    eprintln!("  cargo build -p boundary --no-default-features");
    eprintln!(
        "Set BOUNDARY_SKIP_BUILD_CHECK=1 if they are installed somewhere this check does not look."
    );
    std::process::exit(1);
}

fn has_cmake() -> bool {
    let cmake = std::env::var_os("CMAKE").unwrap_or_else(|| "cmake".into());
    Command::new(cmake)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Looks where clang-sys (bindgen's loader) looks: LIBCLANG_PATH, llvm-config's libdir, the
/// loader's paths and the usual system directories.
fn has_libclang() -> bool {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(path) = std::env::var_os("LIBCLANG_PATH") {
        let path = PathBuf::from(path);
        if path.is_file() {
            return true;
        }
        dirs.push(path);
    }
    if let Ok(out) = Command::new("llvm-config").arg("--libdir").output()
        && out.status.success()
    {
        dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    if let Some(paths) = std::env::var_os("LD_LIBRARY_PATH") {
        dirs.extend(std::env::split_paths(&paths));
    }
    for root in [
        "/usr/lib",
        "/usr/lib64",
        "/usr/local/lib",
        "/usr/local/lib64",
        "/lib",
        "/lib64",
        "/Library/Developer/CommandLineTools/usr/lib",
        "/Applications/Xcode.app/Contents/Developer/Toolchains/XcodeDefault.xctoolchain/usr/lib",
    ] {
        let root = Path::new(root);
        dirs.push(root.to_owned());
        if let Ok(entries) = std::fs::read_dir(root) {
            for entry in entries.flatten() {
                let path = entry.path();
                dirs.push(path.join("lib"));
                dirs.push(path);
            }
        }
    }
    dirs.iter().any(|dir| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let shared =
                    name.contains(".so") || name.ends_with(".dylib") || name.ends_with(".dll");
                name.starts_with("libclang") && !name.starts_with("libclang-cpp") && shared
            })
        })
    })
}
