//! Disclosure control for aggregate tables (DESIGN section 6).
//!
//! An analyst must not be able to learn anything about a group of fewer than k respondents,
//! neither from one answer nor by combining answers. Three rules, applied in order:
//!
//! 1. **Primary**: a cell with fewer than k respondents is suppressed.
//! 2. **Differencing**: the same question asked with one filter removed, or with its date window
//!    widened, is a *neighbour*; subtracting the two answers isolates the respondents in between.
//!    A cell is suppressed when that difference is 1..k-1 for some neighbour. Widening a window
//!    can only add respondents, so checking the nearest non-empty day outside the window covers
//!    every wider window at once; the caller supplies that as a neighbour.
//! 3. **Complementary**: a suppressed cell must not be recoverable from a total. Totals of every
//!    row, column and of the whole table can be had from other queries, so any line (row or
//!    column of a 2-D table, the whole of a 1-D one) that holds exactly one suppressed cell gets
//!    its smallest other cell suppressed too, repeated until no line has a lone suppressed cell.
//!
//! Means and scores are suppressed with their cell: a cell's value is shown only when its count
//! may be.

use std::collections::HashMap;

/// One cell of a table: its key (one value per dimension) and how many respondents are in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub key: Vec<String>,
    pub n: u64,
}

/// Which cells of `cells` must be suppressed, in the same order. `neighbours` are the counts
/// of neighbouring queries, keyed like `cells`; a key a neighbour lacks counts as zero.
pub fn suppress_small_cells(cells: &[Cell], k: u64, neighbours: &[HashMap<Vec<String>, u64>]) -> Vec<bool> {
    let mut suppressed: Vec<bool> = cells
        .iter()
        .map(|cell| {
            cell.n < k
                || neighbours.iter().any(|counts| {
                    let wider = counts.get(&cell.key).copied().unwrap_or(0);
                    let between = wider.saturating_sub(cell.n);
                    between > 0 && between < k
                })
        })
        .collect();
    protect_lines(cells, &mut suppressed);
    suppressed
}

/// Rule 3: no line (set of cells sharing all key parts but one, or the whole table) may hold
/// exactly one suppressed cell.
fn protect_lines(cells: &[Cell], suppressed: &mut [bool]) {
    let dims = cells.first().map_or(0, |c| c.key.len());
    let mut lines: Vec<Vec<usize>> = vec![(0..cells.len()).collect()];
    for free in 0..dims {
        let mut by_rest: HashMap<Vec<&str>, Vec<usize>> = HashMap::new();
        for (i, cell) in cells.iter().enumerate() {
            let rest = cell
                .key
                .iter()
                .enumerate()
                .filter(|(d, _)| *d != free)
                .map(|(_, v)| v.as_str())
                .collect();
            by_rest.entry(rest).or_default().push(i);
        }
        lines.extend(by_rest.into_values());
    }
    // Sort so the outcome never depends on hash order: equal data, byte-equal answers.
    for line in &mut lines {
        line.sort_unstable();
    }
    lines.sort();
    loop {
        let mut changed = false;
        for line in &lines {
            let hidden = line.iter().filter(|&&i| suppressed[i]).count();
            if hidden != 1 || line.len() < 2 {
                continue;
            }
            // The smallest visible cell costs the analyst least; ties go to the first key.
            let partner = line.iter().copied().filter(|&i| !suppressed[i]).min_by(|&a, &b| {
                cells[a]
                    .n
                    .cmp(&cells[b].n)
                    .then_with(|| cells[a].key.cmp(&cells[b].key))
            });
            if let Some(partner) = partner {
                suppressed[partner] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(rows: &[(&[&str], u64)]) -> Vec<Cell> {
        rows.iter()
            .map(|(key, n)| Cell {
                key: key.iter().map(|s| s.to_string()).collect(),
                n: *n,
            })
            .collect()
    }

    fn hidden(cells: &[Cell], flags: &[bool]) -> Vec<String> {
        cells
            .iter()
            .zip(flags)
            .filter(|(_, f)| **f)
            .map(|(c, _)| c.key.join("/"))
            .collect()
    }

    #[test]
    fn small_cells_and_a_partner_are_hidden_in_one_dimension() {
        let table = cells(&[(&["f"], 40), (&["m"], 3), (&["x"], 12), (&["unknown"], 30)]);
        let flags = suppress_small_cells(&table, 11, &[]);
        // m alone would be total - f - x - unknown; x, the smallest other, goes with it.
        assert_eq!(hidden(&table, &flags), vec!["m", "x"]);
    }

    #[test]
    fn nothing_is_hidden_when_every_cell_is_large() {
        let table = cells(&[(&["f"], 40), (&["m"], 11)]);
        assert_eq!(suppress_small_cells(&table, 11, &[]), vec![false, false]);
    }

    #[test]
    fn rows_and_columns_never_hold_a_lone_suppressed_cell() {
        let table = cells(&[
            (&["north", "f"], 50),
            (&["north", "m"], 4),
            (&["north", "x"], 30),
            (&["south", "f"], 45),
            (&["south", "m"], 25),
            (&["south", "x"], 20),
            (&["east", "f"], 60),
            (&["east", "m"], 35),
            (&["east", "x"], 33),
        ]);
        let flags = suppress_small_cells(&table, 11, &[]);
        let hidden = hidden(&table, &flags);
        assert!(hidden.len() >= 4, "{hidden:?}");
        for line in [["north", ""], ["south", ""], ["east", ""]] {
            let count = hidden.iter().filter(|k| k.starts_with(line[0])).count();
            assert_ne!(count, 1, "row {} {hidden:?}", line[0]);
        }
        for column in ["f", "m", "x"] {
            let count = hidden
                .iter()
                .filter(|k| k.ends_with(&format!("/{column}")))
                .count();
            assert_ne!(count, 1, "column {column} {hidden:?}");
        }
    }

    #[test]
    fn a_small_difference_to_a_neighbour_hides_the_cell() {
        // by=gender where area=north, against by=gender with the filter removed.
        let filtered = cells(&[(&["f"], 40), (&["m"], 30)]);
        let unfiltered: HashMap<Vec<String>, u64> =
            [(vec!["f".to_string()], 45), (vec!["m".to_string()], 60)]
                .into_iter()
                .collect();
        let flags = suppress_small_cells(&filtered, 11, &[unfiltered]);
        // f: 45 - 40 = 5 women outside the north would be exposed; m: 30 outside is fine, but
        // m is then the lone visible cell next to a hidden one, so it goes too.
        assert_eq!(flags, vec![true, true]);
    }

    #[test]
    fn ties_are_broken_the_same_way_every_time() {
        let table = cells(&[(&["a"], 12), (&["b"], 2), (&["c"], 12), (&["d"], 12)]);
        let first = suppress_small_cells(&table, 11, &[]);
        for _ in 0..20 {
            assert_eq!(suppress_small_cells(&table, 11, &[]), first);
        }
        assert_eq!(hidden(&table, &first), vec!["a", "b"]);
    }
}
