//! CSV cells as every export writes them (the console's Preview, `usersync report`).

/// One cell: quoted when it holds a separator or quote, and a leading `= + - @`
/// defused, as spreadsheet programs would run it as a formula.
#[must_use]
pub fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One row of cells, ending in a newline.
#[must_use]
pub fn row(cells: &[&str]) -> String {
    let mut line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}
