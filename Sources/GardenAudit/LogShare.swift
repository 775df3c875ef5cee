import GardenPolicy

/// Each client's share of the audit log file: `rate` lines a second, with bursts of ten
/// seconds' worth (a page and its images, a student clicking around). Beyond it a
/// client's events are not written one by one but counted, and once a second the count
/// is written as one line of its own (`"suppressed": N`): a flood is in the record, and
/// cannot push the lesson's record out through rotation (5 × 16 MiB is about 220,000
/// lines, which one client sends in seconds).
///
/// The live feed, the statistics and the metrics still see every event.
struct LogShare {
    /// Lines a second per client; 0: no limit.
    let rate: Int
    private var buckets: [String: Bucket] = [:]
    private var suppressed: [String: AuditEvent] = [:]
    private var lastFlush: Int64 = 0
    private var lastPrune: Int64 = 0
    /// Clients with a share of their own at most; beyond, new clients share one.
    static let maxClients = 4096
    /// The share of the clients beyond `maxClients`.
    static let otherClients = "(other clients)"

    private struct Bucket {
        var tokens: Double
        var refilled: Int64
    }

    init(rate: Int) {
        self.rate = rate
    }

    /// Whether `event` is written as a line of its own; if not, it is counted for the
    /// client's next summary line.
    mutating func admit(_ event: AuditEvent) -> Bool {
        guard rate > 0 else { return true }
        let burst = Double(rate * 10)
        var client = event.client
        if buckets[client] == nil, buckets.count >= Self.maxClients {
            // Forget the clients whose buckets have filled again (they lose nothing), at most
            // once a second; if the table is still full, the newcomer shares one bucket.
            if event.time - lastPrune >= 1000 {
                lastPrune = event.time
                let now = event.time
                buckets = buckets.filter { Double(now - $0.value.refilled) / 1000 * Double(rate) < burst }
            }
            if buckets.count >= Self.maxClients { client = Self.otherClients }
        }
        var bucket = buckets[client] ?? Bucket(tokens: burst, refilled: event.time)
        let elapsed = Double(max(0, event.time - bucket.refilled)) / 1000
        bucket.tokens = min(burst, bucket.tokens + elapsed * Double(rate))
        bucket.refilled = max(bucket.refilled, event.time)
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 }
        buckets[client] = bucket
        if !admitted { count(event, as: client) }
        return admitted
    }

    /// Counts `event` for the summary line of `client` (its address, or the shared share).
    private mutating func count(_ event: AuditEvent, as client: String) {
        if var summary = suppressed[client] {
            summary.suppressed = (summary.suppressed ?? 0) + 1
            summary.bytes += event.bytes
            summary.time = event.time
            summary.visitorClass = event.visitorClass
            suppressed[client] = summary
        } else {
            suppressed[client] = AuditEvent(
                time: event.time, listener: event.listener, client: client, visitorClass: event.visitorClass,
                account: event.account, method: "-", url: "-", host: "-", rule: nil, action: "suppressed",
                status: 0, bytes: event.bytes, suppressed: 1
            )
        }
    }

    /// The summary lines due (at most one per client a second), or all of them with `force`.
    mutating func dueSummaries(now: Int64, force: Bool = false) -> [AuditEvent] {
        guard !suppressed.isEmpty, force || now - lastFlush >= 1000 else { return [] }
        lastFlush = now
        defer { suppressed = [:] }
        return suppressed.values.sorted { ($0.time, $0.client) < ($1.time, $1.client) }
    }
}
