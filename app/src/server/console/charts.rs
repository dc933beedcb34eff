//! Charts for the dashboard, drawn as SVG on the server: horizontal bars
//! with their labels and values written out, so the chart reads without
//! JavaScript and a screen reader gets the same figures from its title.

use crate::server::mail::escape_html as escape;
use crate::types::Bar;

const WIDTH: i64 = 560;
const LABEL_W: i64 = 170;
const VALUE_W: i64 = 110;
const ROW_H: i64 = 30;
const BAR_H: i64 = 18;
/// Dark blue on white: 9.6:1, well above AA for the text beside it.
const BAR_FILL: &str = "#1849a9";
const INK: &str = "#101828";

/// A bar chart of `bars` (values ≥ 0; bars scale to the largest).
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let height = ROW_H * bars.len().max(1) as i64 + 10;
    let max = bars.iter().map(|b| b.value.max(0)).max().unwrap_or(0);
    let room = WIDTH - LABEL_W - VALUE_W;
    let summary: Vec<String> = bars.iter().map(|b| format!("{}: {}", b.label, b.display)).collect();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"100%\" role=\"img\" aria-labelledby=\"{id}-t\"><title id=\"{id}-t\">{t}: {s}</title>",
        id = escape(&title.to_lowercase().replace(' ', "-")),
        t = escape(title),
        s = escape(&summary.join("; ")),
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = i as i64 * ROW_H + 6;
        // Integer scaling; a non-zero value always shows at least a sliver.
        let w = if max == 0 { 0 } else { ((bar.value.max(0) as i128 * room as i128) / max as i128) as i64 };
        let w = if bar.value > 0 { w.max(2) } else { 0 };
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{ty}\" font-size=\"13\" fill=\"{INK}\">{label}</text>\
             <rect x=\"{LABEL_W}\" y=\"{y}\" width=\"{w}\" height=\"{BAR_H}\" rx=\"3\" fill=\"{BAR_FILL}\"/>\
             <text x=\"{vx}\" y=\"{ty}\" font-size=\"13\" fill=\"{INK}\">{value}</text>",
            ty = y + 14,
            label = escape(&bar.label),
            vx = LABEL_W + w + 8,
            value = escape(&bar.display),
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: i64) -> Bar {
        Bar { label: label.into(), value, display: format!("{value} <x>") }
    }

    #[test]
    fn bars_scale_to_the_largest_and_text_is_escaped() {
        let svg =
            bar_chart("Aging & more", &[bar("Current", 100), bar("1–30 days", 50), bar("90+", 0), bar("tiny", 1)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // room = 560 - 170 - 110 = 280: 100 → 280, 50 → 140, 0 → 0, 1 → at least 2.
        assert!(svg.contains("width=\"280\""), "{svg}");
        assert!(svg.contains("width=\"140\""));
        assert!(svg.contains("width=\"0\""));
        assert!(svg.contains("width=\"2\""));
        assert!(svg.contains("Aging &amp; more: Current: 100 &lt;x&gt;"), "{svg}");
        assert!(!svg.contains("<x>"));
        // Nothing at all: no division by zero, still a valid chart.
        let empty = bar_chart("Empty", &[]);
        assert!(empty.contains("viewBox=\"0 0 560 40\""), "{empty}");
    }
}
