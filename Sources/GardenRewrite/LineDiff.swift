/// A line-by-line difference between two texts, for showing what the censor changed
/// (`reveal`), as a unified diff with a few lines of context.
public enum LineDiff {
    public enum Line: Sendable, Equatable {
        case same(String)
        case removed(String)
        case added(String)
    }

    /// The lines of `old` and `new` aligned by their longest common subsequence.
    /// Texts longer than `limit` lines each are compared as one block (removed, added).
    public static func lines(from old: String, to new: String, limit: Int = 4000) -> [Line] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard a.count <= limit, b.count <= limit else { return a.map(Line.removed) + b.map(Line.added) }
        // lengths[i][j]: the LCS length of a[i...] and b[j...], in one flat array.
        let width = b.count + 1
        var lengths = [Int32](repeating: 0, count: (a.count + 1) * width)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i * width + j] = a[i] == b[j]
                    ? lengths[(i + 1) * width + j + 1] + 1
                    : max(lengths[(i + 1) * width + j], lengths[i * width + j + 1])
            }
        }
        var result: [Line] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                result.append(.same(a[i])); i += 1; j += 1
            } else if i < a.count, j == b.count || lengths[(i + 1) * width + j] >= lengths[i * width + j + 1] {
                result.append(.removed(a[i])); i += 1
            } else {
                result.append(.added(b[j])); j += 1
            }
        }
        return result
    }

    /// `@@ -a,b +c,d @@` hunks with `context` unchanged lines around each change.
    public static func unified(from old: String, to new: String, context: Int = 2) -> String {
        let diff = lines(from: old, to: new)
        let changed = diff.indices.filter { if case .same = diff[$0] { false } else { true } }
        guard !changed.isEmpty else { return "" }
        // Group changes whose context overlaps into hunks.
        var hunks: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - context)...min(diff.count - 1, index + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                hunks.append(range)
            }
        }
        var output: [String] = []
        for hunk in hunks {
            var oldLine = 1, newLine = 1
            for line in diff[..<hunk.lowerBound] {
                switch line {
                case .same: oldLine += 1; newLine += 1
                case .removed: oldLine += 1
                case .added: newLine += 1
                }
            }
            let lines = diff[hunk]
            let oldCount = lines.filter { if case .added = $0 { false } else { true } }.count
            let newCount = lines.filter { if case .removed = $0 { false } else { true } }.count
            output.append("@@ -\(oldLine),\(oldCount) +\(newLine),\(newCount) @@")
            for line in lines {
                switch line {
                case .same(let text): output.append(" " + text)
                case .removed(let text): output.append("-" + text)
                case .added(let text): output.append("+" + text)
                }
            }
        }
        return output.joined(separator: "\n")
    }
}
