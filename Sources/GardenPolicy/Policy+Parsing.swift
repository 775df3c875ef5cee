import Foundation

extension Policy {
    /// Parses `policy.yaml`; `lists` holds the files of `Config/lists/` by name (without
    /// `.txt`), for `@name` references in `hosts`.
    ///
    /// - Throws: `ConfigErrors` with one `file:line:column` diagnostic per problem.
    public static func parse(_ source: GardenConfig.Source, lists: [String: GardenConfig.Source] = [:]) throws(ConfigErrors) -> Policy {
        let sink = DiagnosticSink()
        var parser = PolicyParser(sink: sink, lists: lists)
        let policy = parser.parse(source)
        guard sink.isEmpty, let policy else { throw ConfigErrors(sink.diagnostics) }
        return policy
    }
}
