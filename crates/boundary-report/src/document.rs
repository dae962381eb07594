//! The report as a document: sections of text, tables and figures. Renderers
//! (Markdown, HTML, files) know only these types, so any caller can add its own
//! sections and figures next to the evaluation's.

use serde::Serialize;

use crate::chart::Chart;

/// A whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub title: String,
    /// What was run, with what, and when (the run manifest): shown first.
    pub manifest: Vec<(String, String)>,
    pub sections: Vec<Section>,
}

impl Report {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            manifest: Vec::new(),
            sections: Vec::new(),
        }
    }

    pub fn manifest_entry(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.manifest.push((key.into(), value.into()));
        self
    }

    pub fn push(&mut self, section: Section) {
        self.sections.push(section);
    }

    /// Every table of the report, depth first, in document order.
    pub fn tables(&self) -> Vec<&Table> {
        let mut out = Vec::new();
        for s in &self.sections {
            s.collect(&mut out, &|b| match b {
                Block::Table(t) => Some(t),
                _ => None,
            });
        }
        out
    }

    /// Every figure of the report, depth first, in document order.
    pub fn figures(&self) -> Vec<&Figure> {
        let mut out = Vec::new();
        for s in &self.sections {
            s.collect(&mut out, &|b| match b {
                Block::Figure(f) => Some(f),
                _ => None,
            });
        }
        out
    }
}

/// A titled part of a report; nests one level per `subsections`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Anchor and file-name stem: lower case, `-` separated.
    pub id: String,
    pub title: String,
    pub blocks: Vec<Block>,
    pub subsections: Vec<Section>,
}

impl Section {
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: slug(&id.into()),
            title: title.into(),
            blocks: Vec::new(),
            subsections: Vec::new(),
        }
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Text(text.into()));
        self
    }

    pub fn block(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn subsection(mut self, section: Section) -> Self {
        self.subsections.push(section);
        self
    }

    fn collect<'a, T>(&'a self, out: &mut Vec<&'a T>, pick: &dyn Fn(&'a Block) -> Option<&'a T>) {
        for b in &self.blocks {
            match b {
                Block::Details { blocks, .. } => {
                    out.extend(blocks.iter().filter_map(pick));
                }
                other => out.extend(pick(other)),
            }
        }
        for s in &self.subsections {
            s.collect(out, pick);
        }
    }
}

/// One piece of a section.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "content", rename_all = "snake_case")]
pub enum Block {
    /// A paragraph. `` `code` `` and `**bold**` are the only markup.
    Text(String),
    /// A bulleted list.
    List(Vec<String>),
    Table(Table),
    Figure(Figure),
    /// Text shown verbatim (a response, a prompt).
    Verbatim(String),
    /// Collapsed content with a one-line summary (`<details>` in HTML).
    Details {
        summary: String,
        blocks: Vec<Block>,
    },
}

/// A table: written into the report and, whole, as `tables/<name>.csv` and `.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// File-name stem, unique within a report.
    pub name: String,
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(name: impl Into<String>, caption: impl Into<String>, columns: &[&str]) -> Self {
        Self {
            name: slug(&name.into()),
            caption: caption.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(mut self, cells: Vec<Cell>) -> Self {
        self.push(cells);
        self
    }

    pub fn push(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(
            cells.len(),
            self.columns.len(),
            "row width of {}",
            self.name
        );
        self.rows.push(cells);
    }
}

/// A table cell: typed, so that CSV/JSON keep numbers while the report formats them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Integer(i64),
    /// A real number shown with `decimals` decimals.
    Number {
        value: f64,
        #[serde(skip)]
        decimals: u8,
    },
    /// A fraction in [0, 1] shown as a percentage with one decimal.
    Percent(#[serde(serialize_with = "plain_f64")] f64),
    Missing,
}

fn plain_f64<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(*v)
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    pub fn number(value: f64, decimals: u8) -> Self {
        Cell::Number { value, decimals }
    }

    pub fn count(n: impl TryInto<i64>) -> Self {
        n.try_into().map_or(Cell::Missing, Cell::Integer)
    }

    /// The cell as people read it.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Integer(i) => i.to_string(),
            Cell::Number { value, decimals } => format!("{value:.*}", usize::from(*decimals)),
            Cell::Percent(p) => format!("{:.1}", 100.0 * p),
            Cell::Missing => "–".into(),
        }
    }

    /// The cell in a CSV file: full precision, empty when missing.
    pub fn csv(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Integer(i) => i.to_string(),
            Cell::Number { value, .. } | Cell::Percent(value) => value.to_string(),
            Cell::Missing => String::new(),
        }
    }
}

/// A figure: drawn as `plots/<name>.svg` and `.png`, and inline in the HTML report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// File-name stem, unique within a report.
    pub name: String,
    pub caption: String,
    pub chart: Chart,
}

impl Figure {
    pub fn new(name: impl Into<String>, caption: impl Into<String>, chart: Chart) -> Self {
        Self {
            name: slug(&name.into()),
            caption: caption.into(),
            chart,
        }
    }
}

/// `MATH500 · pass@k` → `math500-pass-k`: safe as a file name and an HTML anchor.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c == '+' {
            out.push_str("plus");
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_safe() {
        assert_eq!(slug("MATH500 · pass@k"), "math500-pass-k");
        assert_eq!(slug("HumanEval+ coverage"), "humanevalplus-coverage");
        assert_eq!(slug("  a__b  "), "a-b");
    }

    #[test]
    fn cells_display_and_serialise() {
        assert_eq!(Cell::Percent(0.1234).display(), "12.3");
        assert_eq!(Cell::number(1.23456, 2).display(), "1.23");
        assert_eq!(Cell::Missing.csv(), "");
        assert_eq!(
            serde_json::to_string(&vec![Cell::Percent(0.5), Cell::count(3u64), Cell::Missing])
                .unwrap(),
            "[0.5,3,null]"
        );
    }

    #[test]
    fn reports_serialise() {
        let mut r = Report::new("r");
        r.push(
            Section::new("a", "A")
                .text("t")
                .block(Block::List(vec!["x".into()]))
                .block(Block::Verbatim("v".into())),
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json["sections"][0]["blocks"][0],
            serde_json::json!({"kind": "text", "content": "t"})
        );
    }

    #[test]
    fn tables_and_figures_are_found_in_details_and_subsections() {
        let mut report = Report::new("r");
        report.push(
            Section::new("a", "A")
                .block(Block::Table(Table::new("t1", "", &["x"])))
                .subsection(Section::new("b", "B").block(Block::Details {
                    summary: "more".into(),
                    blocks: vec![Block::Table(Table::new("t2", "", &["y"]))],
                })),
        );
        let names: Vec<&str> = report.tables().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["t1", "t2"]);
        assert!(report.figures().is_empty());
    }
}
