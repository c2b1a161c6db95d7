//! The figures of one run, written out as BENCHMARKS.md.

#[derive(Default)]
pub struct Report {
    rows: Vec<[String; 4]>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn row(
        &mut self,
        figure: impl Into<String>,
        measured: impl Into<String>,
        reference: impl Into<String>,
        goal: impl Into<String>,
    ) {
        self.rows.push([
            figure.into(),
            measured.into(),
            reference.into(),
            goal.into(),
        ]);
    }

    /// The figures as a Markdown table, then the notes.
    pub fn table(&self) -> String {
        let mut md = String::new();
        md.push_str("| figure | measured | reference, same run | goal |\n|---|---|---|---|\n");
        for [a, b, c, d] in &self.rows {
            md.push_str(&format!("| {a} | {b} | {c} | {d} |\n"));
        }
        md.push_str("\nNotes:\n");
        for note in &self.notes {
            md.push_str(&format!("- {note}\n"));
        }
        md
    }

    pub fn write(&self, out: &str) {
        let mut md = String::new();
        md.push_str("# Benchmarks\n\nOne run of `./scripts/bench.sh` (release builds but for the cold debug builds, loopback, 2 cores shared with the load generator), ");
        md.push_str(&format!("{}.\n\n", time::OffsetDateTime::now_utc().date()));
        md.push_str(&self.table());
        std::fs::write(out, md).unwrap();
    }
}
