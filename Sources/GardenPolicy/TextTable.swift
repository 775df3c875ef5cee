/// Plain-text tables for the command-line reports (`log summary`, `replay`): columns
/// padded to their widest cell, counted in characters so Korean lines up as well as a
/// terminal allows.
public enum TextTable {
    public static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
        var widths = header.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (column, cell) in cells.enumerated() where column < widths.count {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                let isLast = column == widths.count - 1
                parts.append(rightAligned.contains(column) ? padding + cell : (isLast ? cell : cell + padding))
            }
            return "  " + parts.joined(separator: "  ")
        }
        return [line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)
    }
}
