import GardenPolicy
import Logging

/// What the server log says of the requests, as a periodic summary: the audit log is the
/// record of each request, and the console gets at most one line per `interval` for
/// monitored requests and one for shadow rules' matches, however many there were (a
/// line per request let one student's flood scroll everything else off the teacher's
/// terminal, and grow a file that nothing rotates).
struct ConsoleSummary {
    static let interval: Duration = .seconds(10)
    private var monitored: [String: Int] = [:]
    private var shadowed: [String: Int] = [:]
    private var since = ContinuousClock.now

    /// Counts the monitored requests and shadow matches of `batch`.
    mutating func add(_ batch: [AuditRecord]) {
        for record in batch {
            if record.event.effects.contains("monitor") { monitored[record.event.rule ?? "-", default: 0] += 1 }
            for shadow in record.event.shadow { shadowed["\(shadow.rule) → would \(shadow.action)", default: 0] += 1 }
        }
    }

    /// Logs what was counted, once an interval has passed since the last lines.
    mutating func reportIfDue(to logger: Logger, force: Bool = false) {
        guard force || ContinuousClock.now - since >= Self.interval else { return }
        since = .now
        if !monitored.isEmpty {
            logger.notice("monitored requests (each is in the audit log)", metadata: ["by rule": "\(Self.text(monitored))"])
        }
        if !shadowed.isEmpty {
            logger.info("shadow rules would have acted (each is in the audit log)", metadata: ["matches": "\(Self.text(shadowed))"])
        }
        monitored = [:]
        shadowed = [:]
    }

    private static func text(_ counts: [String: Int]) -> String {
        counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
    }
}
