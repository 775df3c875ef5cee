/// One problem found in a config file, with the place a teacher should look.
///
/// Printed as `Config/sites.yaml:12:7: unknown key 'zome' (did you mean 'zone'?)`,
/// the form compilers and `nginx -t` use, so editors can jump to it.
public struct ConfigDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, as the user named it (relative paths stay relative).
    public var file: String
    /// 1-based line, or 0 when the problem concerns the whole file.
    public var line: Int
    /// 1-based column, counted in Unicode scalars like libyaml does.
    public var column: Int
    /// A plain sentence saying what is wrong and, where possible, how to fix it.
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}

/// Every problem found while reading a configuration, so one run shows them all.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, in the order they were found.
    public var diagnostics: [ConfigDiagnostic]

    public init(_ diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
