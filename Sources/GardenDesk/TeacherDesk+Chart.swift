import GardenAudit

/// The Now page's chart: allowed and censored requests over the last five minutes, a
/// small picture per class, drawn as SVG (no script, nothing fetched).
extension TeacherDesk {
    static func classChart(_ series: [(name: String, slices: [DeskStatistics.Tally])]) -> String {
        guard !series.isEmpty else { return "<p>No requests in the last 5 minutes.</p>" }
        let peak = max(series.flatMap { $0.slices.map(\.total) }.max() ?? 1, 1)
        let (barWidth, height) = (12, 48)
        var rows = ""
        for (name, slices) in series {
            var bars = ""
            for (index, slice) in slices.enumerated() where slice.total > 0 {
                let x = index * barWidth
                let allowed = slice.allowed * height / peak
                let censored = max(slice.censored * height / peak, slice.censored > 0 ? 1 : 0)
                let seconds = (slices.count - index) * DeskStatistics.sliceSeconds
                bars += "<g><title>\(seconds) s ago: \(slice.allowed) allowed, \(slice.censored) censored</title>"
                if allowed > 0 { bars += "<rect x=\"\(x)\" y=\"\(height - allowed)\" width=\"\(barWidth - 2)\" height=\"\(allowed)\" fill=\"#5a9e6f\"/>" }
                if censored > 0 {
                    bars += "<rect x=\"\(x)\" y=\"\(height - allowed - censored)\" width=\"\(barWidth - 2)\" height=\"\(censored)\" fill=\"#c8524a\"/>"
                }
                bars += "</g>"
            }
            let width = slices.count * barWidth
            let total = slices.reduce(0) { $0 + $1.total }
            let censored = slices.reduce(0) { $0 + $1.censored }
            rows += """
                <tr><th>\(Self.escape(name))</th><td><svg class="chart" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
                role="img" aria-label="\(Self.escape(name)): \(total) requests, \(censored) censored, in the last 5 minutes">\
                <line x1="0" y1="\(height - 0)" x2="\(width)" y2="\(height)" stroke="#bbb"/>\(bars)</svg></td>\
                <td class="n">\(total)</td><td class="n bad">\(censored)</td></tr>
                """
        }
        return """
            <table class="chart"><tr><th>Class</th><th>5 minutes ago → now (a bar per 10 s: \
            <span class="ok">allowed</span>, <span class="bad">censored</span>)</th><th>requests</th><th>censored</th></tr>\(rows)</table>
            """
    }
}
