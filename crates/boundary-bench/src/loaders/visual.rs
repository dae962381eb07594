//! MathVista and MathVision (MATH-V): an image and a question. The paper keeps only
//! free-form questions (MathVista `question_type == "free_form"`, MATH-V empty
//! `options`), and so does the default; `multiple_choice` keeps the rest.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use super::{keep, load_with};
use crate::error::{BenchError, Result};
use crate::problem::{Image, Problem};
use crate::records::{Fields, Format};
use crate::registry::{Benchmark, DataSource};
use crate::source::LoadOptions;

pub const MATHVISTA_HUB: &str = "AI4Math/MathVista";

fn vendored(benchmark: Benchmark, options: &LoadOptions) -> Result<PathBuf> {
    let DataSource::Vendored { file } = benchmark.info().source else {
        unreachable!("visual annotations are vendored")
    };
    options.vendored_or_path(benchmark.name(), file)
}

/// Where MathVista's images come from.
enum Images {
    /// A folder of files named like the records' `image` field.
    Folder(PathBuf),
    /// The `decoded_image` column of the Hub's Parquet file.
    Embedded,
}

/// MathVista testmini: annotations (vendored JSONL, the release's `testmini.json`, or
/// the Hub's Parquet with embedded images) plus images.
pub fn mathvista(benchmark: Benchmark, options: &LoadOptions) -> Result<Vec<Problem>> {
    let (path, images) = match (&options.path, &options.images, &options.hub) {
        (Some(p), _, _) if Format::of(p) == Some(Format::Parquet) => (p.clone(), Images::Embedded),
        (_, Some(dir), _) => (vendored(benchmark, options)?, Images::Folder(dir.clone())),
        (None, None, Some(hub)) => {
            let files = hub.find(MATHVISTA_HUB, "data/testmini-", ".parquet")?;
            let file = files.first().ok_or_else(|| BenchError::Hub {
                repo: MATHVISTA_HUB.into(),
                file: "data/testmini-*.parquet".into(),
                message: "no such file in the repository".into(),
            })?;
            (hub.get(MATHVISTA_HUB, file)?, Images::Embedded)
        }
        _ => {
            return Err(BenchError::DataMissing {
                benchmark: benchmark.name().to_owned(),
                what: "the MathVista images (only the annotations are vendored)".into(),
                hint: "give `images` (the folder unpacked from the release's images.zip), a \
                       `path` to the Hub's testmini Parquet file, or allow downloads from the \
                       Hugging Face Hub"
                    .into(),
            });
        }
    };
    load_with(&path, |f| {
        let free_form = f.text("question_type")? == "free_form";
        if !free_form && !options.multiple_choice {
            return Ok(None);
        }
        let mut p = Problem::new(f.text("pid")?, f.text("question")?, Some(f.text("answer")?));
        keep(
            &mut p,
            f,
            &[
                "question_type",
                "answer_type",
                "unit",
                "precision",
                "choices",
            ],
        );
        p.images.push(match &images {
            Images::Folder(dir) => Image::File {
                path: image_file(f, dir, &f.text("image")?)?,
            },
            Images::Embedded => embedded_image(f)?,
        });
        Ok(Some(p))
    })
}

/// MATH-V testmini (vendored with its images): `image` is relative to the file's folder.
pub fn mathvision(benchmark: Benchmark, options: &LoadOptions) -> Result<Vec<Problem>> {
    let path = vendored(benchmark, options)?;
    let base = options
        .images
        .clone()
        .unwrap_or_else(|| path.parent().map(Path::to_owned).unwrap_or_default());
    load_with(&path, |f| {
        let options_empty = match f.get("options") {
            None => true,
            Some(Value::Array(items)) => items.is_empty(),
            Some(Value::String(s)) => s.trim().is_empty() || s.trim() == "[]",
            Some(_) => false,
        };
        if !options_empty && !options.multiple_choice {
            return Ok(None);
        }
        let mut p = Problem::new(f.text("id")?, f.text("question")?, Some(f.text("answer")?));
        keep(&mut p, f, &["subject", "level", "options"]);
        p.images.push(Image::File {
            path: image_file(f, &base, &f.text("image")?)?,
        });
        Ok(Some(p))
    })
}

/// `dir/image`, or `dir/<file name>` when the folder is the images folder itself.
fn image_file(f: &Fields<'_>, dir: &Path, image: &str) -> Result<PathBuf> {
    let candidates = [
        dir.join(image),
        dir.join(Path::new(image).file_name().unwrap_or_default()),
    ];
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        f.error(format!(
            "image `{image}` is not in {}; point `images` at the folder that holds it",
            dir.display()
        ))
    })
}

/// The Hub's `decoded_image` struct column: `{"bytes": <base64>, "path": ...}`.
fn embedded_image(f: &Fields<'_>) -> Result<Image> {
    let bytes = f
        .get("decoded_image")
        .and_then(|v| v.get("bytes"))
        .and_then(Value::as_str)
        .ok_or_else(|| f.error("no `decoded_image.bytes` column with the image"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(bytes)
        .map_err(|e| f.error(format!("`decoded_image.bytes` is not valid: {e}")))?;
    let mime = Image::mime_from_bytes(&bytes);
    Ok(Image::Bytes { bytes, mime })
}
