//! The live view of jobs' telemetry: a pane per job showing the latest lines it wrote to
//! its stddbg (fd 3), redrawn in place.
//!
//! Each job's stddbg is read by an [`aria_io::io::LineDrainer`] ([`Overflow::DropOldest`]:
//! a job is never stalled by nobody watching, and a job's queue never holds more than
//! [`QUEUE_BYTES`]). The view takes whole lines from the drainers, keeps the last
//! [`Watch::rows_per_pane`] of each, and draws every pane as whole terminal rows: a line is
//! either shown entire (cut to the terminal's width, control characters escaped) or not at
//! all, so no two jobs' lines can ever be mixed on one row.
//!
//! Redrawing moves the cursor back up over the previous frame and rewrites each row after
//! clearing it (`ESC [ n A`, `ESC [ 2 K`), so the view stays in place below the prompt and
//! nothing scrolls.

use std::collections::VecDeque;
use std::fmt::Write as _;

use aria_io::io::{LineDrainer, Overflow};

/// The bytes of telemetry queued per job between two redraws.
pub(crate) const QUEUE_BYTES: usize = 64 * 1024;

/// A drainer for one job's stddbg, sized and set up as the view expects.
pub(crate) fn drainer() -> LineDrainer {
    LineDrainer::new(QUEUE_BYTES, Overflow::DropOldest)
}

/// One job's pane.
#[derive(Debug)]
pub(crate) struct Pane {
    /// The header: job number, state and command.
    pub(crate) title: String,
    drainer: LineDrainer,
    latest: VecDeque<String>,
    /// Lines seen in all (shown in the header).
    seen: u64,
}

impl Pane {
    pub(crate) fn new(title: String, drainer: LineDrainer) -> Pane {
        Pane { title, drainer, latest: VecDeque::new(), seen: 0 }
    }
}

/// The panes and what was drawn last.
#[derive(Debug)]
pub(crate) struct Watch {
    panes: Vec<Pane>,
    rows_per_pane: usize,
    /// Rows the previous frame took (the cursor is below them).
    drawn: usize,
}

impl Watch {
    /// A view showing the last `rows_per_pane` lines (at least 1) of each pane.
    pub(crate) fn new(panes: Vec<Pane>, rows_per_pane: usize) -> Watch {
        Watch { panes, rows_per_pane: rows_per_pane.max(1), drawn: 0 }
    }

    /// The panes, for updating titles.
    pub(crate) fn panes_mut(&mut self) -> &mut [Pane] {
        &mut self.panes
    }

    /// Takes the lines every drainer holds now; whether any pane changed.
    pub(crate) fn collect(&mut self) -> bool {
        let mut changed = false;
        for pane in &mut self.panes {
            for line in pane.drainer.take_all() {
                pane.seen += 1;
                pane.latest.push_back(String::from_utf8_lossy(&line).into_owned());
                if pane.latest.len() > self.rows_per_pane {
                    pane.latest.pop_front();
                }
                changed = true;
            }
        }
        changed
    }

    /// Whether every job's telemetry stream has ended and been shown.
    pub(crate) fn finished(&self) -> bool {
        self.panes.iter().all(|p| p.drainer.is_closed() && p.drainer.queued_bytes() == 0)
    }

    /// Appends the escape sequences and text that replace the previous frame with the
    /// current one, for a terminal `width` columns wide.
    pub(crate) fn render(&mut self, width: usize, out: &mut String) {
        let width = width.max(8);
        if self.drawn > 0 {
            let _ = write!(out, "\r\x1b[{}A", self.drawn);
        }
        let mut rows = 0;
        for pane in &self.panes {
            let header = format!("── {} ({} lines) ", pane.title, pane.seen);
            row(out, &header, width);
            rows += 1;
            for i in 0..self.rows_per_pane {
                let text = pane.latest.get(i).map_or("", String::as_str);
                row(out, &format!("  {text}"), width);
                rows += 1;
            }
        }
        // A frame shorter than the last one (fewer panes) clears the rows below it.
        for _ in rows..self.drawn {
            out.push_str("\x1b[2K\r\n");
        }
        if self.drawn > rows {
            let _ = write!(out, "\x1b[{}A", self.drawn - rows);
        }
        self.drawn = rows;
    }
}

