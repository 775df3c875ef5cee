/// Where and how the surveillance log is written (`log:` in garden.yaml).
///
/// Without `log:` nothing is written to disk; the teacher's desk still sees every event.
public struct AuditLogSettings: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable, CaseIterable {
        /// One JSON object per line, every field (what `log summary` and `replay` read).
        case json
        /// Apache's and nginx's Combined Log Format, for tools that read access logs.
        case combined
    }

    /// The log file; a relative path is read from the folder the garden was started in.
    public var path: String
    public var format: Format = .json
    /// A file that would grow past this is rotated (`audit.jsonl` → `audit.jsonl.1`, ...).
    public var maxBytes = 16 * 1024 * 1024
    /// How many rotated files are kept besides the current one.
    public var keep = 5
    /// Events waiting to be written; beyond this they are counted as dropped, never waited for.
    public var queueCapacity = 65_536
    /// Lines a second each client may have in the file (bursts of ten seconds' worth);
    /// beyond it, its requests are counted in one line a second. 0: no limit.
    public var perClientRate = 20

    public init(path: String) {
        self.path = path
    }

    static func parse(_ node: ConfigNode) -> AuditLogSettings? {
        guard let keys = node.mapping("log", allowed: ["path", "format", "max_size", "keep", "queue", "per_client_rate"], required: ["path"]),
              let path = keys["path"]?.string("path")
        else { return nil }
        if path.isEmpty {
            keys["path"]?.error("log path is empty; name a file such as logs/audit.jsonl")
            return nil
        }
        var settings = AuditLogSettings(path: path)
        if let format: Format = keys["format"]?.oneOf("format", kind: "log format", plural: "formats") { settings.format = format }
        if let value = keys["max_size"]?.byteCount("max_size", in: 4096...(1 << 40)) { settings.maxBytes = value }
        if let value = keys["keep"]?.integer("keep", in: 0...1000) { settings.keep = value }
        if let value = keys["queue"]?.integer("queue", in: 16...10_000_000) { settings.queueCapacity = value }
        if let value = keys["per_client_rate"]?.integer("per_client_rate", in: 0...1_000_000) { settings.perClientRate = value }
        return settings
    }
}