/// One terminal row: cleared, then `text` with control characters escaped and cut to
/// `width` columns (counting a character as one column), then a new line.
fn row(out: &mut String, text: &str, width: usize) {
    out.push_str("\x1b[2K");
    let mut cols = 0;
    for c in text.chars() {
        let escape = c.is_control().then(|| c.escape_default());
        let n = escape.as_ref().map_or(1, |e| e.len());
        if cols + n > width.saturating_sub(1) {
            out.push('…');
            break;
        }
        match escape {
            Some(e) => out.extend(e),
            None => out.push(c),
        }
        cols += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows a frame leaves on a screen model: applies `ESC [ n A`, `ESC [ 2 K`, `\r`,
    /// `\n` to a grid and returns it.
    fn apply(screen: &mut Vec<String>, cursor: &mut usize, frame: &str) {
        let mut rest = frame;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("\x1b[2K") {
                if screen.len() <= *cursor {
                    screen.resize(*cursor + 1, String::new());
                }
                screen[*cursor].clear();
                rest = r;
            } else if let Some(r) = rest.strip_prefix("\x1b[") {
                let end = r.find('A').expect("only cursor-up sequences");
                *cursor -= r[..end].parse::<usize>().expect("a count");
                rest = &r[end + 1..];
            } else if let Some(r) = rest.strip_prefix("\r\n") {
                *cursor += 1;
                rest = r;
            } else if let Some(r) = rest.strip_prefix('\r') {
                rest = r;
            } else {
                let c = rest.chars().next().expect("not empty");
                if screen.len() <= *cursor {
                    screen.resize(*cursor + 1, String::new());
                }
                screen[*cursor].push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }

    #[test]
    fn each_pane_shows_its_latest_lines_and_redraws_in_place() {
        aria_io::Runtime::new().expect("runtime").block_on(async {
            let mut writers = Vec::new();
            let mut panes = Vec::new();
            for j in 0..3 {
                let (r, w) = aria_io::io::pipe().expect("pipe");
                let d = drainer();
                aria_io::spawn(d.clone().pump(r));
                writers.push(w);
                panes.push(Pane::new(format!("[{}] job{j}", j + 1), d));
            }
            let mut watch = Watch::new(panes, 2);
            let mut screen = Vec::new();
            let mut cursor = 0;
            for round in 0..5 {
                for (j, w) in writers.iter_mut().enumerate() {
                    w.write_all(format!("{{\"job\":{j},\"n\":{round}}}\n").as_bytes()).await.expect("write");
                }
                while watch.panes.iter().map(|p| p.seen).sum::<u64>() < 3 * (round + 1) {
                    watch.collect();
                    aria_io::yield_now().await;
                }
                let mut frame = String::new();
                watch.render(80, &mut frame);
                apply(&mut screen, &mut cursor, &frame);
                assert_eq!(cursor, 9, "the cursor ends below the frame");
            }
            let want: Vec<String> = (0..3)
                .flat_map(|j| {
                    vec![
                        format!("── [{}] job{j} (5 lines) ", j + 1),
                        format!("  {{\"job\":{j},\"n\":3}}"),
                        format!("  {{\"job\":{j},\"n\":4}}"),
                    ]
                })
                .collect();
            assert_eq!(screen, want);
        });
    }

    #[test]
    fn a_row_is_cut_to_the_width_and_control_characters_are_escaped() {
        let mut out = String::new();
        row(&mut out, "ab\tc\x1b[31mred", 12);
        assert_eq!(out, "\x1b[2Kab\\tc\\u{1b}…\r\n");
        let mut out = String::new();
        row(&mut out, "short", 80);
        assert_eq!(out, "\x1b[2Kshort\r\n");
    }
}
